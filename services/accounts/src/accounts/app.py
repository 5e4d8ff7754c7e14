"""App factory of the accounts service: `uvicorn --factory accounts.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from accounts.api.routers import all_routers
from accounts.application.context import AccountsContext
from accounts.db.base import AuditEvent, IdempotencyRecord
from accounts.settings import Settings, get_settings
from metas_kit.app import create_service_app
from metas_kit.writes import configure_writes

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = create_service_app(
        name="accounts",
        settings=settings,
        routers=all_routers(),
        alembic_ini=ALEMBIC_INI,
        description="People: accounts, grants and locale; password sign-in and sessions; the directory.",
    )
    configure_writes(app, audit=AuditEvent, idempotency=IdempotencyRecord)
    app.state.accounts = AccountsContext.from_settings(settings)
    return app

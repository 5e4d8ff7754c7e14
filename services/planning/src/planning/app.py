"""App factory of the planning service: `uvicorn --factory planning.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from metas_kit.app import create_service_app
from metas_kit.audit import audit_router
from metas_kit.writes import configure_writes
from planning.api.routers import all_routers
from planning.db.base import AuditEvent, IdempotencyRecord
from planning.settings import Settings, get_settings

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = create_service_app(
        name="planning",
        settings=settings,
        routers=[*all_routers(), audit_router(AuditEvent)],
        alembic_ini=ALEMBIC_INI,
        description="Plans, versions, units, objectives, indicators, products and initiatives.",
    )
    configure_writes(app, audit=AuditEvent, idempotency=IdempotencyRecord)
    return app

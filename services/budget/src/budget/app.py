"""App factory of the budget service: `uvicorn --factory budget.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from budget.api.routers import all_routers
from budget.settings import Settings, get_settings
from metas_kit.app import create_service_app

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        name="budget",
        settings=settings,
        routers=all_routers(),
        alembic_ini=ALEMBIC_INI,
        description="PRR investment structure, economic classification, amounts, VAT split and reconciliation.",
    )

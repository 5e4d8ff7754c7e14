"""App factory of the execution service: `uvicorn --factory execution.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from execution.api.routers import all_routers
from execution.settings import Settings, get_settings
from metas_kit.app import create_service_app

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        name="execution",
        settings=settings,
        routers=all_routers(),
        alembic_ini=ALEMBIC_INI,
        description="Monthly execution registrations, deadlines, certification and compliance.",
    )

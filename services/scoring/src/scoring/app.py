"""App factory of the scoring service: `uvicorn --factory scoring.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from metas_kit.app import create_service_app
from scoring.api.routers import all_routers
from scoring.settings import Settings, get_settings

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    return create_service_app(
        name="scoring",
        settings=settings,
        routers=all_routers(),
        alembic_ini=ALEMBIC_INI,
        description="Scoring rules, evaluation runs with immutable snapshots, explanations and simulations.",
    )

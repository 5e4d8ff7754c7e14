"""App factory of the scoring service: `uvicorn --factory scoring.app:create_app`."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
from fastapi import FastAPI

from metas_kit.app import create_service_app
from metas_kit.http import make_client
from scoring.api.routers import all_routers
from scoring.clients.upstreams import ExecutionClient, PlanningClient
from scoring.db import repository
from scoring.metrics import publish_latest
from scoring.settings import Settings, get_settings

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"
log = logging.getLogger("metas.scoring")


def create_app(
    settings: Settings | None = None,
    planning: PlanningClient | None = None,
    execution: ExecutionClient | None = None,
) -> FastAPI:
    """``planning`` / ``execution`` let a caller (tests, an embedded runner) supply its own clients."""
    settings = settings or get_settings()
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None

    def client(url: str) -> httpx.AsyncClient:
        return make_client(url, timeout=settings.upstream_timeout_seconds, service_name="scoring", jwt_secret=secret)

    async def start(app: FastAPI) -> None:
        app.state.planning = planning or PlanningClient(client(settings.planning_url))
        app.state.execution = execution or ExecutionClient(client(settings.execution_url))
        try:
            async with app.state.db.sessionmaker() as session:
                for run in await repository.latest_per_plan(session):
                    publish_latest(run.plan_id, run.summary)
        except Exception:  # metrics must never stop the service from starting
            log.warning("could not publish the latest grades at start", exc_info=True)

    async def stop(app: FastAPI) -> None:
        if planning is None:
            await app.state.planning.aclose()
        if execution is None:
            await app.state.execution.aclose()

    return create_service_app(
        name="scoring",
        settings=settings,
        routers=all_routers(),
        alembic_ini=ALEMBIC_INI,
        on_startup=[start],
        on_shutdown=[stop],
        description="Scoring rules, evaluation runs with immutable snapshots, explanations and simulations.",
    )

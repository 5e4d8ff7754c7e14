"""App factory of the scoring service: `uvicorn --factory scoring.app:create_app`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI

from metas_clients.planning import PlanningClient
from metas_kit.app import create_service_app
from metas_kit.background import Periodic
from metas_kit.http import make_client
from metas_kit.upstream import RevalidationCache
from metas_kit.writes import configure_writes
from scoring.api.routers import all_routers
from scoring.clients.upstreams import ExecutionClient
from scoring.db.base import AuditEvent, IdempotencyRecord
from scoring.metrics import publish_from_database
from scoring.settings import Settings, get_settings

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


def create_app(
    settings: Settings | None = None,
    planning: PlanningClient | None = None,
    execution: ExecutionClient | None = None,
) -> FastAPI:
    """``planning`` / ``execution`` let a caller (tests, an embedded runner) supply its own clients."""
    settings = settings or get_settings()
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None

    # Grades come from the database, not from this process's memory: every replica exports the latest
    # evaluation of each plan, including one made by another replica or before a restart.
    grades = Periodic("grade-gauges", settings.metrics_refresh_seconds, publish_from_database)

    def client(url: str) -> httpx.AsyncClient:
        return make_client(url, timeout=settings.upstream_timeout_seconds, service_name="scoring", jwt_secret=secret)

    async def start(app: FastAPI) -> None:
        app.state.clock = lambda: datetime.now(UTC)  # tests set their own instant
        cache = RevalidationCache(fresh_seconds=settings.planning_revalidate_seconds)
        app.state.planning = planning or PlanningClient(client(settings.planning_url), cache=cache)
        app.state.execution = execution or ExecutionClient(client(settings.execution_url))
        await grades.start(app)

    async def stop(app: FastAPI) -> None:
        await grades.stop(app)
        if planning is None:
            await app.state.planning.aclose()
        if execution is None:
            await app.state.execution.aclose()

    app = create_service_app(
        name="scoring",
        settings=settings,
        routers=all_routers(),
        alembic_ini=ALEMBIC_INI,
        on_startup=[start],
        on_shutdown=[stop],
        description="Scoring rules, evaluation runs with immutable snapshots, explanations and simulations.",
    )
    configure_writes(app, audit=AuditEvent, idempotency=IdempotencyRecord)
    return app

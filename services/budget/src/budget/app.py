"""App factory of the budget service: `uvicorn --factory budget.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from budget.api.routers import all_routers
from budget.application.scope import BudgetState
from budget.db.base import AuditEvent, IdempotencyRecord
from budget.metrics import refresh_once
from budget.settings import Settings, get_settings
from metas_clients.planning import PlanningClient
from metas_kit.app import create_service_app
from metas_kit.audit import audit_router
from metas_kit.background import Periodic
from metas_kit.http import make_client
from metas_kit.upstream import RevalidationCache
from metas_kit.writes import configure_writes

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


async def _open_clients(app: FastAPI) -> None:
    # Tests may have put their own (in-process) client there first.
    if getattr(app.state, "planning_client", None) is None:
        settings = app.state.settings
        http = make_client(
            settings.planning_url,
            timeout=settings.upstream_timeout_seconds,
            service_name="budget",
            jwt_secret=app.state.jwt_secret,
        )
        app.state.planning_client = PlanningClient(http, cache=RevalidationCache(fresh_seconds=5.0))


async def _close_clients(app: FastAPI) -> None:
    client = getattr(app.state, "planning_client", None)
    if client is not None:
        await client.aclose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    gauges = Periodic("budget-gauges", settings.metrics_refresh_seconds, refresh_once)
    app = create_service_app(
        name="budget",
        settings=settings,
        routers=[*all_routers(), audit_router(AuditEvent)],
        alembic_ini=ALEMBIC_INI,
        on_startup=[_open_clients, gauges.start],
        on_shutdown=[gauges.stop, _close_clients],
        description="PRR investment structure, economic classification, amounts, VAT split and reconciliation.",
    )
    app.state.budget = BudgetState(organisation=settings.organisation)
    configure_writes(app, audit=AuditEvent, idempotency=IdempotencyRecord)
    return app

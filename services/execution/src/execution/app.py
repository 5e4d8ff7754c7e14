"""App factory of the execution service: `uvicorn --factory execution.app:create_app`."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request

from execution.api.routers import all_routers
from execution.application.evidence_sweep import evidence_store_hooks
from execution.application.reminder_job import reminder_hooks
from execution.clients.accounts import AccountsClient
from execution.db.base import AuditEvent, IdempotencyRecord
from execution.metrics import COLLECTOR, Snapshot, refresh
from execution.settings import Settings, get_settings
from metas_clients.planning import PlanningClient
from metas_kit.app import create_service_app
from metas_kit.background import Periodic
from metas_kit.errors import UpstreamUnavailable
from metas_kit.http import make_client
from metas_kit.writes import configure_writes

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"


async def _planning_ready(request: Request) -> None:
    client: PlanningClient = request.app.state.planning
    response = await client.http.get("/healthz")
    if response.status_code != 200:
        raise UpstreamUnavailable(f"planning /healthz answered {response.status_code}")


def create_app(
    settings: Settings | None = None, planning: PlanningClient | None = None, accounts: AccountsClient | None = None
) -> FastAPI:
    """``planning`` and ``accounts`` let a caller (tests, an embedded runner) supply its own upstream clients."""
    settings = settings or get_settings()
    start_reminders, stop_reminders = reminder_hooks(settings, accounts)
    start_evidence_store, stop_evidence_store = evidence_store_hooks(settings)
    # The snapshot keeps its last good state when a refresh fails; its timestamp gauge shows the staleness.
    compliance_gauges = Periodic("compliance-gauges", settings.metrics_refresh_seconds, refresh)

    async def start(app: FastAPI) -> None:
        if planning is not None:
            app.state.planning = planning
        else:
            secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
            http = make_client(
                settings.planning_url,
                timeout=settings.upstream_timeout_seconds,
                service_name="execution",
                jwt_secret=secret,
            )
            app.state.planning = PlanningClient(http, revalidate_seconds=settings.planning_revalidate_seconds)
        await compliance_gauges.start(app)

    async def stop(app: FastAPI) -> None:
        await compliance_gauges.stop(app)
        if planning is None:
            await app.state.planning.aclose()
        COLLECTOR.snapshot = Snapshot()  # a stopped service exports no stale gauges

    app = create_service_app(
        name="execution",
        settings=settings,
        routers=all_routers(),
        alembic_ini=ALEMBIC_INI,
        readiness={"planning": _planning_ready},
        on_startup=[start, start_evidence_store, start_reminders],
        on_shutdown=[stop_reminders, stop_evidence_store, stop],
        description="Monthly execution registrations, deadlines, certification and compliance.",
    )
    configure_writes(app, audit=AuditEvent, idempotency=IdempotencyRecord)
    return app

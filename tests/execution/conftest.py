"""Fixtures of the execution API tests.

* A real planning service (its own migrated SQLite database, the two seed plans loaded by
  ``planning.seed``) reached over HTTP through an ASGI transport — no mock of planning.
* The execution service on a fresh migrated database of each backend (PostgreSQL and SQLite),
  with a settable clock so deadline transitions can be tested at chosen instants.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from execution_support import IPSM, PLANS, QUAR, SECRET, Clock, Service, fresh_database, planning_client_for
from fastapi import FastAPI
from harness.databases import fresh_database_async
from sqlalchemy import delete

from execution.app import create_app
from execution.db.base import AuditEvent, IdempotencyRecord
from execution.db.models import (
    LockException,
    OrganisationClosure,
    PeriodLock,
    PlanRegistrationSettings,
    Registration,
    RegistrationVersion,
)
from execution.db.value_checks import ItemValueBounds
from execution.settings import Settings

# ---- planning: the real service with the seed plans -------------------------------------------


@pytest.fixture(scope="session")
async def planning_app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    from planning.app import ALEMBIC_INI as PLANNING_INI
    from planning.app import create_app as create_planning
    from planning.seed import load
    from planning.settings import Settings as PlanningSettings

    url = await fresh_database_async("sqlite", "planning", tmp_path_factory.mktemp("planning"), PLANNING_INI)
    results = await load(PLANS, url)
    assert {r["plan_id"] for r in results} == {IPSM, QUAR}
    app = create_planning(PlanningSettings(database_url=url, jwt_secret=SECRET, log_json=False, log_level="WARNING"))
    async with app.router.lifespan_context(app):
        yield app


# ---- execution databases ----------------------------------------------------------------------


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
async def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    tag = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    return await fresh_database(str(request.param), tag, tmp_path_factory.mktemp("execution"))


@pytest.fixture(scope="module")
async def service(db_url: str, planning_app: FastAPI) -> AsyncIterator[Service]:
    settings = Settings(
        database_url=db_url,
        jwt_secret=SECRET,
        migrate_on_start=False,
        metrics_refresh_seconds=0,
        log_json=False,
        log_level="WARNING",
        planning_url="http://planning.test",
    )
    app = create_app(settings, planning=planning_client_for(planning_app))
    clock = Clock(datetime(2014, 3, 10, 12, tzinfo=UTC))
    app.state.clock = clock
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://execution.test") as http:
            yield Service(app, http, clock)


@pytest.fixture
async def svc(service: Service) -> Service:
    """The module's service with every execution table emptied and the clock reset."""
    async with service.app.state.db.sessionmaker() as session, session.begin():
        for model in (
            RegistrationVersion,
            Registration,
            LockException,
            PeriodLock,
            OrganisationClosure,
            IdempotencyRecord,
            AuditEvent,
            PlanRegistrationSettings,
            ItemValueBounds,
        ):
            await session.execute(delete(model))
    service.clock.set(2014, 3, 10, 12)
    return service

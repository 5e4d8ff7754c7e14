"""Fixtures of the scoring API tests.

Real upstreams, no mocks: the planning service (seed plans loaded by ``planning.seed``) and the
execution service (the scenario registrations imported through its API), both on SQLite and reached
over HTTP through ASGI transports. The scoring service runs on a fresh migrated database of each
backend (PostgreSQL and SQLite).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import yaml
from fastapi import FastAPI
from harness.databases import fresh_database_async
from scoring_support import (
    ADMIN,
    FINAL,
    IPSM,
    PLANS,
    QUAR,
    SECRET,
    Service,
    certify,
    extra_plans,
    final_scenario,
    ipsm_registrations,
    quar_registrations,
)

from metas_clients.planning import PlanningClient
from metas_kit.http import make_client
from scoring.app import ALEMBIC_INI, create_app
from scoring.clients.upstreams import ExecutionClient
from scoring.settings import Settings


def asgi_client(app: FastAPI, name: str) -> httpx.AsyncClient:
    return make_client(
        f"http://{name}.test", transport=httpx.ASGITransport(app=app), jwt_secret=SECRET, service_name="scoring"
    )


@pytest.fixture(scope="session")
async def planning_app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    from planning.app import ALEMBIC_INI as PLANNING_INI
    from planning.app import create_app as create_planning
    from planning.seed import load
    from planning.settings import Settings as PlanningSettings

    url = await fresh_database_async("sqlite", "planning", tmp_path_factory.mktemp("scoring-planning"), PLANNING_INI)
    await load(PLANS, url)
    extra = tmp_path_factory.mktemp("scoring-extra-plans")
    for plan_id, document in extra_plans().items():
        (extra / f"{plan_id}.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    await load(extra, url)
    app = create_planning(PlanningSettings(database_url=url, jwt_secret=SECRET, log_json=False, log_level="WARNING"))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
async def execution_app(planning_app: FastAPI, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    from execution.app import ALEMBIC_INI as EXECUTION_INI
    from execution.app import create_app as create_execution
    from execution.settings import Settings as ExecutionSettings
    from metas_clients.planning import PlanningClient as ExecPlanningClient

    url = await fresh_database_async("sqlite", "execution", tmp_path_factory.mktemp("scoring-execution"), EXECUTION_INI)
    settings = ExecutionSettings(
        database_url=url, jwt_secret=SECRET, metrics_refresh_seconds=0, log_json=False, log_level="WARNING"
    )
    app = create_execution(settings, planning=ExecPlanningClient(asgi_client(planning_app, "planning")))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://execution.test") as http:
            for plan_id, rows in ((IPSM, ipsm_registrations()), (QUAR, quar_registrations()), *final_scenario()):
                response = await http.post(
                    f"/v1/plans/{plan_id}/registrations:import",
                    json={"reason": "scoring test scenario", "registrations": rows},
                    headers=ADMIN,
                )
                assert response.status_code in (200, 201), response.text
            await certify(http, FINAL, "DS-I2", "2014-12")
        yield app


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
async def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    tag = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    return await fresh_database_async(request.param, f"scoring_{tag}", tmp_path_factory.mktemp("scoring"), ALEMBIC_INI)


@pytest.fixture(scope="module")
async def service(db_url: str, planning_app: FastAPI, execution_app: FastAPI) -> AsyncIterator[Service]:
    settings = Settings(database_url=db_url, jwt_secret=SECRET, log_json=False, log_level="WARNING")
    app = create_app(
        settings,
        planning=PlanningClient(asgi_client(planning_app, "planning")),
        execution=ExecutionClient(asgi_client(execution_app, "execution")),
    )
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://scoring.test") as http:
            yield Service(app, http)

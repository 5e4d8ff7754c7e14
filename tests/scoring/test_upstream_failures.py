"""Upstream failures become problem+json 502/503/504 (respx injects the failures only)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import respx
from scoring_support import PLANNER, QUAR, SECRET

from metas_clients.planning import PlanningClient
from metas_kit.http import make_client
from metas_kit.migrations import upgrade_head
from scoring.app import ALEMBIC_INI, create_app
from scoring.clients.upstreams import ExecutionClient
from scoring.settings import Settings

PLANNING = "http://planning.fail"
EXECUTION = "http://execution.fail"


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'scoring.db'}"
    await asyncio.to_thread(upgrade_head, ALEMBIC_INI, url)
    app = create_app(
        Settings(database_url=url, jwt_secret=SECRET, log_json=False, log_level="WARNING"),
        planning=PlanningClient(make_client(PLANNING, timeout=1.0)),
        execution=ExecutionClient(make_client(EXECUTION, timeout=1.0)),
    )
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://scoring.test") as c:
            yield c


@pytest.mark.parametrize(
    ("side_effect", "status"),
    [(httpx.ConnectTimeout("slow"), 504), (httpx.ConnectError("down"), 503), (httpx.Response(500), 502)],
)
async def test_planning_failures(http: httpx.AsyncClient, side_effect: object, status: int) -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{PLANNING}/v1/plans/{QUAR}/tree")
        if isinstance(side_effect, httpx.Response):
            route.mock(return_value=side_effect)
        else:
            route.mock(side_effect=side_effect)
        response = await http.post("/v1/evaluations", json={"plan_id": QUAR}, headers=PLANNER)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    listing = await http.get("/v1/evaluations", headers=PLANNER)
    assert listing.json()["items"] == []  # nothing stored


async def test_execution_failure_after_planning_answered(http: httpx.AsyncClient) -> None:
    tree = {"plan": {"id": QUAR, "framework": "quar", "cycle_year": 2024}, "indicators": []}
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{PLANNING}/v1/plans/{QUAR}/tree").mock(return_value=httpx.Response(200, json=tree))
        mock.get(f"{EXECUTION}/v1/plans/{QUAR}/registrations/current").mock(return_value=httpx.Response(503))
        response = await http.post("/v1/evaluations", json={"plan_id": QUAR}, headers=PLANNER)
    assert response.status_code == 502
    assert "execution" in response.json()["detail"]

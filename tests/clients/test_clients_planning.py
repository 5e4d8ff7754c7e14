"""The one planning client against the real planning service (seed plans, SQLite, reached over HTTP through an
ASGI transport): summaries with the owning organisation, trees revalidated by ETag, items across pages; and the
upstream base's failure mapping against real misbehaving upstreams (a crashing app, a slow one, a closed port)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from harness.databases import fresh_database_async

from metas_clients.planning import PlanningClient
from metas_kit.errors import NotFound, UpstreamError, UpstreamTimeout, UpstreamUnavailable
from metas_kit.http import make_client
from metas_kit.upstream import RevalidationCache, Upstream

ROOT = Path(__file__).resolve().parents[2]
SECRET = "clients-test-secret-" + "x" * 32
IPSM = "ipsm-2014-acordo"
QUAR = "ii-2024-quar"


@pytest.fixture(scope="module")
async def planning_app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    from planning.app import ALEMBIC_INI, create_app
    from planning.seed import load
    from planning.settings import Settings

    url = await fresh_database_async("sqlite", "planning", tmp_path_factory.mktemp("clients-planning"), ALEMBIC_INI)
    await load(ROOT / "data" / "plans", url)
    app = create_app(Settings(database_url=url, jwt_secret=SECRET, log_json=False, log_level="WARNING"))
    async with app.router.lifespan_context(app):
        yield app


class Seen:
    """Records what went over the wire (request headers, response statuses): an event hook, not a mock."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.statuses: list[int] = []

    async def request(self, request: httpx.Request) -> None:
        self.requests.append(request)

    async def response(self, response: httpx.Response) -> None:
        self.statuses.append(response.status_code)


def _client(app: FastAPI, seen: Seen | None = None, *, fresh_seconds: float = 5.0) -> PlanningClient:
    http = make_client(
        "http://planning.test", transport=httpx.ASGITransport(app=app), jwt_secret=SECRET, service_name="t"
    )
    if seen is not None:
        http.event_hooks["request"].append(seen.request)
        http.event_hooks["response"].append(seen.response)
    return PlanningClient(http, cache=RevalidationCache(fresh_seconds=fresh_seconds))


async def test_plan_summary_names_the_owning_organisation(planning_app: FastAPI) -> None:
    client = _client(planning_app)
    plan = await client.plan(QUAR)
    assert (plan.id, plan.organisation_code, plan.cycle_year) == (QUAR, "ii", 2024)
    assert await client.organisation_of(IPSM) == "ipsm"
    with pytest.raises(NotFound):
        await client.plan("no-such-plan")
    await client.aclose()


async def test_a_tree_is_revalidated_by_etag_and_served_from_cache_meanwhile(planning_app: FastAPI) -> None:
    seen = Seen()
    client = _client(planning_app, seen, fresh_seconds=60)
    first = await client.tree(IPSM)
    assert [u["code"] for u in first.document["units"]] == ["PROC", "AUDSEC", "DS", "DP", "DPGF"]
    assert first.etag is not None
    assert first.etag.startswith('"')
    assert first.version == 1
    again = await client.tree(IPSM)
    assert again.document is first.document
    assert len(seen.requests) == 1  # within the fresh window: no call at all
    await client.aclose()

    seen = Seen()
    stale = _client(planning_app, seen, fresh_seconds=0)
    a = await stale.tree(IPSM)
    b = await stale.tree(IPSM)
    assert b.document == a.document
    assert b.etag == a.etag
    assert seen.statuses == [200, 304]  # the second read revalidated, and planning sent no body
    assert seen.requests[1].headers["if-none-match"] == a.etag
    assert seen.requests[1].headers["authorization"].startswith("Bearer ")  # the service identity
    await stale.aclose()


async def test_caches_belong_to_their_client(planning_app: FastAPI) -> None:
    one, two = _client(planning_app), _client(planning_app)
    await one.tree(QUAR)
    assert len(one.cache) == 1
    assert len(two.cache) == 0
    one.forget(QUAR)
    assert len(one.cache) == 0
    await one.aclose()
    await two.aclose()


async def test_items_follow_the_pages_and_unknowns_are_none_or_not_found(planning_app: FastAPI) -> None:
    client = _client(planning_app)
    tree = await client.tree(QUAR)
    initiatives = await client.items(QUAR, "initiatives")
    assert [i["code"] for i in initiatives] == [i["code"] for i in tree.document["initiatives"]]
    assert len(initiatives) > 0
    one = await client.initiative(QUAR, "DAD-01")
    assert one is not None
    assert one["unit_code"] == "DAD"
    assert await client.initiative(QUAR, "NOPE-99") is None
    assert await client.item("no-such-plan", "units", "DS") is None
    with pytest.raises(NotFound):
        await client.items("no-such-plan", "units")
    assert set(await client.plan_ids()) >= {IPSM, QUAR}
    await client.aclose()


# ---- failure mapping against real upstreams that misbehave ----------------------------------------------------
misbehaving = FastAPI()


@misbehaving.get("/crash")
async def crash() -> None:
    raise RuntimeError("upstream bug")


@misbehaving.get("/slow")
async def slow() -> dict[str, str]:
    await asyncio.sleep(2)
    return {"late": "yes"}


@misbehaving.get("/text")
async def text() -> PlainTextResponse:
    return PlainTextResponse("not json")


@misbehaving.get("/refused")
async def refused() -> PlainTextResponse:
    return PlainTextResponse("no", status_code=403)


async def test_upstream_failures_become_the_kits_problems() -> None:
    http = make_client(
        "http://bad.test", transport=httpx.ASGITransport(app=misbehaving, raise_app_exceptions=False), timeout=0.3
    )
    upstream = Upstream(http)
    upstream.service = "bad"
    with pytest.raises(UpstreamError, match="failed \\(500\\)"):
        await upstream.get_json("/crash")
    with pytest.raises(UpstreamError, match="not JSON"):
        await upstream.get_json("/text")
    with pytest.raises(UpstreamError, match="refused this service's identity"):
        await upstream.get_json("/refused")
    await upstream.aclose()


async def test_timeouts_and_unreachable_upstreams() -> None:
    import uvicorn

    from metas_dev.cluster import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(misbehaving, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(250):
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        slow = Upstream(make_client(f"http://127.0.0.1:{port}", timeout=0.3))
        with pytest.raises(UpstreamTimeout):
            await slow.get_json("/slow")
        await slow.aclose()
    finally:
        server.should_exit = True
        await task
    closed = Upstream(make_client(f"http://127.0.0.1:{free_port()}", timeout=0.5))
    with pytest.raises(UpstreamUnavailable):
        await closed.get_json("/anything")
    await closed.aclose()


def test_problem_statuses() -> None:
    statuses: dict[str, Any] = {
        "error": UpstreamError.status,
        "unavailable": UpstreamUnavailable.status,
        "timeout": UpstreamTimeout.status,
    }
    assert statuses == {"error": 502, "unavailable": 503, "timeout": 504}

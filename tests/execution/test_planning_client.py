"""The planning client against the real planning service (ETag revalidation, 404) and, by failure
injection with respx only, the mapping of upstream failures to 502/503/504 problems."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import respx
from execution_support import IPSM, SECRET, fresh_database, planning_client_for
from fastapi import FastAPI

from execution.metrics import compute_snapshot
from metas_clients.planning import PlanningClient
from metas_kit.db import Database
from metas_kit.errors import NotFound, UpstreamError, UpstreamTimeout, UpstreamUnavailable
from metas_kit.http import make_client


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes requests to the real planning app and records (method, path, if-none-match, status)."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.seen: list[tuple[str, str | None, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.seen.append((request.url.path, request.headers.get("if-none-match"), response.status_code))
        return response


async def test_tree_is_cached_and_revalidated_by_etag(planning_app: FastAPI) -> None:
    transport = RecordingTransport(planning_app)
    http = make_client("http://planning.test", transport=transport, jwt_secret=SECRET, service_name="execution")
    client = PlanningClient(http, revalidate_seconds=0)
    first = await client.tree(IPSM)
    second = await client.tree(IPSM)
    assert first.document["plan"]["id"] == IPSM
    assert first.etag is not None
    assert first.version == 1
    assert second.document is first.document  # the 304 kept the cached document
    assert transport.seen == [
        (f"/v1/plans/{IPSM}/tree", None, 200),
        (f"/v1/plans/{IPSM}/tree", first.etag, 304),
    ]
    # Within the revalidation window no request is made at all.
    lazy = PlanningClient(http, revalidate_seconds=60)
    await lazy.tree(IPSM)
    await lazy.tree(IPSM)
    assert len(transport.seen) == 3
    assert set(await client.plan_ids()) >= {IPSM, "ii-2024-quar"}
    await client.aclose()


async def test_unknown_plan_is_not_found(planning_app: FastAPI) -> None:
    client = planning_client_for(planning_app)
    with pytest.raises(NotFound):
        await client.tree("no-such-plan")
    await client.aclose()


@pytest.mark.parametrize(
    ("side_effect", "expected"),
    [
        (httpx.ConnectTimeout("slow"), UpstreamTimeout),
        (httpx.ConnectError("refused"), UpstreamUnavailable),
        (httpx.Response(500, json={"title": "boom"}), UpstreamError),
        (httpx.Response(503), UpstreamError),
    ],
)
async def test_upstream_failures_become_problems(side_effect: object, expected: type[Exception]) -> None:
    with respx.mock(base_url="http://planning.down") as mock:
        mock.get(f"/v1/plans/{IPSM}/tree").mock(side_effect=side_effect)
        client = PlanningClient(httpx.AsyncClient(base_url="http://planning.down"))
        with pytest.raises(expected):
            await client.tree(IPSM)
        await client.aclose()


async def test_metrics_refresh_survives_planning_being_down(tmp_path: Path) -> None:
    """With planning unreachable the refresh logs and exports nothing rather than failing."""
    url = await fresh_database("sqlite", "metrics_down", tmp_path)
    db = Database(url)
    with respx.mock(base_url="http://planning.down") as mock:
        mock.get("/v1/plans").mock(side_effect=httpx.ConnectError("refused"))
        client = PlanningClient(httpx.AsyncClient(base_url="http://planning.down"))
        app = SimpleNamespace(state=SimpleNamespace(db=db, planning=client))
        snap = await compute_snapshot(app)  # type: ignore[arg-type]
        await client.aclose()
    await db.dispose()
    assert snap.counts == {}
    assert snap.next_deadline == {}
    assert snap.refreshed_at is not None

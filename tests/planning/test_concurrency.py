"""Two real concurrent HTTP edits of one draft with the same If-Match: exactly one wins, one gets 412."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from planning_api import PLANNER, VIEWER, fresh_database, make_settings
from planning_seeds import load_plan

from planning.app import create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
async def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """The planning app served by uvicorn on a loopback port (real sockets, real concurrency)."""
    url = await fresh_database(request.param, "concurrency", tmp_path_factory.mktemp("planning"))
    port = free_port()
    config = uvicorn.Config(create_app(make_settings(url)), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve())
    for _ in range(200):
        if srv.started:
            break
        await asyncio.sleep(0.05)
    assert srv.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        await task


async def test_concurrent_edits_of_one_draft_give_exactly_one_412(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        res = await client.post("/v1/plans:import", json=load_plan("ipsm-2014-acordo"), headers=PLANNER)
        assert res.status_code in (200, 201), res.text
        base = "/v1/plans/ipsm-2014-acordo"
        for round_ in range(3):
            etag = (await client.get(f"{base}/versions/1", headers=VIEWER)).headers["etag"]
            headers = {**PLANNER, "if-match": etag}
            a, b = await asyncio.gather(
                client.patch(f"{base}/indicators/DP-I1", json={"formula": f"A{round_}"}, headers=headers),
                client.patch(f"{base}/indicators/DP-I1", json={"formula": f"B{round_}"}, headers=headers),
            )
            assert sorted([a.status_code, b.status_code]) == [200, 412], (a.text, b.text)
            winner = a if a.status_code == 200 else b
            loser = b if winner is a else a
            assert loser.headers["content-type"] == "application/problem+json"
            stored = (await client.get(f"{base}/indicators/DP-I1", headers=VIEWER)).json()["formula"]
            assert stored == winner.json()["formula"]


async def test_concurrent_whole_document_replacements_give_exactly_one_412(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, timeout=30) as client:
        base = "/v1/plans/ipsm-2014-acordo"
        etag = (await client.get(f"{base}/versions/1", headers=VIEWER)).headers["etag"]
        one, two = load_plan("ipsm-2014-acordo"), load_plan("ipsm-2014-acordo")
        one["plan"]["title"] = "Acordo (one)"
        two["plan"]["title"] = "Acordo (two)"
        headers = {**PLANNER, "if-match": etag}
        a, b = await asyncio.gather(
            client.put(f"{base}/versions/1/document", json=one, headers=headers),
            client.put(f"{base}/versions/1/document", json=two, headers=headers),
        )
        assert sorted([a.status_code, b.status_code]) == [200, 412], (a.text, b.text)
        title = (await client.get(f"{base}/tree", headers=VIEWER)).json()["plan"]["title"]
        assert title == ("Acordo (one)" if a.status_code == 200 else "Acordo (two)")

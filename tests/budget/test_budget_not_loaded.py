"""Before the seed is loaded the service answers with a problem, not a crash."""

from __future__ import annotations

import httpx


async def test_nothing_loaded_is_a_409_problem(
    empty_api: httpx.AsyncClient, reader: dict[str, str], writer: dict[str, str]
) -> None:
    resp = await empty_api.get("/v1/budget/reconciliation", headers=reader)
    assert resp.status_code == 409
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["type"].endswith("/budget-not-loaded")
    post = await empty_api.post(
        "/v1/budget/amounts",
        json={
            "breakdown": "subinvestment",
            "subinvestment": "1.1.1",
            "year": 2024,
            "phase": "planned",
            "amount": "1.00",
        },
        headers=writer,
    )
    assert post.status_code == 409
    page = await empty_api.get("/v1/budget/amounts", headers=reader)
    assert page.json() == {"items": [], "next_cursor": None}
    assert (await empty_api.get("/metrics")).status_code == 200

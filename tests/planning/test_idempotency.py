"""Every planning write through the kit's write envelope (PostgreSQL and SQLite): the same Idempotency-Key twice
writes once and replays the first response; the same key with another body (or on another route) is refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from planning_api import ADMIN, PLANNER, Api
from planning_seeds import load_plan

BASE = "/v1/plans/ipsm-2014-acordo"
Call = Callable[[Api, dict[str, str]], Awaitable[httpx.Response]]


async def _audit_count(api: Api) -> int:
    return len((await api.client.get("/v1/audit", params={"limit": 500}, headers=ADMIN)).json()["items"])


async def _etag(api: Api, number: int = 1) -> str:
    return str((await api.client.get(f"{BASE}/versions/{number}", headers=ADMIN)).headers["etag"])


def _document(title: str) -> dict[str, Any]:
    doc = load_plan("ipsm-2014-acordo")
    doc["plan"]["title"] = title
    return doc


async def _imported(api: Api) -> None:
    assert (await api.client.post("/v1/plans:import", json=load_plan("ipsm-2014-acordo"), headers=PLANNER)).is_success


async def _with_extra_unit(api: Api) -> None:
    await _imported(api)
    unit = {"code": "NEW", "name": "Extra", "kind": "department"}
    resp = await api.client.post(f"{BASE}/units", json=unit, headers={**PLANNER, "if-match": await _etag(api)})
    assert resp.status_code == 201, resp.text


async def _approved(api: Api) -> None:
    await _imported(api)
    resp = await api.client.post(f"{BASE}/versions/1:approve", headers={**PLANNER, "if-match": await _etag(api)})
    assert resp.status_code == 200


# (name, set-up, the write, the same write with another body or route)
CASES: list[tuple[str, Callable[[Api], Awaitable[None]], Call, Call]] = [
    (
        "import",
        lambda api: _nothing(),
        lambda api, h: api.client.post("/v1/plans:import", json=_document("A"), headers=h),
        lambda api, h: api.client.post("/v1/plans:import", json=_document("B"), headers=h),
    ),
    (
        "replace document",
        _imported,
        lambda api, h: _with_etag(
            api, h, lambda hh: api.client.put(f"{BASE}/versions/1/document", json=_document("A"), headers=hh)
        ),
        lambda api, h: _with_etag(
            api, h, lambda hh: api.client.put(f"{BASE}/versions/1/document", json=_document("B"), headers=hh)
        ),
    ),
    (
        "approve",
        _imported,
        lambda api, h: _with_etag(api, h, lambda hh: api.client.post(f"{BASE}/versions/1:approve", headers=hh)),
        lambda api, h: _with_etag(api, h, lambda hh: api.client.post(f"{BASE}/versions/2:approve", headers=hh)),
    ),
    (
        "revise",
        _approved,
        lambda api, h: api.client.post(f"{BASE}/versions/1:revise", headers=h),
        lambda api, h: api.client.post(f"{BASE}/versions/2:revise", headers=h),
    ),
    (
        "patch item",
        _imported,
        lambda api, h: _with_etag(
            api, h, lambda hh: api.client.patch(f"{BASE}/units/DS", json={"name": "A"}, headers=hh)
        ),
        lambda api, h: _with_etag(
            api, h, lambda hh: api.client.patch(f"{BASE}/units/DS", json={"name": "B"}, headers=hh)
        ),
    ),
    (
        "add item",
        _imported,
        lambda api, h: _with_etag(
            api,
            h,
            lambda hh: api.client.post(
                f"{BASE}/units", json={"code": "NEW", "name": "A", "kind": "department"}, headers=hh
            ),
        ),
        lambda api, h: _with_etag(
            api,
            h,
            lambda hh: api.client.post(
                f"{BASE}/units", json={"code": "NEW", "name": "B", "kind": "department"}, headers=hh
            ),
        ),
    ),
    (
        "remove item",
        _with_extra_unit,
        lambda api, h: _with_etag(api, h, lambda hh: api.client.delete(f"{BASE}/units/NEW", headers=hh)),
        lambda api, h: _with_etag(api, h, lambda hh: api.client.delete(f"{BASE}/units/DS", headers=hh)),
    ),
]


async def _nothing() -> None:
    return None


# The ETag a retry sends is the one the client read before its first attempt.
_READ: dict[int, str] = {}


async def _with_etag(
    api: Api, headers: dict[str, str], send: Callable[[dict[str, str]], Awaitable[httpx.Response]]
) -> httpx.Response:
    key = id(api)
    if key not in _READ:
        _READ[key] = await _etag(api)
    return await send({**headers, "if-match": _READ[key]})


@pytest.mark.parametrize(("name", "setup", "call", "other"), CASES, ids=[c[0] for c in CASES])
async def test_same_key_replays_the_first_answer_and_another_body_is_refused(
    api: Api, name: str, setup: Callable[[Api], Awaitable[None]], call: Call, other: Call
) -> None:
    _READ.clear()
    await setup(api)
    key = {**PLANNER, "idempotency-key": f"k-{name}"}
    before = await _audit_count(api)
    first = await call(api, key)
    assert first.status_code in (200, 201, 204), first.text
    written = await _audit_count(api)
    assert written > before  # the first one wrote (and was audited)
    again = await call(api, key)
    assert again.status_code == first.status_code
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.content == first.content
    assert again.headers.get("etag") == first.headers.get("etag")
    assert await _audit_count(api) == written  # written once
    reused = await other(api, key)
    assert reused.status_code == 422, reused.text
    assert reused.json()["type"].endswith("/idempotency-key-reused")
    assert await _audit_count(api) == written

"""Unlock requests over HTTP on PostgreSQL and SQLite: a registrar asks to reopen a closed period, a planner
grants (a lock exception the write path honours) or refuses; duplicates, decisions, tenancy and the audit trail.

Seed 004 (ipsm-2014-acordo, organisation ipsm): at the fixture's clock (2014-03-10) every 2014 period is inside
its write window (it closes at the end of 30 January 2015), so a period is closed only when locked.
"""

from __future__ import annotations

import asyncio

import pytest
from execution_support import ADMIN, CERTIFIER, IPSM, PLANNER, QUAR, REG_DS, REG_PROC, SECRET, VIEWER, WHY, Service
from sqlalchemy import delete

from execution.db.unlock_requests import UnlockRequest
from metas_kit.auth import Grant, Principal, issue_token

BASE = f"/v1/plans/{IPSM}/unlock-requests"


def grants_token(sub: str, *grants: Grant) -> dict[str, str]:
    return {"authorization": "Bearer " + issue_token(Principal(sub, grants=grants), SECRET)}


IPSM_PLANNER = grants_token("paula", Grant("planner", "ipsm"))
II_PLANNER = grants_token("ines", Grant("planner", "ii"))
IPSM_REG_DS = grants_token("ana2", Grant("registrar", "ipsm", frozenset({"DS"})))
II_REG_DS = grants_token("rui", Grant("registrar", "ii", frozenset({"DS"})))


@pytest.fixture
async def usvc(service: Service) -> Service:
    # unlock_request points at lock_exception: empty it before the shared fixture empties that table.
    async with service.app.state.db.sessionmaker() as session, session.begin():
        await session.execute(delete(UnlockRequest))
    return service


@pytest.fixture
async def clean(usvc: Service, svc: Service) -> Service:
    return svc


async def lock(svc: Service, period: str) -> None:
    r = await svc.http.put(f"/v1/plans/{IPSM}/locks/{period}", json={"reason": "avaliação"}, headers=PLANNER)
    assert r.status_code == 200, r.text


async def put(svc: Service, item: str, period: str, who: dict[str, str] = REG_DS) -> int:
    body = {"payload": {"value": 7}, "justification": WHY, "reason": "registo"}
    return (await svc.http.put(f"/v1/plans/{IPSM}/registrations/{item}/{period}", json=body, headers=who)).status_code


async def audit_actions(svc: Service, entity_type: str) -> list[str]:
    page = await svc.http.get("/v1/audit", params={"entity_type": entity_type}, headers=ADMIN)
    return sorted(e["action"] for e in page.json()["items"])


async def test_ask_grant_then_the_registrar_writes_until_the_exception_ends(clean: Service) -> None:
    svc = clean
    await lock(svc, "2014-01")
    assert await put(svc, "DS-I4", "2014-01") == 409
    asked = await svc.http.post(
        BASE, json={"period": "2014-01", "item_code": "DS-I4", "reason": "valor de janeiro em falta"}, headers=REG_DS
    )
    assert asked.status_code == 201, asked.text
    req = asked.json()
    assert (req["status"], req["unit_code"], req["requested_by"]) == ("pending", "DS", "ana")
    assert req["requested_at"].startswith("2014-03-10T12:00:00")
    # The planner's queue: pending, oldest first.
    queue = (await svc.http.get(BASE, params={"status": "pending"}, headers=PLANNER)).json()
    assert [r["id"] for r in queue["items"]] == [req["id"]]
    # Certifiers and registrars do not decide.
    until = {"until": "2014-03-20T00:00:00Z"}
    assert (await svc.http.post(f"{BASE}/{req['id']}:grant", json=until, headers=CERTIFIER)).status_code == 403
    assert (await svc.http.post(f"{BASE}/{req['id']}:grant", json=until, headers=REG_DS)).status_code == 403
    granted = await svc.http.post(f"{BASE}/{req['id']}:grant", json={**until, "note": "ok"}, headers=PLANNER)
    assert granted.status_code == 200, granted.text
    body = granted.json()
    assert (body["status"], body["decided_by"], body["decision_reason"]) == ("granted", "paulo", "ok")
    exceptions = (await svc.http.get(f"/v1/plans/{IPSM}/locks/2014-01/exceptions", headers=VIEWER)).json()
    assert [(e["id"], e["item_code"], e["unit_code"]) for e in exceptions] == [
        (body["lock_exception_id"], "DS-I4", "DS")
    ]
    assert exceptions[0]["reason"].startswith(f"Unlock request {req['id']}: valor de janeiro")
    # The exception is the one the write path already honours: this item, not its neighbour, until `until`.
    assert await put(svc, "DS-I4", "2014-01") == 201
    assert await put(svc, "DS-I5", "2014-01") == 409
    svc.clock.set(2014, 3, 20, 0, 0, 0)
    assert await put(svc, "DS-I6", "2014-01") == 409
    # Decided once: a second grant or a refusal afterwards is a conflict.
    again = await svc.http.post(f"{BASE}/{req['id']}:refuse", json={"reason": "não"}, headers=PLANNER)
    assert again.status_code == 409
    assert again.json()["status"] == "granted"
    assert await audit_actions(svc, "unlock_request") == ["unlock_request.create", "unlock_request.grant"]
    assert await audit_actions(svc, "lock_exception") == ["lock_exception.grant"]


async def test_refuse_with_a_reason_and_ask_again(clean: Service) -> None:
    svc = clean
    await lock(svc, "2014-02")
    body = {"period": "2014-02", "unit_code": "DS", "reason": "unidade inteira"}
    first = (await svc.http.post(BASE, json=body, headers=REG_DS)).json()
    duplicate = await svc.http.post(BASE, json=body, headers=REG_DS)
    assert duplicate.status_code == 409
    assert duplicate.json()["id"] == first["id"]
    assert (await svc.http.post(f"{BASE}/{first['id']}:refuse", json={}, headers=PLANNER)).status_code == 422
    refused = await svc.http.post(f"{BASE}/{first['id']}:refuse", json={"reason": "fora de prazo"}, headers=PLANNER)
    assert refused.status_code == 200
    assert (refused.json()["status"], refused.json()["decision_reason"]) == ("refused", "fora de prazo")
    assert refused.json()["lock_exception_id"] is None
    assert await put(svc, "DS-I4", "2014-02") == 409  # nothing was reopened
    # A refused request no longer blocks a new one for the same scope.
    second = await svc.http.post(BASE, json=body, headers=REG_DS)
    assert second.status_code == 201
    listed = (await svc.http.get(BASE, headers=VIEWER)).json()["items"]
    assert [(r["id"], r["status"]) for r in listed] == [(first["id"], "refused"), (second.json()["id"], "pending")]
    # Granting the unit reopens every item of DS for 2014-02, and no other unit.
    grant = {"until": "2014-04-01T00:00:00Z"}
    assert (await svc.http.post(f"{BASE}/{second.json()['id']}:grant", json=grant, headers=PLANNER)).status_code == 200
    assert await put(svc, "DS-I4", "2014-02") == 201
    assert await put(svc, "PROC-I1", "2014-02", who=REG_PROC) == 409
    # Reopened already: asking again is pointless.
    again = await svc.http.post(BASE, json=body, headers=REG_DS)
    assert (again.status_code, again.json()["type"].rsplit("/", 1)[-1]) == (409, "period-open")
    assert await audit_actions(svc, "unlock_request") == [
        "unlock_request.create",
        "unlock_request.create",
        "unlock_request.grant",
        "unlock_request.refuse",
    ]


async def test_bad_requests(clean: Service) -> None:
    svc = clean
    await lock(svc, "2014-01")
    cases = [
        ({"period": "2014-01", "reason": "x"}, 422, "item_code"),  # neither item nor unit
        ({"period": "2014-01", "item_code": "NOPE", "reason": "x"}, 422, "item_code"),
        ({"period": "2014-01", "unit_code": "NOPE", "reason": "x"}, 422, "unit_code"),
        ({"period": "2014-01", "item_code": "DS-I4", "unit_code": "PROC", "reason": "x"}, 422, "unit_code"),
        ({"period": "2013-12", "item_code": "DS-I4", "reason": "x"}, 422, "period"),  # outside the cycle
        ({"period": "2014-13", "item_code": "DS-I4", "reason": "x"}, 422, "body.period"),
        ({"period": "2014-01", "item_code": "DS-I4", "reason": ""}, 422, "body.reason"),
        ({"period": "2014-01", "item_code": "DS-I4", "reason": "x", "extra": 1}, 422, "body.extra"),
    ]
    for body, status, path in cases:
        r = await svc.http.post(BASE, json=body, headers=REG_DS)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert path in [e["path"] for e in r.json()["errors"]], (body, r.json())
    # An open period has nothing to reopen; another unit's item is not the registrar's to ask for.
    open_period = await svc.http.post(
        BASE, json={"period": "2014-02", "item_code": "DS-I4", "reason": "x"}, headers=REG_DS
    )
    assert open_period.status_code == 409
    assert (
        await svc.http.post(BASE, json={"period": "2014-01", "item_code": "DS-I4", "reason": "x"}, headers=REG_PROC)
    ).status_code == 403
    assert (
        await svc.http.post(BASE, json={"period": "2014-01", "unit_code": "DS", "reason": "x"}, headers=VIEWER)
    ).status_code == 403
    missing = await svc.http.post(f"{BASE}/999:grant", json={"until": "2014-04-01T00:00:00Z"}, headers=PLANNER)
    assert missing.status_code == 404
    asked = (
        await svc.http.post(BASE, json={"period": "2014-01", "item_code": "DS-I4", "reason": "x"}, headers=REG_DS)
    ).json()
    past = await svc.http.post(f"{BASE}/{asked['id']}:grant", json={"until": "2014-03-10T12:00:00Z"}, headers=PLANNER)
    assert past.status_code == 422
    naive = await svc.http.post(f"{BASE}/{asked['id']}:grant", json={"until": "2014-04-01T00:00:00"}, headers=PLANNER)
    assert naive.status_code == 422
    # Nothing of the refused grants was written: the request is still pending, no exception exists.
    assert (await svc.http.get(f"{BASE}/{asked['id']}", headers=PLANNER)).json()["status"] == "pending"
    assert (await svc.http.get(f"/v1/plans/{IPSM}/locks/2014-01/exceptions", headers=VIEWER)).json() == []


async def test_tenancy(clean: Service) -> None:
    svc = clean
    await lock(svc, "2014-01")
    body = {"period": "2014-01", "item_code": "DS-I4", "reason": "x"}
    # A registrar of unit DS in organisation ii may not ask for IPSM's DS: the plan is not theirs to see.
    assert (await svc.http.post(BASE, json=body, headers=II_REG_DS)).status_code == 404
    asked = await svc.http.post(BASE, json=body, headers=IPSM_REG_DS)
    assert asked.status_code == 201
    rid = asked.json()["id"]
    # ii's planner sees neither the queue nor the request, and cannot decide it.
    assert (await svc.http.get(BASE, headers=II_PLANNER)).status_code == 404
    assert (await svc.http.get(f"{BASE}/{rid}", headers=II_PLANNER)).status_code == 404
    grant = {"until": "2014-04-01T00:00:00Z"}
    assert (await svc.http.post(f"{BASE}/{rid}:grant", json=grant, headers=II_PLANNER)).status_code == 404
    # The registrar of another IPSM unit sees none of DS's requests.
    assert (await svc.http.get(BASE, headers=REG_PROC)).json()["items"] == []
    assert (await svc.http.get(f"{BASE}/{rid}", headers=REG_PROC)).status_code == 404
    assert [r["id"] for r in (await svc.http.get(BASE, headers=IPSM_REG_DS)).json()["items"]] == [rid]
    assert (await svc.http.post(f"{BASE}/{rid}:grant", json=grant, headers=IPSM_PLANNER)).status_code == 200
    # Another plan's request is not reachable through this plan's path.
    assert (await svc.http.get(f"/v1/plans/{QUAR}/unlock-requests/{rid}", headers=ADMIN)).status_code == 404


async def test_concurrent_requests_and_decisions_each_happen_once(clean: Service) -> None:
    svc = clean
    await lock(svc, "2014-03")
    body = {"period": "2014-03", "item_code": "DS-I4", "reason": "x"}
    asks = await asyncio.gather(*(svc.http.post(BASE, json=body, headers=REG_DS) for _ in range(4)))
    assert sorted(r.status_code for r in asks) == [201, 409, 409, 409]
    rid = next(r.json()["id"] for r in asks if r.status_code == 201)
    grant = {"until": "2014-04-01T00:00:00Z"}
    decisions = await asyncio.gather(
        svc.http.post(f"{BASE}/{rid}:grant", json=grant, headers=PLANNER),
        svc.http.post(f"{BASE}/{rid}:refuse", json={"reason": "não"}, headers=PLANNER),
        svc.http.post(f"{BASE}/{rid}:grant", json=grant, headers=PLANNER),
    )
    assert sorted(r.status_code for r in decisions) == [200, 409, 409]
    exceptions = (await svc.http.get(f"/v1/plans/{IPSM}/locks/2014-03/exceptions", headers=VIEWER)).json()
    winner = next(r.json() for r in decisions if r.status_code == 200)
    assert len(exceptions) == (1 if winner["status"] == "granted" else 0)
    assert len(await audit_actions(svc, "unlock_request")) == 2  # create + the one decision


async def test_a_retried_request_with_its_idempotency_key_is_made_once(clean: Service) -> None:
    svc = clean
    await lock(svc, "2014-01")
    body = {"period": "2014-01", "item_code": "DS-I4", "reason": "x"}
    keyed = {**REG_DS, "idempotency-key": "ask-ds-i4-2014-01"}
    first = await svc.http.post(BASE, json=body, headers=keyed)
    retry = await svc.http.post(BASE, json=body, headers=keyed)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    other = await svc.http.post(BASE, json={**body, "reason": "y"}, headers=keyed)
    assert other.status_code == 422  # the same key for another request
    assert await audit_actions(svc, "unlock_request") == ["unlock_request.create"]


async def test_a_grant_beyond_the_lock_exception_bound_decides_nothing(clean: Service) -> None:
    svc = clean
    await lock(svc, "2014-01")
    asked = await svc.http.post(BASE, json={"period": "2014-01", "item_code": "DS-I4", "reason": "x"}, headers=REG_DS)
    rid = asked.json()["id"]
    # The 2014 cycle's last window closes in January 2015: exceptions end by 1 February 2015 00:00Z at the latest.
    too_late = await svc.http.post(f"{BASE}/{rid}:grant", json={"until": "2015-02-01T00:00:01Z"}, headers=PLANNER)
    assert too_late.status_code == 422, too_late.text
    assert [e["path"] for e in too_late.json()["errors"]] == ["until"]
    assert (await svc.http.get(f"{BASE}/{rid}", headers=PLANNER)).json()["status"] == "pending"
    ok = await svc.http.post(f"{BASE}/{rid}:grant", json={"until": "2015-02-01T00:00:00Z"}, headers=PLANNER)
    assert ok.status_code == 200, ok.text

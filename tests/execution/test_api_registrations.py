"""Registrations over HTTP on PostgreSQL and SQLite: versions, ETags, deadline transitions,
certification, locks and exceptions, the write window, concurrency and idempotency.

Seed 004 (ipsm-2014-acordo, BR-MG calendar, America/Sao_Paulo = UTC-3 in March 2014):
period 2014-02 is due on Tue 18 March 2014 (Carnival 3-4 March skipped, see
test_calendars_deadlines.py), so its deadline instant is 2014-03-19T00:00-03:00 = 03:00Z.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from execution_support import (
    ADMIN,
    CERTIFIER,
    IPSM,
    PLANNER,
    REG_DS,
    REG_PROC,
    SERVICE,
    VIEWER,
    WHY,
    Service,
)
from sqlalchemy import event

BASE = f"/v1/plans/{IPSM}/registrations"


async def put(
    svc: Service,
    item: str,
    period: str,
    payload: dict[str, Any],
    *,
    who: dict[str, str] = REG_DS,
    if_match: str | None = None,
    key: str | None = None,
    reason: str | None = "registo mensal",
    extra: dict[str, str] | None = None,
    justification: str | None = WHY,
) -> httpx.Response:
    headers = dict(who)
    if if_match:
        headers["if-match"] = if_match
    if key:
        headers["idempotency-key"] = key
    headers.update(extra or {})
    return await svc.http.put(
        f"{BASE}/{item}/{period}",
        json={"payload": payload, "reason": reason, "justification": justification},
        headers=headers,
    )


async def test_resubmitting_the_same_value_at_the_same_instant_is_a_new_version(svc: Service) -> None:
    # The service clock does not move between the two calls: nothing but the version differs.
    first = await put(svc, "DS-I2", "2014-03", {"value": "51000"})
    assert first.status_code == 201, first.text
    again = await put(svc, "DS-I2", "2014-03", {"value": "51000"}, if_match=first.headers["etag"])
    assert again.status_code == 200, again.text
    assert again.json()["version"] == 2
    history = await svc.http.get(f"{BASE}/DS-I2/2014-03/versions", headers=VIEWER)
    assert [v["number"] for v in history.json()["versions"]] == [1, 2]


async def test_create_read_update_with_versions(svc: Service) -> None:
    created = await put(svc, "DS-I1", "2014-02", {"value": "97.1"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["version"] == 1
    assert body["payload"] == {"value": "97.1", "note": None}
    assert body["certification"] == "submitted"
    assert body["due_date"] == "2014-03-18"
    assert body["deadline"] == "2014-03-19T03:00:00Z"
    assert body["status"] == "on_time"  # clock: 2014-03-10T12:00Z, before the due day ends
    etag = created.headers["etag"]

    got = await svc.http.get(f"{BASE}/DS-I1/2014-02", headers=VIEWER)
    assert got.status_code == 200
    assert got.headers["etag"] == etag
    assert (await svc.http.get(f"{BASE}/DS-I1/2014-02", headers={**VIEWER, "if-none-match": etag})).status_code == 304

    # An update needs If-Match: 428 without, 412 with a stale tag, 200 with the current one.
    missing = await put(svc, "DS-I1", "2014-02", {"value": "97.2"})
    assert missing.status_code == 428
    stale = await put(svc, "DS-I1", "2014-02", {"value": "97.2"}, if_match='"reg-0-v9"')
    assert stale.status_code == 412
    assert stale.json()["current_etag"] == etag
    svc.clock.set(2014, 3, 20, 15)  # after the deadline: a correction keeps the status on_time
    updated = await put(
        svc,
        "DS-I1",
        "2014-02",
        {"numerator": 971, "denominator": 1000, "multiplier": 100},
        if_match=etag,
        reason="corrigido: base de cálculo",
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == 2
    assert updated.json()["payload"]["value"] == "97.1"  # 971 / 1000 × 100
    assert updated.json()["status"] == "on_time"
    assert updated.headers["etag"] != etag

    history = (await svc.http.get(f"{BASE}/DS-I1/2014-02/versions", headers=VIEWER)).json()
    assert history["current_version"] == 2
    assert [(v["number"], v["action"], v["created_by"], v["reason"]) for v in history["versions"]] == [
        (1, "submit", "ana", "registo mensal"),
        (2, "submit", "ana", "corrigido: base de cálculo"),
    ]
    assert history["versions"][0]["payload"]["value"] == "97.1"
    assert history["versions"][1]["created_at"].startswith("2014-03-20T15:00")

    audit = (await svc.http.get("/v1/audit?entity_type=registration", headers=ADMIN)).json()["items"]
    assert [a["action"] for a in audit] == ["registration.submit", "registration.submit"]
    assert audit[0]["changes"]["version"] == [1, 2]


async def test_pending_missing_late_and_on_time_transitions(svc: Service) -> None:
    async def status_of(item: str) -> str:
        rows = (
            await svc.http.get(f"/v1/plans/{IPSM}/status?period=2014-02&unit_code=DS&limit=500", headers=VIEWER)
        ).json()["items"]
        return next(r["status"] for r in rows if r["item_code"] == item)

    # 18 March 2014, 23:59:59 in Belo Horizonte (UTC-3) = 19 March 02:59:59Z: still on time.
    svc.clock.set(2014, 3, 19, 2, 59, 59)
    assert await status_of("DS-I2") == "pending"
    assert (await put(svc, "DS-I2", "2014-02", {"value": 1})).json()["status"] == "on_time"
    # Local midnight: the due day is over. Unregistered items turn missing...
    svc.clock.set(2014, 3, 19, 3, 0, 0)
    assert await status_of("DS-I3") == "missing"
    assert await status_of("DS-I2") == "on_time"
    # ...and become late once registered.
    late = await put(svc, "DS-I3", "2014-02", {"value": 2})
    assert late.json()["status"] == "late"
    assert await status_of("DS-I3") == "late"
    # Filter by status.
    rows = (
        await svc.http.get(f"/v1/plans/{IPSM}/status?period=2014-02&unit_code=DS&status=late", headers=VIEWER)
    ).json()["items"]
    assert [r["item_code"] for r in rows] == ["DS-I3"]


async def test_certification_workflow(svc: Service) -> None:
    created = await put(
        svc,
        "DS-P01",
        "2014-03",
        {"completeness": "partial", "delivered_on": "2014-03-28", "evidence": ["SEI 1500.01/2014"]},
    )
    assert created.status_code == 201, created.text
    etag = created.headers["etag"]
    url = f"{BASE}/DS-P01/2014-03"

    # A registrar cannot certify; a certifier needs If-Match.
    assert (await svc.http.post(f"{url}:certify", headers={**REG_DS, "if-match": etag})).status_code == 403
    assert (await svc.http.post(f"{url}:certify", headers=CERTIFIER)).status_code == 428

    # Reject needs a reason; then it is rejected with the reason kept.
    no_reason = await svc.http.post(f"{url}:reject", json={"reason": ""}, headers={**CERTIFIER, "if-match": etag})
    assert no_reason.status_code == 422
    rejected = await svc.http.post(
        f"{url}:reject", json={"reason": "evidência ilegível"}, headers={**CERTIFIER, "if-match": etag}
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["certification"] == "rejected"
    assert rejected.json()["rejection_reason"] == "evidência ilegível"
    etag = rejected.headers["etag"]

    # Rejecting again or certifying a rejected registration is an illegal transition (409).
    again = await svc.http.post(f"{url}:reject", json={"reason": "x"}, headers={**CERTIFIER, "if-match": etag})
    assert again.status_code == 409
    assert again.json()["type"].endswith("/illegal-transition")
    cert_rejected = await svc.http.post(f"{url}:certify", headers={**CERTIFIER, "if-match": etag})
    assert cert_rejected.status_code == 409
    assert cert_rejected.json()["state"] == "rejected"

    # The registrar resubmits a new value; the certifier certifies it.
    resubmitted = await put(
        svc,
        "DS-P01",
        "2014-03",
        {"completeness": "full", "delivered_on": "2014-03-28", "evidence": ["SEI 1500.01/2014", "ofício 12"]},
        if_match=etag,
        reason="evidência legível anexada",
    )
    assert resubmitted.status_code == 200
    assert resubmitted.json()["certification"] == "submitted"
    assert resubmitted.json()["rejection_reason"] is None
    certified = await svc.http.post(f"{url}:certify", headers={**CERTIFIER, "if-match": resubmitted.headers["etag"]})
    assert certified.status_code == 200
    assert (certified.json()["certification"], certified.json()["certified_by"]) == ("certified", "carla")

    snapshot = (await svc.http.get(f"{BASE}/current?period_to=2014-03&item_code=DS-P01", headers=VIEWER)).json()
    assert [(r["period"], r["certified"]) for r in snapshot["items"]] == [
        ("2014-01", False),
        ("2014-02", False),
        ("2014-03", True),
    ]

    # A new value of a certified registration sends it back for certification (changed since certified): version
    # 5, submitted, flagged, and certified_version still names version 4 (the certify), so the change can be seen.
    changed = await put(
        svc,
        "DS-P01",
        "2014-03",
        {"completeness": "full", "delivered_on": "2014-03-29", "evidence": ["SEI 1500.01/2014", "ofício 13"]},
        if_match=certified.headers["etag"],
        reason="data de entrega corrigida",
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["version"], body["certification"], body["changed_since_certified"], body["certified_version"]) == (
        5,
        "submitted",
        True,
        4,
    )
    assert (body["certified_by"], body["certified_at"], body["payload"]["delivered_on"]) == (None, None, "2014-03-29")

    history = (await svc.http.get(f"{url}/versions", headers=VIEWER)).json()["versions"]
    assert [(v["action"], v["certification"], v["reason"]) for v in history] == [
        ("submit", "submitted", "registo mensal"),
        ("reject", "rejected", "evidência ilegível"),
        ("submit", "submitted", "evidência legível anexada"),
        ("certify", "certified", None),
        ("submit", "submitted", "data de entrega corrigida"),
    ]
    # Scoring's snapshot no longer counts it as certified: the new value is not certified until certified again.
    snapshot = (await svc.http.get(f"{BASE}/current?period_to=2014-03&item_code=DS-P01", headers=VIEWER)).json()
    march = snapshot["items"][-1]
    assert (march["period"], march["certification"], march["certified"], march["payload"]["delivered_on"]) == (
        "2014-03",
        "submitted",
        False,
        "2014-03-29",
    )
    # Certifying again clears the flag and moves certified_version to the new certify version (6).
    again_certified = await svc.http.post(f"{url}:certify", headers={**CERTIFIER, "if-match": changed.headers["etag"]})
    assert again_certified.status_code == 200, again_certified.text
    again_body = again_certified.json()
    assert (again_body["certification"], again_body["changed_since_certified"], again_body["certified_version"]) == (
        "certified",
        False,
        6,
    )


async def test_lock_gives_409_and_an_exception_allows_the_write(svc: Service) -> None:
    first = await put(svc, "DS-I4", "2014-01", {"value": 10})
    assert first.status_code == 201
    # The scoring service locks a period after evaluating it (role `service`); relocking is a no-op.
    lock = await svc.http.put(
        f"/v1/plans/{IPSM}/locks/2014-01", json={"reason": "avaliação do 1º mês"}, headers=SERVICE
    )
    relock = await svc.http.put(f"/v1/plans/{IPSM}/locks/2014-01", json={"reason": "outra"}, headers=PLANNER)
    assert relock.json()["locked_by"] == "service:scoring"
    assert (
        await svc.http.put(f"/v1/plans/{IPSM}/locks/2014-02", json={"reason": "x"}, headers=REG_DS)
    ).status_code == 403
    assert lock.status_code == 200, lock.text
    assert [x["period"] for x in (await svc.http.get(f"/v1/plans/{IPSM}/locks", headers=VIEWER)).json()] == ["2014-01"]

    refused = await put(svc, "DS-I4", "2014-01", {"value": 11}, if_match=first.headers["etag"])
    assert refused.status_code == 409
    assert refused.json()["reason"] == "locked"
    assert refused.json()["period"] == "2014-01"
    assert (await put(svc, "DS-I5", "2014-01", {"value": 1})).json()["reason"] == "locked"
    certify = await svc.http.post(
        f"{BASE}/DS-I4/2014-01:certify", headers={**CERTIFIER, "if-match": first.headers["etag"]}
    )
    assert certify.status_code == 409
    assert certify.json()["reason"] == "locked"

    exc = await svc.http.post(
        f"/v1/plans/{IPSM}/locks/2014-01/exceptions",
        json={"item_code": "DS-I4", "until": "2014-03-31T00:00:00Z", "reason": "erro material"},
        headers=PLANNER,
    )
    assert exc.status_code == 201, exc.text
    allowed = await put(svc, "DS-I4", "2014-01", {"value": 11}, if_match=first.headers["etag"])
    assert allowed.status_code == 200
    assert allowed.json()["version"] == 2
    # The exception names one item: another item of the period stays locked.
    assert (await put(svc, "DS-I5", "2014-01", {"value": 1})).status_code == 409
    # After `until`, the exception no longer applies.
    svc.clock.set(2014, 3, 31, 0, 0, 1)
    late = await put(svc, "DS-I4", "2014-01", {"value": 12}, if_match=allowed.headers["etag"])
    assert late.status_code == 409
    assert late.json()["reason"] == "locked"
    # Unlocking is an admin action.
    assert (await svc.http.delete(f"/v1/plans/{IPSM}/locks/2014-01", headers=PLANNER)).status_code == 403
    assert (await svc.http.delete(f"/v1/plans/{IPSM}/locks/2014-01", headers=ADMIN)).status_code == 204
    assert (await put(svc, "DS-I5", "2014-01", {"value": 1})).status_code == 201


async def test_a_certified_value_in_a_locked_period_needs_a_lock_exception_like_any_other(svc: Service) -> None:
    first = await put(svc, "DS-I3", "2014-01", {"value": 10})
    assert first.status_code == 201, first.text
    certified = await svc.http.post(
        f"{BASE}/DS-I3/2014-01:certify", headers={**CERTIFIER, "if-match": first.headers["etag"]}
    )
    assert certified.status_code == 200, certified.text
    etag = certified.headers["etag"]
    lock = await svc.http.put(f"/v1/plans/{IPSM}/locks/2014-01", json={"reason": "avaliação final"}, headers=SERVICE)
    assert lock.status_code == 200, lock.text
    # Locked (the evaluation's lock): the certified value is refused like any value, reason "locked", unchanged.
    refused = await put(svc, "DS-I3", "2014-01", {"value": 11}, if_match=etag)
    assert (refused.status_code, refused.json()["reason"]) == (409, "locked")
    unchanged = (await svc.http.get(f"{BASE}/DS-I3/2014-01", headers=VIEWER)).json()
    assert (unchanged["version"], unchanged["certification"], unchanged["payload"]["value"]) == (2, "certified", "10")
    # Under a lock exception for the item, the new value goes back for certification.
    exc = await svc.http.post(
        f"/v1/plans/{IPSM}/locks/2014-01/exceptions",
        json={"item_code": "DS-I3", "until": "2014-03-31T00:00:00Z", "reason": "erro material"},
        headers=PLANNER,
    )
    assert exc.status_code == 201, exc.text
    allowed = await put(svc, "DS-I3", "2014-01", {"value": 11}, if_match=etag)
    assert allowed.status_code == 200, allowed.text
    body = allowed.json()
    assert (body["version"], body["certification"], body["changed_since_certified"], body["certified_version"]) == (
        3,
        "submitted",
        True,
        2,
    )


async def test_two_writers_of_a_certified_value_with_one_etag_one_wins(svc: Service) -> None:
    first = await put(svc, "DS-I6", "2014-01", {"value": 5})
    certified = await svc.http.post(
        f"{BASE}/DS-I6/2014-01:certify", headers={**CERTIFIER, "if-match": first.headers["etag"]}
    )
    etag = certified.headers["etag"]
    a, b = await asyncio.gather(
        put(svc, "DS-I6", "2014-01", {"value": 6}, if_match=etag, reason="writer A"),
        put(svc, "DS-I6", "2014-01", {"value": 7}, if_match=etag, reason="writer B"),
    )
    assert sorted([a.status_code, b.status_code]) == [200, 412], (a.text, b.text)
    winner = a if a.status_code == 200 else b
    history = (await svc.http.get(f"{BASE}/DS-I6/2014-01/versions", headers=VIEWER)).json()["versions"]
    assert [(v["action"], v["certification"]) for v in history] == [
        ("submit", "submitted"),
        ("certify", "certified"),
        ("submit", "submitted"),
    ]
    assert history[2]["payload"]["value"] == winner.json()["payload"]["value"]
    now = (await svc.http.get(f"{BASE}/DS-I6/2014-01", headers=VIEWER)).json()
    assert (now["changed_since_certified"], now["certified_version"]) == (True, 2)


async def test_expired_write_window(svc: Service) -> None:
    # 2014 periods close at the end of Fri 30 January 2015 (last business day of January in BR-MG),
    # i.e. 2015-01-31T02:00Z (Belo Horizonte was on summer time, UTC-2, in January 2015).
    svc.clock.set(2015, 1, 31, 1, 59)
    assert (await put(svc, "DS-I6", "2014-06", {"value": 3})).status_code == 201
    svc.clock.set(2015, 1, 31, 2, 0)
    refused = await put(svc, "DS-I6", "2014-07", {"value": 3})
    assert refused.status_code == 409
    assert refused.json()["reason"] == "expired"
    assert "2015-01-30" in refused.json()["detail"]
    body = {"unit_code": "DS", "until": "2015-02-10T00:00:00Z", "reason": "recurso deferido"}
    keyed = {**CERTIFIER, "idempotency-key": "exc-ds-2014-07"}
    unit_exc = await svc.http.post(f"/v1/plans/{IPSM}/locks/2014-07/exceptions", json=body, headers=keyed)
    assert unit_exc.status_code == 201
    retry = await svc.http.post(f"/v1/plans/{IPSM}/locks/2014-07/exceptions", json=body, headers=keyed)
    assert retry.status_code == 201
    assert retry.json()["id"] == unit_exc.json()["id"]
    listed = (await svc.http.get(f"/v1/plans/{IPSM}/locks/2014-07/exceptions", headers=VIEWER)).json()
    assert len(listed) == 1
    assert (await put(svc, "DS-I6", "2014-07", {"value": 3})).status_code == 201


async def test_access_and_validation(svc: Service) -> None:
    # A registrar writes only for the units in the token.
    assert (await put(svc, "DS-I1", "2014-01", {"value": 1}, who=REG_PROC)).status_code == 403
    assert (await put(svc, "DS-I1", "2014-01", {"value": 1}, who=VIEWER)).status_code == 403
    assert (await svc.http.put(f"{BASE}/DS-I1/2014-01", json={"payload": {"value": 1}})).status_code == 401
    # Unknown item, period outside the cycle, malformed period.
    assert (await put(svc, "XX-I9", "2014-01", {"value": 1})).status_code == 404
    assert (await put(svc, "DS-I1", "2015-01", {"value": 1})).status_code == 404
    assert (await put(svc, "DS-I1", "2014-13", {"value": 1})).status_code == 422
    bad = await put(svc, "DS-I1", "2014-01", {"numerator": 1, "denominator": 0})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "payload.denominator"
    assert "zero" in bad.json()["errors"][0]["message"]
    product = await put(svc, "DS-P01", "2014-01", {"completeness": "full", "delivered_on": "2014-01-20"})
    assert product.status_code == 422
    assert "evidence" in product.json()["errors"][0]["message"]
    unknown_plan = await svc.http.get("/v1/plans/nope-2099/registrations", headers=VIEWER)
    assert unknown_plan.status_code == 404
    assert unknown_plan.headers["content-type"].startswith("application/problem+json")


async def test_two_concurrent_writers_one_wins_the_other_gets_412(svc: Service) -> None:
    first = await put(svc, "DS-I5", "2014-02", {"value": 50})
    etag = first.headers["etag"]
    a, b = await asyncio.gather(
        put(svc, "DS-I5", "2014-02", {"value": 51}, if_match=etag, reason="writer A"),
        put(svc, "DS-I5", "2014-02", {"value": 52}, if_match=etag, reason="writer B"),
    )
    assert sorted([a.status_code, b.status_code]) == [200, 412], (a.text, b.text)
    winner = a if a.status_code == 200 else b
    history = (await svc.http.get(f"{BASE}/DS-I5/2014-02/versions", headers=VIEWER)).json()["versions"]
    assert len(history) == 2
    assert history[1]["payload"]["value"] == winner.json()["payload"]["value"]

    # Two concurrent creates with If-None-Match: * → one 201, the other 412.
    c, d = await asyncio.gather(
        put(svc, "DS-I6", "2014-02", {"value": 1}, extra={"if-none-match": "*"}),
        put(svc, "DS-I6", "2014-02", {"value": 2}, extra={"if-none-match": "*"}),
    )
    assert sorted([c.status_code, d.status_code]) == [201, 412], (c.text, d.text)


async def test_an_update_reads_the_registration_once_and_still_refuses_a_stale_tag(svc: Service) -> None:
    """The preconditions' read of the row is the one the write works on (no second SELECT of it); a stale
    If-Match is still a 412 and the row stays as it was."""
    first = await put(svc, "DS-I4", "2014-02", {"value": 10})
    assert first.status_code == 201
    reads: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        flat = " ".join(statement.split()).lower()
        # The read of one registration by its key (plan, item, period) — not the certified history before it.
        if flat.startswith("select") and "from registration " in flat and "registration.period =" in flat:
            reads.append(flat)

    engine = svc.app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        second = await put(svc, "DS-I4", "2014-02", {"value": 11}, if_match=first.headers["etag"])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert second.status_code == 200, second.text
    assert second.json()["version"] == 2
    assert len(reads) == 1, reads
    stale = await put(svc, "DS-I4", "2014-02", {"value": 12}, if_match=first.headers["etag"])
    assert stale.status_code == 412
    now = await svc.http.get(f"{BASE}/DS-I4/2014-02", headers=VIEWER)
    assert now.json()["payload"]["value"] == "11"
    assert now.headers["etag"] == second.headers["etag"]


async def test_a_new_version_is_four_statements(svc: Service) -> None:
    """One PUT of a new version of an indicator: one read (the plan's settings and closures, the registration,
    its period's lock, the item's bounds and certified history), the version-guarded UPDATE, the version row,
    the audit row. A round trip added to the hot write shows here."""
    first = await put(svc, "DS-I4", "2014-02", {"value": 10})
    assert first.status_code == 201
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        flat = " ".join(statement.split()).lower()
        if not flat.startswith("begin"):  # SQLite's BEGIN IMMEDIATE goes through the cursor, asyncpg's does not
            statements.append(flat)

    engine = svc.app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        second = await put(svc, "DS-I4", "2014-02", {"value": 11}, if_match=first.headers["etag"])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert second.status_code == 200, second.text
    shapes = [" ".join(s.split()[:3]) for s in statements]
    assert [s.split()[0] for s in statements] == ["select", "update", "insert", "insert"], shapes
    for table in ("plan_registration_settings", "organisation_closure", "period_lock", "item_value_bounds"):
        assert table in statements[0], (table, statements[0])
    assert statements[1].startswith("update registration ")
    assert {s.split()[2] for s in statements[2:]} == {"registration_version", "audit_event"}, shapes


async def test_idempotent_retry_returns_the_same_response(svc: Service) -> None:
    first = await put(svc, "DS-I2", "2014-01", {"value": 7}, key="k-ds-i2-jan")
    svc.clock.set(2014, 3, 11, 9)
    retry = await put(svc, "DS-I2", "2014-01", {"value": 7}, key="k-ds-i2-jan")
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry.headers["etag"] == first.headers["etag"]
    assert retry.headers["idempotent-replayed"] == "true"
    history = (await svc.http.get(f"{BASE}/DS-I2/2014-01/versions", headers=VIEWER)).json()["versions"]
    assert len(history) == 1
    # The same key with another body is refused.
    other = await put(svc, "DS-I2", "2014-01", {"value": 8}, key="k-ds-i2-jan")
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")


async def test_list_is_paginated_and_filtered(svc: Service) -> None:
    for item in ("DS-I1", "DS-I2", "DS-I3"):
        for period in ("2014-01", "2014-02"):
            assert (await put(svc, item, period, {"value": 1})).status_code == 201
    seen: list[tuple[str, str]] = []
    url = f"{BASE}?unit_code=DS&limit=4"
    while url:
        page = (await svc.http.get(url, headers=VIEWER)).json()
        seen += [(r["period"], r["item_code"]) for r in page["items"]]
        url = f"{BASE}?unit_code=DS&limit=4&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert seen == sorted(seen)
    assert len(seen) == 6
    only_feb = (await svc.http.get(f"{BASE}?period=2014-02", headers=VIEWER)).json()["items"]
    assert {r["period"] for r in only_feb} == {"2014-02"}
    assert len(only_feb) == 3

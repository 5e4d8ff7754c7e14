"""Bad input is a 4xx naming the field and never stored; what is valid is stored exactly as sent (issue 17), on
PostgreSQL and SQLite. Also: bounded payloads and lock exceptions, tamper-proof cursors, segregation of duties and
strong If-Match on certify/reject.

Seed 004 (ipsm-2014-acordo): 2014-02 is due Tue 18 March 2014, so at the fixture's clock (10 March 2014) its
window is open; DS-I1 is an indicator of unit DS, DS-P01 a product of DS.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from execution_support import ADMIN, CERTIFIER, IPSM, PLANNER, QUAR, REG_DS, SECRET, SERVICE, VIEWER, WHY, Service

from metas_kit.auth import Grant, Principal, issue_token

BASE = f"/v1/plans/{IPSM}/registrations"

# Each is refused by the one number grammar (docs/api/execution.md, "Numbers").
BAD_NUMBERS = [
    "1e30",
    "1" * 30,
    "1e999999",
    "1e-999999",
    "1E+999999999999",
    "9" * 4000,
    "\u0661\u0662\u0663",  # Arabic-Indic 123
    "\uff11\uff12\uff13",  # full-width 123
    "1_000",
    " 5 \n",
    "NaN",
    "Infinity",
    "-inf",
    "",
    1.5,  # a JSON float loses the digits as sent
    True,
    [1],
    {"v": 1},
]


def person(sub: str, *grants: tuple[str, str, tuple[str, ...]]) -> dict[str, str]:
    principal = Principal(sub, grants=[Grant(role, org, frozenset(units)) for role, org, units in grants])
    return {"authorization": "Bearer " + issue_token(principal, SECRET)}


async def put(svc: Service, item: str, period: str, payload: Any, who: dict[str, str] = REG_DS, **headers: str) -> Any:
    body = {"payload": payload, "justification": WHY}
    return await svc.http.put(f"{BASE}/{item}/{period}", json=body, headers={**who, **headers})


async def nothing_stored(svc: Service, item: str = "DS-I1", period: str = "2014-02") -> bool:
    return (await svc.http.get(f"{BASE}/{item}/{period}", headers=VIEWER)).status_code == 404


@pytest.mark.parametrize("bad", BAD_NUMBERS, ids=[repr(b)[:24] for b in BAD_NUMBERS])
async def test_a_bad_value_is_a_422_naming_the_field_and_nothing_is_stored(svc: Service, bad: Any) -> None:
    for key, payload in (
        ("value", {"value": bad}),
        ("numerator", {"numerator": bad, "denominator": "4"}),
        ("denominator", {"numerator": "4", "denominator": bad}),
    ):
        resp = await put(svc, "DS-I1", "2014-02", payload)
        assert resp.status_code == 422, (key, resp.text[:300])
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert [e["path"] for e in resp.json()["errors"]] == [f"payload.{key}"]
    assert await nothing_stored(svc)
    # The same through the bulk import: the row and the field are named, nothing is imported.
    rows = [
        {"item_code": "DS-I2", "period": "2014-02", "payload": {"value": "7"}, "justification": WHY},
        {"item_code": "DS-I1", "period": "2014-02", "payload": {"numerator": bad, "denominator": "2"}},
    ]
    resp = await svc.http.post(f"/v1/plans/{IPSM}/registrations:import", json={"registrations": rows}, headers=SERVICE)
    assert resp.status_code == 422, resp.text[:300]
    assert [(e["row"], e["path"]) for e in resp.json()["errors"]] == [(1, "registrations[1].payload.numerator")]
    assert await nothing_stored(svc, "DS-I2")


async def test_progress_and_completeness_follow_the_grammar_too(svc: Service) -> None:
    svc.clock.set(2024, 3, 10, 12)
    das = f"/v1/plans/{QUAR}/registrations/DAS-05/2024-02"
    for bad in ("1e1", "１０", "10_0", " 10", "100.001", "-1", 12.5):
        resp = await svc.http.put(das, json={"payload": {"cumulative_percent": bad}}, headers=ADMIN)
        assert resp.status_code == 422, (bad, resp.text[:300])
        assert resp.json()["errors"][0]["path"] == "payload.cumulative_percent"
    ok = await svc.http.put(das, json={"payload": {"cumulative_percent": "40.50"}}, headers=ADMIN)
    assert ok.status_code == 201, ok.text[:300]
    assert ok.json()["payload"]["cumulative_percent"] == "40.50"  # as sent, trailing zero kept
    svc.clock.set(2014, 3, 10, 12)
    for bad in ("FULL", " full", 1, "done"):
        resp = await put(svc, "DS-P01", "2014-02", {"completeness": bad})
        assert resp.status_code == 422, (bad, resp.text[:300])
        assert resp.json()["errors"][0]["path"] == "payload.completeness"
    for evidence in (5, "abc", [1], ["x" * 501], ["ok"] * 51):
        payload = {"completeness": "full", "delivered_on": "2014-02-20", "evidence": evidence}
        resp = await put(svc, "DS-P01", "2014-02", payload)
        assert resp.status_code == 422, (evidence, resp.text[:300])
        assert resp.json()["errors"][0]["path"] == "payload.evidence"
    assert await nothing_stored(svc, "DS-P01")


async def test_valid_numbers_are_stored_exactly_as_sent_and_ratios_never_raise(svc: Service) -> None:
    value = await put(svc, "DS-I1", "2014-02", {"value": "0012.500"})
    assert value.status_code == 201, value.text[:300]
    assert value.json()["payload"]["value"] == "0012.500"  # not 12.5, not 12.500: the text as sent
    stored = (await svc.http.get(f"{BASE}/DS-I1/2014-02/versions", headers=VIEWER)).json()["versions"]
    assert stored[0]["payload"]["value"] == "0012.500"
    # 1 / 3 × 100 = 33.3333…, quantised to 6 places half up: 33.333333 (inputs kept as sent).
    ratio = await put(svc, "DS-I2", "2014-02", {"numerator": "1", "denominator": "3.0", "multiplier": 100})
    assert ratio.status_code == 201, ratio.text[:300]
    assert {k: ratio.json()["payload"][k] for k in ("value", "numerator", "denominator", "multiplier")} == {
        "value": "33.333333",
        "numerator": "1",
        "denominator": "3.0",
        "multiplier": "100",
    }
    # The largest numerator over the smallest denominator is far beyond a measure: refused, not stored, no 500.
    huge = await put(svc, "DS-I3", "2014-02", {"numerator": "9999999999.999999", "denominator": "0.000001"})
    assert huge.status_code == 422, huge.text[:300]
    assert huge.json()["errors"][0]["path"] == "payload.numerator"
    zero = await put(svc, "DS-I3", "2014-02", {"numerator": "5", "denominator": "0.000"})
    assert zero.status_code == 422
    assert zero.json()["errors"][0]["path"] == "payload.denominator"
    assert await nothing_stored(svc, "DS-I3")


async def test_payloads_and_texts_are_bounded(svc: Service) -> None:
    deep = '{"payload": ' + '{"a": ' * 300 + "1" + "}" * 300 + "}"
    resp = await svc.http.put(
        f"{BASE}/DS-I1/2014-02", content=deep, headers={**REG_DS, "content-type": "application/json"}
    )
    assert resp.status_code == 422, resp.text[:300]
    assert resp.headers["content-type"].startswith("application/problem+json")
    long_note = await put(svc, "DS-I1", "2014-02", {"value": "1", "note": "n" * 4001})
    assert long_note.status_code == 422
    assert long_note.json()["errors"][0]["path"] == "payload.note"
    reason = await svc.http.put(
        f"{BASE}/DS-I1/2014-02",
        json={"payload": {"value": "1"}, "justification": WHY, "reason": "r" * 2001},
        headers=REG_DS,
    )
    assert reason.status_code == 422
    assert await nothing_stored(svc)
    fits = await put(svc, "DS-I1", "2014-02", {"value": "1", "note": "n" * 4000})
    assert fits.status_code == 201
    assert fits.json()["payload"]["note"] == "n" * 4000


async def test_lock_exceptions_end_within_the_cycle_and_its_closing_month(svc: Service) -> None:
    url = f"/v1/plans/{IPSM}/locks/2014-02/exceptions"
    for until in ("9999-12-31T23:59:59-01:00", "2014-03-10T12:00:00", "not a date"):
        resp = await svc.http.post(url, json={"until": until, "reason": "x"}, headers=PLANNER)
        assert resp.status_code == 422, (until, resp.text[:300])
    # 2014's last window closes at the end of Fri 30 January 2015: exceptions may run to 1 February 2015 00:00Z.
    late = await svc.http.post(url, json={"until": "2015-02-01T00:00:01Z", "reason": "x"}, headers=PLANNER)
    assert late.status_code == 422
    assert late.json()["errors"][0]["path"] == "until"
    assert "2015-02-01T00:00:00+00:00" in late.json()["errors"][0]["message"]
    ok = await svc.http.post(url, json={"until": "2015-02-01T00:00:00Z", "reason": "x"}, headers=PLANNER)
    assert ok.status_code == 201, ok.text[:300]
    assert ok.json()["until"] == "2015-02-01T00:00:00Z"


@pytest.mark.parametrize(
    "path",
    [BASE, f"/v1/plans/{IPSM}/status", f"/v1/obligations?plan_id={IPSM}&"],
)
async def test_tampered_cursors_are_400(svc: Service, path: str) -> None:
    sep = "&" if "?" in path else "?"
    for cursor in ("abc", "eyJuIjoiYWJjIn0", "e30", "x" * 3000, "[[[[[[[[[[[[[[[[[[[["):
        resp = await svc.http.get(f"{path}{sep}cursor={cursor}", headers=ADMIN)
        assert resp.status_code in (400, 414), (cursor[:20], resp.status_code, resp.text[:200])
        assert resp.headers["content-type"].startswith("application/problem+json")


async def test_a_cursor_of_another_list_is_refused(svc: Service) -> None:
    for item in ("DS-I1", "DS-I2", "DS-I3"):
        assert (await put(svc, item, "2014-02", {"value": "1"})).status_code == 201
    regs = (await svc.http.get(f"{BASE}?limit=1", headers=ADMIN)).json()
    assert regs["next_cursor"]
    status = await svc.http.get(f"/v1/plans/{IPSM}/status?cursor={regs['next_cursor']}", headers=ADMIN)
    assert status.status_code == 400
    stat = (await svc.http.get(f"/v1/plans/{IPSM}/status?limit=1", headers=ADMIN)).json()
    other = await svc.http.get(f"{BASE}?cursor={stat['next_cursor']}", headers=ADMIN)
    assert other.status_code == 400


# ---- segregation of duties and strong If-Match ------------------------------------------------------------------
ANA = person("ana", ("registrar", "ipsm", ("DS",)), ("certifier", "ipsm", ()))
BRUNO = person("bruno", ("registrar", "ipsm", ("DS",)), ("certifier", "ipsm", ()))


async def decide(svc: Service, verb: str, who: dict[str, str], if_match: str | None, **body: str) -> Any:
    headers = {**who, **({"if-match": if_match} if if_match is not None else {})}
    return await svc.http.post(f"{BASE}/DS-I1/2014-02:{verb}", json=body or None, headers=headers)


async def test_the_registrant_cannot_certify_or_reject_their_own_value(svc: Service) -> None:
    first = await put(svc, "DS-I1", "2014-02", {"value": "3"}, who=ANA)
    etag = first.headers["etag"]
    for verb, body in (("certify", {}), ("reject", {"reason": "no"})):
        own = await decide(svc, verb, ANA, etag, **body)
        assert own.status_code == 403, own.text[:300]
        assert own.json()["type"].endswith("/self-certification")
    assert (await svc.http.get(f"{BASE}/DS-I1/2014-02", headers=VIEWER)).json()["certification"] == "submitted"
    # Another certifier may; the registrant of an older version may decide on a newer one by default.
    second = await put(svc, "DS-I1", "2014-02", {"value": "4"}, who=BRUNO, **{"if-match": etag})
    assert second.status_code == 200
    done = await decide(svc, "certify", ANA, second.headers["etag"])
    assert done.status_code == 200, done.text[:300]
    assert done.json()["certified_by"] == "ana"


async def test_a_plan_may_forbid_every_registrant_and_never_loosen_it(svc: Service) -> None:
    settings = f"/v1/plans/{IPSM}/registration-settings"
    strict = await svc.http.put(settings, json={"certifier_independence": "registration"}, headers=PLANNER)
    assert strict.status_code == 200, strict.text[:300]
    assert strict.json()["certifier_independence"] == "registration"
    loosen = await svc.http.put(
        settings, json={"certifier_independence": "version"}, headers={**PLANNER, "if-match": strict.headers["etag"]}
    )
    assert loosen.status_code == 422
    assert loosen.json()["errors"][0]["path"] == "certifier_independence"
    kept = await svc.http.put(settings, json={}, headers={**PLANNER, "if-match": strict.headers["etag"]})
    assert kept.status_code == 200
    assert kept.json()["certifier_independence"] == "registration"  # omitted: the stricter rule stays
    first = await put(svc, "DS-I1", "2014-02", {"value": "3"}, who=ANA)
    second = await put(svc, "DS-I1", "2014-02", {"value": "4"}, who=BRUNO, **{"if-match": first.headers["etag"]})
    refused = await decide(svc, "certify", ANA, second.headers["etag"])
    assert refused.status_code == 403
    assert refused.json()["certifier_independence"] == "registration"
    assert (await decide(svc, "certify", CERTIFIER, second.headers["etag"])).status_code == 200


async def test_certify_and_reject_need_the_exact_strong_etag(svc: Service) -> None:
    first = await put(svc, "DS-I1", "2014-02", {"value": "3"})
    etag = first.headers["etag"]
    assert etag.startswith('"')
    for verb, body in (("certify", {}), ("reject", {"reason": "no"})):
        missing = await decide(svc, verb, CERTIFIER, None, **body)
        assert missing.status_code == 428, missing.text[:200]
        for tag in ("*", f"W/{etag}", '"reg-0-v0"'):
            resp = await decide(svc, verb, CERTIFIER, tag, **body)
            assert resp.status_code == 412, (verb, tag, resp.text[:200])
    assert (await svc.http.get(f"{BASE}/DS-I1/2014-02", headers=VIEWER)).json()["certification"] == "submitted"
    assert (await decide(svc, "certify", CERTIFIER, etag)).status_code == 200


# ---- every write route honours Idempotency-Key ------------------------------------------------------------------
async def _audit_count(svc: Service) -> int:
    events = await svc.http.get("/v1/audit?limit=200", headers=ADMIN)
    assert events.status_code == 200, events.text[:200]
    return len(events.json()["items"])


async def test_every_write_route_replays_a_repeated_key_and_refuses_it_for_another_body(svc: Service) -> None:
    reg = await put(svc, "DS-I4", "2014-02", {"value": "1"})
    exc = await svc.http.post(
        f"/v1/plans/{IPSM}/locks/2014-01/exceptions",
        json={"until": "2014-04-01T00:00:00Z", "reason": "e"},
        headers=PLANNER,
    )
    assert exc.status_code == 201
    await svc.http.put(f"/v1/plans/{IPSM}/locks/2014-05", json={"reason": "evaluated"}, headers=PLANNER)
    await svc.http.put("/v1/organisations/ipsm/closures/2014-06-02", json={"name": "Dia B"}, headers=PLANNER)
    # (method, path, who, body, another body, extra headers)
    routes: list[tuple[str, str, dict[str, str], Any, Any, dict[str, str]]] = [
        (
            "PUT",
            f"{BASE}/DS-I5/2014-02",
            REG_DS,
            {"payload": {"value": "1"}, "justification": WHY},
            {"payload": {"value": "2"}, "justification": WHY},
            {},
        ),
        (
            "POST",
            f"/v1/plans/{IPSM}/registrations:import",
            SERVICE,
            {
                "registrations": [
                    {"item_code": "DS-I6", "period": "2014-02", "payload": {"value": "1"}, "justification": WHY}
                ]
            },
            {
                "registrations": [
                    {"item_code": "DS-I6", "period": "2014-02", "payload": {"value": "2"}, "justification": WHY}
                ]
            },
            {},
        ),
        (
            "POST",
            f"{BASE}/DS-I4/2014-02:reject",
            CERTIFIER,
            {"reason": "a"},
            {"reason": "b"},
            {"if-match": reg.headers["etag"]},
        ),
        ("PUT", f"/v1/plans/{IPSM}/registration-settings", PLANNER, {"closing_month": 1}, {"closing_month": 2}, {}),
        ("PUT", f"/v1/plans/{IPSM}/locks/2014-04", PLANNER, {"reason": "a"}, {"reason": "b"}, {}),
        ("DELETE", f"/v1/plans/{IPSM}/locks/2014-05", ADMIN, None, None, {}),
        (
            "POST",
            f"/v1/plans/{IPSM}/locks/2014-02/exceptions",
            PLANNER,
            {"unit_code": "DS", "until": "2014-04-01T00:00:00Z", "reason": "a"},
            {"unit_code": "DS", "until": "2014-04-01T00:00:00Z", "reason": "b"},
            {},
        ),
        ("DELETE", f"/v1/plans/{IPSM}/locks/2014-01/exceptions/{exc.json()['id']}", PLANNER, None, None, {}),
        ("PUT", "/v1/organisations/ipsm/closures/2014-06-03", PLANNER, {"name": "Dia A"}, {"name": "Dia C"}, {}),
        ("DELETE", "/v1/organisations/ipsm/closures/2014-06-02", PLANNER, None, None, {}),
    ]
    for index, (method, path, who, body, other, extra) in enumerate(routes):
        key = {"idempotency-key": f"hardening-{index}"}
        before = await _audit_count(svc)
        first = await svc.http.request(method, path, json=body, headers={**who, **extra, **key})
        assert first.status_code in (200, 201, 204), (method, path, first.text[:300])
        after_first = await _audit_count(svc)
        assert after_first == before + 1, (method, path)
        again = await svc.http.request(method, path, json=body, headers={**who, **extra, **key})
        assert again.status_code == first.status_code, (method, path, again.text[:300])
        assert again.headers.get("idempotent-replayed") == "true", (method, path)
        if first.status_code != 204:
            assert again.json() == first.json()
        assert await _audit_count(svc) == after_first, (method, path)  # written once
        # The same key with another body — or, for a DELETE, on another resource — is refused before anything.
        other_path = path.rsplit("/", 1)[0] + "/2014-07" if method == "DELETE" else path
        reused = await svc.http.request(method, other_path, json=other, headers={**who, **extra, **key})
        assert reused.status_code == 422, (method, path, reused.status_code, reused.text[:300])
        assert reused.headers["content-type"].startswith("application/problem+json")
        assert await _audit_count(svc) == after_first


def test_bad_numbers_cover_each_form_named_by_the_issue() -> None:
    forms = {json.dumps(b) for b in BAD_NUMBERS}
    for named in ('"1e30"', '"1e999999"', '"1e-999999"', '"1_000"', '" 5 \\n"'):
        assert named in forms


# ---- the registration PUT takes its envelope directly (metas_kit.writes.direct_write) ---------------------------
async def test_the_put_refuses_a_too_long_idempotency_key_as_the_declared_header_does_and_stores_nothing(
    svc: Service,
) -> None:
    too_long = await put(svc, "DS-I1", "2014-02", {"value": "1"}, **{"Idempotency-Key": "k" * 201})
    assert too_long.status_code == 422
    assert too_long.headers["content-type"] == "application/problem+json"
    assert "Idempotency-Key" in too_long.text
    assert await nothing_stored(svc)
    longest = await put(svc, "DS-I1", "2014-02", {"value": "1"}, **{"Idempotency-Key": "k" * 200})
    assert longest.status_code == 201
    # the envelope's headers stay documented on the route
    spec = (await svc.http.get("/openapi.json")).json()
    op = spec["paths"][f"{BASE}/{{item_code}}/{{period}}".replace(f"/{IPSM}/", "/{plan_id}/")]["put"]
    headers = {p["name"]: p for p in op["parameters"] if p["in"] == "header"}
    assert set(headers) == {"Idempotency-Key", "If-Match", "If-None-Match"}
    assert headers["Idempotency-Key"]["schema"]["maxLength"] == 200

"""Justifications of deviations, out-of-history warnings and "changed since certified" (docs/domain.md §2.5–2.6,
docs/api/execution.md "Justifications and warnings"), on both backends.

Bands worked by hand from the seed plans (data/plans):
- QUAR Ind.1: higher-is-better, M = 90, T = 3 → [87, 93]; Ind.4: lower-is-better, M = 35, T = 5 → [30, 40].
- Acordo DS-I2: general, higher-is-better, meta 53000 → short below 53000; DS-I1: general, lower-is-better,
  meta 97 → short above 97; AUDSEC-I1: ratio (rewards a higher result), meta 95 → short below 95;
  DPGF-I01: threshold with a meta table → no band; DPGF-I02: weighted composite → no band.
"""

from __future__ import annotations

from typing import Any

import pytest
from execution_support import ADMIN, CERTIFIER, IPSM, PLANNER, QUAR, REG_DS, VIEWER, WHY, Service, token

REG_II = token("registrar", sub="rui", units=("II",))
QREGS = f"/v1/plans/{QUAR}/registrations"
IREGS = f"/v1/plans/{IPSM}/registrations"


async def put(
    svc: Service,
    regs: str,
    item: str,
    period: str,
    value: str,
    *,
    who: dict[str, str],
    justification: str | None = None,
    etag: str | None = None,
) -> Any:
    body: dict[str, Any] = {"payload": {"value": value}}
    if justification is not None:
        body["justification"] = justification
    headers = {**who, **({"if-match": etag} if etag else {})}
    return await svc.http.put(f"{regs}/{item}/{period}", json=body, headers=headers)


def refused_for_justification(resp: Any) -> bool:
    body = resp.json()
    return (
        resp.status_code == 422
        and resp.headers["content-type"].startswith("application/problem+json")
        and body["type"] == "https://metas.dev/problems/justification-required"
        and [(e["path"], e["type"]) for e in body["errors"]] == [("justification", "justification_required")]
    )


async def test_quar_needs_a_justification_outside_the_tolerance_band_on_either_side(svc: Service) -> None:
    svc.clock.set(2024, 2, 5, 12)
    # Ind.1 [87, 93]: below and above both need one; the edges do not.
    for value in ("86.99", "93.01", "120"):
        resp = await put(svc, QREGS, "Ind.1", "2024-01", value, who=REG_II)
        assert refused_for_justification(resp), (value, resp.text[:300])
        assert resp.json()["justification_band"] == {"rule": "tolerance_band", "meta": "90", "min": "87", "max": "93"}
    assert (await svc.http.get(f"{QREGS}/Ind.1/2024-01", headers=VIEWER)).status_code == 404  # nothing stored
    first = await put(svc, QREGS, "Ind.1", "2024-01", "87", who=REG_II)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["justification"], body["justification_required"]) == (None, False)
    edge = await put(svc, QREGS, "Ind.1", "2024-01", "93", who=REG_II, etag=first.headers["etag"])
    assert edge.status_code == 200, edge.text
    # Blank text is no justification.
    blank = await put(
        svc, QREGS, "Ind.1", "2024-01", "95", who=REG_II, justification="  \n ", etag=edge.headers["etag"]
    )
    assert refused_for_justification(blank)
    why = "Campanha extraordinária de resolução de pedidos em janeiro."
    over = await put(svc, QREGS, "Ind.1", "2024-01", "95", who=REG_II, justification=why, etag=edge.headers["etag"])
    assert over.status_code == 200, over.text
    assert (over.json()["justification"], over.json()["justification_required"]) == (why, True)
    versions = (await svc.http.get(f"{QREGS}/Ind.1/2024-01/versions", headers=VIEWER)).json()["versions"]
    assert [(v["payload"]["value"], v["justification"]) for v in versions] == [("87", None), ("93", None), ("95", why)]
    # Lower-is-better Ind.4 [30, 40]: 41 minutes and 29 minutes both deviate, 30 and 40 do not.
    for value in ("41", "29"):
        assert refused_for_justification(await put(svc, QREGS, "Ind.4", "2024-01", value, who=REG_II)), value
    assert (await put(svc, QREGS, "Ind.4", "2024-01", "40", who=REG_II)).status_code == 201
    # The justification is bounded like a note: 4000 characters.
    long = await put(svc, QREGS, "Ind.4", "2024-02", "41", who=REG_II, justification="x" * 4001)
    assert long.status_code == 422
    assert [e["path"] for e in long.json()["errors"]] == ["body.justification"]


@pytest.mark.parametrize(
    ("item", "short", "enough"),
    [
        ("DS-I2", "52999.99", "53000"),  # higher-is-better, meta 53000
        ("DS-I1", "97.01", "97"),  # lower-is-better, meta 97
        ("AUDSEC-I1", "94.9", "95"),  # ratio: a higher result is better, meta 95
    ],
)
async def test_acordo_needs_a_justification_short_of_the_meta(svc: Service, item: str, short: str, enough: str) -> None:
    svc.clock.set(2014, 6, 20, 12)
    refused = await put(svc, IREGS, item, "2014-02", short, who=ADMIN)
    assert refused_for_justification(refused), refused.text[:300]
    ok = await put(svc, IREGS, item, "2014-02", enough, who=ADMIN)
    assert ok.status_code == 201, ok.text
    assert ok.json()["justification_required"] is False
    justified = await put(svc, IREGS, item, "2014-03", short, who=ADMIN, justification=WHY)
    assert justified.status_code == 201, justified.text


async def test_items_without_a_target_per_period_never_need_one(svc: Service) -> None:
    svc.clock.set(2014, 6, 20, 12)
    # A threshold whose meta comes from a table, and a weighted composite: no band.
    for item in ("DPGF-I01", "DPGF-I02"):
        resp = await put(svc, IREGS, item, "2014-02", "0", who=ADMIN)
        assert resp.status_code == 201, (item, resp.text)
        assert (resp.json()["justification_band"], resp.json()["justification_required"]) == (None, False)
    product = await svc.http.put(f"{IREGS}/DS-P01/2014-02", json={"payload": {"completeness": "none"}}, headers=REG_DS)
    assert product.status_code == 201, product.text
    assert product.json()["justification_band"] is None


async def test_the_import_lists_each_row_without_its_justification_and_imports_nothing(svc: Service) -> None:
    svc.clock.set(2014, 6, 20, 12)
    rows = [
        {"item_code": "DS-I2", "period": "2014-02", "payload": {"value": "53000"}},
        {"item_code": "DS-I2", "period": "2014-03", "payload": {"value": "100"}},
        {"item_code": "DS-I1", "period": "2014-02", "payload": {"value": "98"}, "justification": " "},
        {"item_code": "DS-I1", "period": "2014-03", "payload": {"value": "98"}, "justification": WHY},
    ]
    bad = await svc.http.post(f"{IREGS}:import", json={"registrations": rows}, headers=ADMIN)
    assert bad.status_code == 422, bad.text
    assert [(e["row"], e["path"], e["type"]) for e in bad.json()["errors"]] == [
        (1, "registrations[1].justification", "justification_required"),
        (2, "registrations[2].justification", "justification_required"),
    ]
    assert (await svc.http.get(IREGS, headers=VIEWER)).json()["items"] == []
    rows[1]["justification"] = rows[2]["justification"] = WHY
    done = await svc.http.post(f"{IREGS}:import", json={"registrations": rows}, headers=ADMIN)
    assert done.status_code == 200, done.text
    one = (await svc.http.get(f"{IREGS}/DS-I2/2014-03", headers=VIEWER)).json()
    assert (one["justification"], one["justification_required"]) == (WHY, True)
    versions = (await svc.http.get(f"{IREGS}/DS-I1/2014-03/versions", headers=VIEWER)).json()["versions"]
    assert versions[0]["justification"] == WHY


async def test_the_check_says_beforehand_and_writes_nothing(svc: Service) -> None:
    svc.clock.set(2024, 2, 5, 12)
    url = f"{QREGS}/Ind.1/2024-01:check"
    out = (await svc.http.post(url, json={"payload": {"value": "80"}}, headers=REG_II)).json()
    assert out["justification_required"] is True
    assert out["justification_band"] == {"rule": "tolerance_band", "meta": "90", "min": "87", "max": "93"}
    assert [e["path"] for e in out["errors"]] == ["justification"]
    fine = (await svc.http.post(url, json={"payload": {"value": "80"}, "justification": WHY}, headers=REG_II)).json()
    assert (fine["justification_required"], fine["errors"]) == (True, [])
    typo = (await svc.http.post(url, json={"payload": {"value": "8o"}}, headers=REG_II)).json()
    assert [e["path"] for e in typo["errors"]] == ["payload.value"]
    assert (await svc.http.get(f"{QREGS}/Ind.1/2024-01", headers=VIEWER)).status_code == 404
    # The inbox carries the band, so a form can say it before anything is typed.
    inbox = await svc.http.get("/v1/obligations", params={"plan_id": QUAR, "period": "2024-01"}, headers=REG_II)
    bands = {o["item_code"]: o["justification_band"] for o in inbox.json()["items"]}
    assert bands["Ind.4"] == {"rule": "tolerance_band", "meta": "35", "min": "30", "max": "40"}


async def certify(svc: Service, regs: str, item: str, period: str) -> Any:
    etag = (await svc.http.get(f"{regs}/{item}/{period}", headers=VIEWER)).headers["etag"]
    resp = await svc.http.post(f"{regs}/{item}/{period}:certify", headers={**CERTIFIER, "if-match": etag})
    assert resp.status_code == 200, resp.text
    return resp


async def test_a_value_changed_after_certification_is_flagged_until_certified_again(svc: Service) -> None:
    svc.clock.set(2014, 6, 20, 12)
    url = f"{IREGS}/DS-I1/2014-02"
    assert (await put(svc, IREGS, "DS-I1", "2014-02", "90", who=REG_DS)).status_code == 201  # v1 submit
    certified = await certify(svc, IREGS, "DS-I1", "2014-02")  # v2 certify
    assert (certified.json()["changed_since_certified"], certified.json()["certified_version"]) == (False, 2)
    # The inbox says a certified value is still writable in an open period (a new value goes back for certification).
    inbox = await svc.http.get("/v1/obligations", params={"plan_id": IPSM, "period": "2014-02"}, headers=REG_DS)
    mine = {o["item_code"]: o for o in inbox.json()["items"]}["DS-I1"]
    assert (mine["writable"], mine["registration"]["certification"]) == (True, "certified")
    # A planner bounds DS-I1 to at most 95: the warnings judge the new value as usual.
    bounded = await svc.http.put(f"/v1/plans/{IPSM}/value-bounds/DS-I1", json={"max": "95"}, headers=PLANNER)
    assert bounded.status_code == 200, bounded.text
    # The new value of the certified registration obeys the justification rule (DS-I1: lower-is-better, meta 97 →
    # 98 is short): refused without one, nothing changed.
    short = await put(svc, IREGS, "DS-I1", "2014-02", "98", who=REG_DS, etag=certified.headers["etag"])
    assert refused_for_justification(short)
    still = (await svc.http.get(url, headers=VIEWER)).json()
    assert (still["version"], still["certification"], still["payload"]["value"]) == (2, "certified", "90")
    # The registrar sends a new value over the certified one (no reject needed): back to submitted, flagged, and
    # certified_version still 2, so the certifier sees which value was certified. 96 > 95 warns, 96 ≤ 97 needs no
    # justification.
    changed = await put(svc, IREGS, "DS-I1", "2014-02", "96", who=REG_DS, etag=certified.headers["etag"])  # v3
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["version"], body["certification"], body["changed_since_certified"], body["certified_version"]) == (
        3,
        "submitted",
        True,
        2,
    )
    assert [w["code"] for w in body["warnings"]] == ["outside_configured_bounds"]
    # The certifier's queue (submitted registrations) and the inbox show the flag.
    queue = await svc.http.get(IREGS, params={"certification": "submitted"}, headers=CERTIFIER)
    assert [(r["item_code"], r["changed_since_certified"], r["certified_version"]) for r in queue.json()["items"]] == [
        ("DS-I1", True, 2)
    ]
    inbox = await svc.http.get("/v1/obligations", params={"plan_id": IPSM, "period": "2014-02"}, headers=REG_DS)
    mine = {o["item_code"]: o for o in inbox.json()["items"]}["DS-I1"]
    registered = mine["registration"]
    assert (mine["writable"], registered["certification"], registered["changed_since_certified"]) == (
        True,
        "submitted",
        True,
    )
    assert registered["certified_version"] == 2
    # The audit records the change: certified → submitted, 90 → 96.
    audit = await svc.http.get("/v1/audit", params={"limit": 100, "entity_id": f"{IPSM}/DS-I1/2014-02"}, headers=ADMIN)
    submits = [e["changes"] for e in audit.json()["items"] if e["action"] == "registration.submit"]
    assert any(c.get("certification") == ["certified", "submitted"] and c.get("version") == [2, 3] for c in submits), (
        submits
    )
    recertified = await certify(svc, IREGS, "DS-I1", "2014-02")  # v4
    assert (recertified.json()["changed_since_certified"], recertified.json()["certified_version"]) == (False, 4)
    # A certifier may still reopen a certified value with a reason; the value resubmitted after it is flagged too.
    rejected = await svc.http.post(
        f"{url}:reject",
        json={"reason": "rever o valor"},
        headers={**CERTIFIER, "if-match": recertified.headers["etag"]},
    )  # v5 reject: the value has not changed yet
    assert rejected.json()["changed_since_certified"] is False
    again = await put(svc, IREGS, "DS-I1", "2014-02", "91", who=REG_DS, etag=rejected.headers["etag"])  # v6
    assert again.status_code == 200, again.text
    assert (again.json()["certification"], again.json()["changed_since_certified"]) == ("submitted", True)
    assert again.json()["certified_version"] == 4


async def test_configured_bounds_warn_and_never_refuse(svc: Service) -> None:
    svc.clock.set(2014, 6, 20, 12)
    bounds = f"/v1/plans/{IPSM}/value-bounds/DS-I3"
    assert (await svc.http.put(bounds, json={"min": "1", "max": "8"}, headers=REG_DS)).status_code == 403
    crossed = await svc.http.put(bounds, json={"min": "9", "max": "8"}, headers=PLANNER)
    assert (crossed.status_code, [e["path"] for e in crossed.json()["errors"]]) == (422, ["max"])
    bad = await svc.http.put(bounds, json={"min": "1e3"}, headers=PLANNER)
    assert (bad.status_code, [e["path"] for e in bad.json()["errors"]]) == (422, ["min"])
    product = await svc.http.put(f"/v1/plans/{IPSM}/value-bounds/DS-P01", json={"min": "1"}, headers=PLANNER)
    assert product.status_code == 422
    set_ = await svc.http.put(bounds, json={"min": "1", "max": "8"}, headers=PLANNER)
    assert set_.status_code == 200, set_.text
    assert (set_.json()["min"], set_.json()["max"]) == ("1", "8")
    # DS-I3 (lower-is-better, meta 8): 0.5 needs no justification, but lies below the configured minimum.
    low = await put(svc, IREGS, "DS-I3", "2014-02", "0.5", who=REG_DS)
    assert low.status_code == 201, low.text
    assert low.json()["warnings"] == [
        {
            "code": "outside_configured_bounds",
            "message": "the value 0.5 is outside the bounds set for this item (1 to 8)",
            "args": {"value": "0.5", "min": "1", "max": "8"},
            "bounds": {"min": "1", "max": "8"},
        }
    ]
    inside = await put(svc, IREGS, "DS-I3", "2014-03", "1", who=REG_DS)  # on the bound: inside
    assert inside.json()["warnings"] == []
    history = (await svc.http.get(f"{IREGS}/DS-I3/2014-02/versions", headers=VIEWER)).json()["versions"]
    assert [w["code"] for w in history[0]["warnings"]] == ["outside_configured_bounds"]
    assert (await svc.http.delete(bounds, headers=PLANNER)).status_code == 204
    assert (await svc.http.get(f"/v1/plans/{IPSM}/value-bounds", headers=VIEWER)).json() == []


async def test_a_value_far_from_the_items_certified_history_warns(svc: Service) -> None:
    svc.clock.set(2014, 6, 20, 12)
    # Certified DS-I3 values January–April: 4, 5, 6, 5 (newest first: 5, 6, 5, 4). Median (5 + 5) / 2 = 5;
    # absolute deviations 1, 0, 1, 0 → MAD (0 + 1) / 2 = 0.5; half-width 3.5 × 1.4826 × 0.5 = 2.59455 →
    # band [2.40545, 7.59455].
    for month, value in (("01", "4"), ("02", "5"), ("03", "6"), ("04", "5")):
        assert (await put(svc, IREGS, "DS-I3", f"2014-{month}", value, who=REG_DS)).status_code == 201
        await certify(svc, IREGS, "DS-I3", f"2014-{month}")
    # An uncertified June value does not count as history (and comes after May anyway).
    assert (await put(svc, IREGS, "DS-I3", "2014-06", "1", who=REG_DS)).status_code == 201
    far = await put(svc, IREGS, "DS-I3", "2014-05", "7.6", who=REG_DS)
    assert far.status_code == 201, far.text
    assert far.json()["warnings"] == [
        {
            "code": "outside_history_band",
            "message": "the value 7.6 is far from this item's last 4 certified values (expected 2.40545 to 7.59455)",
            "args": {"value": "7.6", "count": 4, "k": "3.5", "min": "2.40545", "max": "7.59455"},
            "bounds": {"min": "2.40545", "max": "7.59455"},
        }
    ]
    near = await put(svc, IREGS, "DS-I3", "2014-05", "7.59", who=REG_DS, etag=far.headers["etag"])
    assert near.json()["warnings"] == []
    low = await put(svc, IREGS, "DS-I3", "2014-05", "2.4", who=REG_DS, etag=near.headers["etag"])
    assert [w["code"] for w in low.json()["warnings"]] == ["outside_history_band"]
    # The certifier's queue returns the warnings with the value.
    queue = await svc.http.get(IREGS, params={"certification": "submitted", "period": "2014-05"}, headers=CERTIFIER)
    assert [[w["code"] for w in r["warnings"]] for r in queue.json()["items"]] == [["outside_history_band"]]
    # The import warns the same way.
    rows = [{"item_code": "DS-I3", "period": "2014-05", "payload": {"value": "9"}, "justification": WHY}]
    assert (await svc.http.post(f"{IREGS}:import", json={"registrations": rows}, headers=ADMIN)).status_code == 200
    imported = (await svc.http.get(f"{IREGS}/DS-I3/2014-05", headers=VIEWER)).json()
    assert imported["warnings"][0]["bounds"] == {"min": "2.40545", "max": "7.59455"}


async def test_bounds_carry_an_etag_and_a_stale_if_match_changes_nothing(svc: Service) -> None:
    bounds = f"/v1/plans/{IPSM}/value-bounds/DS-I3"
    first = await svc.http.put(bounds, json={"min": "1", "max": "8"}, headers=PLANNER)
    assert first.status_code == 200, first.text
    tag = first.headers["etag"]
    assert first.json()["etag"] == tag
    listed = (await svc.http.get(f"/v1/plans/{IPSM}/value-bounds", headers=VIEWER)).json()
    assert [(r["item_code"], r["etag"]) for r in listed] == [("DS-I3", tag)]
    # someone else moves the bounds: the first tag no longer matches, for a change and for a removal
    other = await svc.http.put(bounds, json={"min": "2", "max": "8"}, headers={**PLANNER, "if-match": tag})
    assert other.status_code == 200, other.text
    assert other.headers["etag"] != tag
    stale = await svc.http.put(bounds, json={"min": "3"}, headers={**PLANNER, "if-match": tag})
    assert stale.status_code == 412
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert (await svc.http.delete(bounds, headers={**PLANNER, "if-match": tag})).status_code == 412
    kept = (await svc.http.get(f"/v1/plans/{IPSM}/value-bounds", headers=VIEWER)).json()
    assert [(r["min"], r["max"], r["etag"]) for r in kept] == [("2", "8", other.headers["etag"])]
    # If-Match on bounds that do not exist cannot match; the right tag removes them
    absent = await svc.http.put(
        f"/v1/plans/{IPSM}/value-bounds/DS-I4", json={"min": "1"}, headers={**PLANNER, "if-match": tag}
    )
    assert absent.status_code == 412
    removed = await svc.http.delete(bounds, headers={**PLANNER, "if-match": other.headers["etag"]})
    assert removed.status_code == 204
    assert (await svc.http.get(f"/v1/plans/{IPSM}/value-bounds", headers=VIEWER)).json() == []

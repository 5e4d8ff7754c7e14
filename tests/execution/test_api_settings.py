"""Per-plan registration settings: seed 004's January–May catch-up and calendar refinements."""

from __future__ import annotations

from execution_support import ADMIN, IPSM, PLANNER, REG_DS, ROOT, VIEWER, Service

from execution.seed import load

DATA = ROOT / "data" / "execution"

URL = f"/v1/plans/{IPSM}/registration-settings"


async def due(svc: Service, period: str) -> str:
    table = (await svc.http.get(f"/v1/plans/{IPSM}/deadlines", headers=VIEWER)).json()
    return str(next(p["due_date"] for p in table["periods"] if p["period"] == period))


async def test_catch_up_makes_january_to_may_due_with_may(svc: Service) -> None:
    # January 2014 registered on 10 June 2014 (the agreement was signed on 30 April).
    svc.clock.set(2014, 6, 10, 15)
    put = await svc.http.put(
        f"/v1/plans/{IPSM}/registrations/DS-I1/2014-01", json={"payload": {"value": 1}}, headers=REG_DS
    )
    assert put.status_code == 201
    # Without the catch-up January was due on Fri 14 February 2014 → late.
    assert put.json()["status"] == "late"
    assert await due(svc, "2014-01") == "2014-02-14"

    default = await svc.http.get(URL, headers=VIEWER)
    assert default.json()["version"] == 0
    assert (await svc.http.put(URL, json={"catch_up_through": "2014-05"}, headers=REG_DS)).status_code == 403
    saved = await svc.http.put(URL, json={"catch_up_through": "2014-05"}, headers=PLANNER)
    assert saved.status_code == 200, saved.text
    assert saved.json()["catch_up_through"] == "2014-05"

    # January–May are now due with May: the 10th business day of June 2014 (starts on a Sunday:
    # 2..6, 9..13) = Fri 13 June; June is back to normal: July 2014 → 1..4, 7..11, 14 = Mon 14.
    for month in ("01", "02", "03", "04", "05"):
        assert await due(svc, f"2014-{month}") == "2014-06-13"
    assert await due(svc, "2014-06") == "2014-07-14"
    got = (await svc.http.get(f"/v1/plans/{IPSM}/registrations/DS-I1/2014-01", headers=VIEWER)).json()
    assert got["status"] == "on_time"

    # Updating the settings needs If-Match.
    assert (await svc.http.put(URL, json={"catch_up_through": "2014-04"}, headers=PLANNER)).status_code == 428
    again = await svc.http.put(
        URL,
        json={"catch_up_through": None, "holiday_categories": ["public"]},
        headers={**PLANNER, "if-match": saved.headers["etag"]},
    )
    assert again.status_code == 200
    assert again.json()["version"] == 2
    # Public holidays only: Carnival 2014 is a business day → February due Fri 14 March.
    assert await due(svc, "2014-02") == "2014-03-14"


async def test_settings_are_validated(svc: Service) -> None:
    bad = await svc.http.put(
        URL,
        json={"catch_up_through": "2015-05", "timezone": "Mars/Olympus", "holiday_categories": ["bogus"]},
        headers=PLANNER,
    )
    assert bad.status_code == 422
    assert sorted(e["path"] for e in bad.json()["errors"]) == ["catch_up_through", "holiday_categories", "timezone"]
    assert (await svc.http.put(URL, json={"closing_month": 13}, headers=PLANNER)).status_code == 422


async def test_seed_loader_is_idempotent(svc: Service, db_url: str) -> None:
    first = await load(DATA, db_url)
    assert first == [(IPSM, "created")]
    assert await load(DATA, db_url) == [(IPSM, "unchanged")]
    got = (await svc.http.get(URL, headers=VIEWER)).json()
    assert (got["catch_up_through"], got["version"]) == ("2014-05", 1)
    # The seeded catch-up applies: January is due on Fri 13 June 2014.
    assert await due(svc, "2014-01") == "2014-06-13"
    # Settings move due dates, so the seed's write is in the audit trail (once: the re-run changed nothing).
    audit = await svc.http.get(
        "/v1/audit", params={"entity_type": "registration_settings", "entity_id": IPSM}, headers=ADMIN
    )
    events = audit.json()["items"]
    assert [(e["actor"], e["action"]) for e in events] == [("execution-seed", "create")]
    assert events[0]["changes"]["created"]["catch_up_through"] == "2014-05"

"""The set-based bulk import keeps every rule of a single write — PostgreSQL and SQLite.

A re-import appends a version (who, when, why, request id) even when nothing else differs, moves the
ETag (an If-Match taken before the import is stale after it), resubmits a rejected registration and
refuses a certified one; new and existing rows mix in one import.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from execution_support import ADMIN, CERTIFIER, IPSM, REG_DS, SERVICE, VIEWER, WHY, Service

from execution.api.schemas import CurrentItem, CurrentSnapshot
from execution.db.bulk import StaleRows, current_rows, update_registrations

REGS = f"/v1/plans/{IPSM}/registrations"


async def import_rows(svc: Service, rows: list[dict[str, Any]], reason: str = "carga") -> Any:
    return await svc.http.post(f"{REGS}:import", json={"reason": reason, "registrations": rows}, headers=SERVICE)


async def test_reimport_of_identical_rows_by_the_same_system_appends_versions(svc: Service) -> None:
    svc.clock.set(2014, 3, 20, 12)
    rows = [
        {
            "item_code": "DS-I1",
            "period": "2014-02",
            "payload": {"value": "7"},
            "justification": WHY,
            "registered_at": "2014-03-18T12:00:00Z",
        },
        {"item_code": "DS-I2", "period": "2014-02", "payload": {"value": "3"}, "justification": WHY, "reason": "linha"},
    ]
    first = await import_rows(svc, rows)
    assert first.status_code == 200, first.text
    assert first.json() == {"plan_id": IPSM, "created": 2, "updated": 0}
    before = await svc.http.get(f"{REGS}/DS-I1/2014-02", headers=VIEWER)
    # The same body, the same system, the same registered_at: still a new version of each row (was a 409).
    second = await import_rows(svc, rows)
    assert second.status_code == 200, second.text
    assert second.json() == {"plan_id": IPSM, "created": 0, "updated": 2}

    history = (await svc.http.get(f"{REGS}/DS-I1/2014-02/versions", headers=VIEWER)).json()
    assert history["current_version"] == 2
    assert [(v["number"], v["action"], v["certification"]) for v in history["versions"]] == [
        (1, "submit", "submitted"),
        (2, "submit", "submitted"),
    ]
    latest = history["versions"][1]
    assert (latest["created_by"], latest["reason"], latest["payload"]["value"]) == ("service:scoring", "carga", "7")
    assert latest["created_at"].startswith("2014-03-18T12:00:00")
    assert latest["request_id"] == second.headers["x-request-id"]
    # A row's own reason wins over the import's; a row without registered_at is registered "now".
    other = (await svc.http.get(f"{REGS}/DS-I2/2014-02/versions", headers=VIEWER)).json()["versions"]
    assert [v["reason"] for v in other] == ["linha", "linha"]
    assert other[1]["created_at"].startswith("2014-03-20T12:00:00")

    # The ETag moved with the version: an If-Match read before the re-import is stale (412).
    after = await svc.http.get(f"{REGS}/DS-I1/2014-02", headers=VIEWER)
    assert after.headers["etag"] != before.headers["etag"]
    body = {"payload": {"value": "8"}, "justification": WHY, "reason": "correção"}
    stale = await svc.http.put(
        f"{REGS}/DS-I1/2014-02", json=body, headers={**REG_DS, "if-match": before.headers["etag"]}
    )
    assert stale.status_code == 412
    fresh = await svc.http.put(
        f"{REGS}/DS-I1/2014-02", json=body, headers={**REG_DS, "if-match": after.headers["etag"]}
    )
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["version"] == 3

    # One audit event for each import, with its counts.
    audit = (await svc.http.get("/v1/audit?limit=100", headers=ADMIN)).json()["items"]
    imports = [e for e in audit if e["action"] == "registration.import"]
    assert sorted((e["changes"]["created"], e["changes"]["updated"]) for e in imports) == [(0, 2), (2, 0)]


async def test_import_resubmits_a_rejected_row_sends_a_certified_one_back_and_mixes_new_rows(svc: Service) -> None:
    svc.clock.set(2014, 3, 20, 12)
    assert (await import_rows(svc, [_row("DS-I3", "1"), _row("DS-I4", "1")])).status_code == 200
    i3 = await svc.http.get(f"{REGS}/DS-I3/2014-02", headers=VIEWER)
    rejected = await svc.http.post(
        f"{REGS}/DS-I3/2014-02:reject",
        json={"reason": "fonte errada"},
        headers={**CERTIFIER, "if-match": i3.headers["etag"]},
    )
    assert rejected.status_code == 200, rejected.text
    i4 = await svc.http.get(f"{REGS}/DS-I4/2014-02", headers=VIEWER)
    certified = await svc.http.post(
        f"{REGS}/DS-I4/2014-02:certify", headers={**CERTIFIER, "if-match": i4.headers["etag"]}
    )
    assert certified.status_code == 200, certified.text

    # The certified row takes the new value and goes back for certification, like a single PUT.
    done = await import_rows(svc, [_row("DS-I5", "5"), _row("DS-I4", "2"), _row("DS-I3", "2")])
    assert done.json() == {"plan_id": IPSM, "created": 1, "updated": 2}
    i4_now = (await svc.http.get(f"{REGS}/DS-I4/2014-02", headers=VIEWER)).json()
    # submit (1) → certify (2) → submit by the import (3): submitted, flagged, certified_version still 2.
    assert (i4_now["version"], i4_now["certification"], i4_now["payload"]["value"]) == (3, "submitted", "2")
    assert (i4_now["changed_since_certified"], i4_now["certified_version"], i4_now["certified_by"]) == (True, 2, None)
    i3_now = (await svc.http.get(f"{REGS}/DS-I3/2014-02", headers=VIEWER)).json()
    # submit (1) → reject (2) → submit by the import (3): submitted again, the rejection cleared.
    assert (i3_now["version"], i3_now["certification"], i3_now["rejection_reason"]) == (3, "submitted", None)
    assert (i3_now["payload"]["value"], i3_now["updated_by"], i3_now["certified_by"]) == ("2", "service:scoring", None)
    i5 = (await svc.http.get(f"{REGS}/DS-I5/2014-02/versions", headers=VIEWER)).json()
    assert [(v["number"], v["created_by"]) for v in i5["versions"]] == [(1, "service:scoring")]


def _row(item_code: str, value: str) -> dict[str, Any]:
    return {"item_code": item_code, "period": "2014-02", "payload": {"value": value}, "justification": WHY}


async def test_the_bulk_update_refuses_rows_whose_version_moved(svc: Service) -> None:
    svc.clock.set(2014, 3, 20, 12)
    assert (await import_rows(svc, [_row("DS-I6", "1")])).status_code == 200
    current = (await svc.http.get(f"{REGS}/DS-I6/2014-02", headers=VIEWER)).json()
    assert current["version"] == 1
    async with svc.app.state.db.sessionmaker() as session, session.begin():
        found = await current_rows(session, IPSM, [("DS-I6", "2014-02"), ("DS-I5", "2014-02")])
        assert list(found) == [("DS-I6", "2014-02")]  # only existing rows come back
        row = found[("DS-I6", "2014-02")]
        change = {
            "b_id": row.id,
            "b_version": 2,  # not the stored version (1): another writer's, say
            "b_new_version": 3,
            "b_payload": {"value": "9", "note": None},
            "b_justification": None,
            "b_warnings": [],
            "b_certification": "submitted",
            "b_at": datetime(2014, 3, 20, 12, tzinfo=UTC),
            "b_by": "x",
        }
        with pytest.raises(StaleRows):
            await update_registrations(session, [change])
        await session.rollback()
    after = (await svc.http.get(f"{REGS}/DS-I6/2014-02", headers=VIEWER)).json()
    assert (after["version"], after["payload"]["value"]) == (1, "1")


async def test_the_snapshot_is_the_documented_shape_with_filters(svc: Service) -> None:
    svc.clock.set(2014, 3, 20, 12)
    assert (await import_rows(svc, [_row("DS-I1", "4")])).status_code == 200
    res = await svc.http.get(f"{REGS}/current?period_to=2014-02&unit_code=DS", headers=VIEWER)
    assert res.status_code == 200
    snap = CurrentSnapshot.model_validate(res.json())
    assert all(set(item) == set(CurrentItem.model_fields) for item in res.json()["items"])
    # Team DS owes 10 items a month (DS-I1..I6, DS-P01, DS-P02-E1..E3): 2 months → 20 rows, one registered.
    assert len(snap.items) == 20
    assert {i.unit_code for i in snap.items} == {"DS"}
    registered = [i for i in snap.items if i.registered]
    # Registered "now" (Thu 20 March 12:00Z) without registered_at; February was due Tue 18 March → late.
    assert [(i.item_code, i.period, i.version, i.certified, i.status) for i in registered] == [
        ("DS-I1", "2014-02", 1, False, "late")
    ]
    raw = next(i for i in res.json()["items"] if i["registered"])
    assert raw["first_registered_at"] == raw["updated_at"] == "2014-03-20T12:00:00Z"
    # Both deadlines are over, so every other row is missing.
    assert {i.status for i in snap.items if not i.registered} == {"missing"}
    assert [i.period for i in snap.items] == ["2014-01"] * 10 + ["2014-02"] * 10

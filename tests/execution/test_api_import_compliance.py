"""Bulk import of a year of registrations for both seed plans, the certification index (JSON and
CSV), deadlines over HTTP, organisation closures and the Prometheus gauges — PostgreSQL and SQLite.

Item counts (data/plans): ipsm-2014-acordo owes 26 indicators + 10 products without stages + the
3 stages of DS-P02 = 40 items a month; team DS has DS-I1..DS-I6, DS-P01 and DS-P02-E1..E3 = 10.
ii-2024-quar owes 20 indicators (unit II) + 157 initiatives = 177 items a month.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from execution_support import ADMIN, IPSM, PLANNER, QUAR, REG_DS, SERVICE, VIEWER, WHY, Service

from execution.metrics import refresh


async def due_dates(svc: Service, plan: str) -> dict[str, str]:
    table = (await svc.http.get(f"/v1/plans/{plan}/deadlines", headers=VIEWER)).json()
    return {p["period"]: p["due_date"] for p in table["periods"]}


async def owed_items(svc: Service, plan: str, period: str) -> list[dict[str, Any]]:
    rows = (await svc.http.get(f"/v1/plans/{plan}/status?period={period}&limit=500", headers=VIEWER)).json()
    assert rows["next_cursor"] is None
    return list(rows["items"])


def payload_for(kind: str, month: int) -> dict[str, Any]:
    if kind == "indicator":
        return {"value": str(month)}
    if kind == "initiative":
        return {"cumulative_percent": str(month * 8)}
    return {"completeness": "none", "note": f"mês {month}"}


async def year_rows(
    svc: Service, plan: str, year: int, *, late: set[tuple[str, str]], missing: set[tuple[str, str]]
) -> list[dict[str, Any]]:
    """Every owed (item, period) registered at 12:00Z of its due date, except the given ones."""
    dues = await due_dates(svc, plan)
    rows: list[dict[str, Any]] = []
    for month in range(1, 13):
        period = f"{year}-{month:02d}"
        for item in await owed_items(svc, plan, period):
            key = (item["item_code"], period)
            if key in missing:
                continue
            day = dues[period]
            if key in late:  # the next calendar day after the due day, at noon UTC
                day = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
            rows.append(
                {
                    "item_code": item["item_code"],
                    "period": period,
                    "payload": payload_for(item["item_kind"], month),
                    "registered_at": f"{day}T12:00:00Z",
                    "justification": WHY,
                }
            )
    return rows


DS_ITEMS = ["DS-I1", "DS-I2", "DS-I3", "DS-I4", "DS-I5", "DS-I6", "DS-P01", "DS-P02-E1", "DS-P02-E2", "DS-P02-E3"]


async def test_import_a_year_of_the_ipsm_plan_and_its_certification_index(svc: Service) -> None:
    svc.clock.set(2015, 1, 20, 12)  # every 2014 due day is over (December's: Thu 15 Jan 2015)
    late = {("DS-I1", "2014-03")}
    missing = {("DS-P01", "2014-03")} | {(code, "2014-07") for code in DS_ITEMS}
    rows = await year_rows(svc, IPSM, 2014, late=late, missing=missing)
    # 40 items × 12 months = 480 owed; 1 + 10 left out → 469 rows.
    assert len(rows) == 469
    body = {"reason": "carga do SISGAR 2014", "registrations": rows}
    # Only admin/service may import (it back-dates registrations).
    assert (await svc.http.post(f"/v1/plans/{IPSM}/registrations:import", json=body, headers=REG_DS)).status_code == 403
    done = await svc.http.post(f"/v1/plans/{IPSM}/registrations:import", json=body, headers=SERVICE)
    assert done.status_code == 200, done.text[:2000]
    assert done.json() == {"plan_id": IPSM, "created": 469, "updated": 0}

    report = (await svc.http.get(f"/v1/plans/{IPSM}/compliance?through=2014-12", headers=VIEWER)).json()
    ds = next(u for u in report["units"] if u["unit_code"] == "DS")
    months = {m["period"]: m for m in ds["months"]}
    # March: 10 due; DS-I1 late, DS-P01 missing → 8 on time → 8 / 10 × 100 = 80.00.
    assert {k: months["2014-03"][k] for k in ("due", "on_time", "late", "missing", "index")} == {
        "due": 10,
        "on_time": 8,
        "late": 1,
        "missing": 1,
        "index": "80.00",
    }
    # July: nothing registered → 0 / 10 = 0.00; February: 10 / 10 = 100.00.
    assert months["2014-07"]["index"] == "0.00"
    assert months["2014-02"]["index"] == "100.00"
    # Year: 120 due, 120 − 1 late − 11 missing = 108 on time → 108 / 120 × 100 = 90.00.
    assert ds["year_to_date"] == {
        "period": "YTD",
        "due": 120,
        "on_time": 108,
        "late": 1,
        "missing": 11,
        "pending": 0,
        "index": "90.00",
    }
    # Another team untouched: PROC 100.00; whole plan 468 / 480 × 100 = 97.50.
    proc = next(u for u in report["units"] if u["unit_code"] == "PROC")
    assert proc["year_to_date"]["index"] == "100.00"
    assert report["plan"]["year_to_date"]["index"] == "97.50"
    # Year to date through June: 60 due, 58 on time → 96.666… → 96.67 (half up).
    june = (await svc.http.get(f"/v1/plans/{IPSM}/compliance?through=2014-06&unit_code=DS", headers=VIEWER)).json()
    assert [u["unit_code"] for u in june["units"]] == ["DS"]
    assert june["units"][0]["year_to_date"]["index"] == "96.67"

    csv_response = await svc.http.get(f"/v1/plans/{IPSM}/compliance.csv?through=2014-12", headers=VIEWER)
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    lines = csv_response.text.splitlines()
    assert lines[0] == "unit_code,period,due,on_time,late,missing,pending,index"
    assert "DS,2014-03,10,8,1,1,0,80.00" in lines
    assert "DS,2014-07,10,0,0,10,0,0.00" in lines
    assert "DS,YTD,120,108,1,11,0,90.00" in lines
    assert "*,YTD,480,468,1,11,0,97.50" in lines

    # The scoring snapshot through March: 40 × 3 = 120 rows, all registered but DS-P01 of March.
    snap = (await svc.http.get(f"/v1/plans/{IPSM}/registrations/current?period_to=2014-03", headers=SERVICE)).json()
    assert len(snap["items"]) == 120
    unregistered = [(r["item_code"], r["period"], r["status"]) for r in snap["items"] if not r["registered"]]
    assert unregistered == [("DS-P01", "2014-03", "missing")]
    ds_i1 = next(r for r in snap["items"] if (r["item_code"], r["period"]) == ("DS-I1", "2014-03"))
    assert (ds_i1["status"], ds_i1["payload"]["value"], ds_i1["certified"]) == ("late", "3", False)

    # Re-importing the same year appends a version to each registration; statuses do not move.
    again = await svc.http.post(f"/v1/plans/{IPSM}/registrations:import", json=body, headers=ADMIN)
    assert again.json() == {"plan_id": IPSM, "created": 0, "updated": 469}
    history = (await svc.http.get(f"/v1/plans/{IPSM}/registrations/DS-I1/2014-03/versions", headers=VIEWER)).json()
    assert [v["number"] for v in history["versions"]] == [1, 2]
    again_report = (await svc.http.get(f"/v1/plans/{IPSM}/compliance?through=2014-12", headers=VIEWER)).json()
    assert again_report["plan"]["year_to_date"]["index"] == "97.50"

    # Prometheus gauges of the same state (bounded labels: plan and unit only).
    await refresh(svc.app)
    text = (await svc.http.get("/metrics")).text
    assert gauge(text, "metas_execution_registrations_due", plan=IPSM, unit="DS") == 120
    assert gauge(text, "metas_execution_registrations_on_time", plan=IPSM, unit="DS") == 108
    assert gauge(text, "metas_execution_registrations_late", plan=IPSM, unit="DS") == 1
    assert gauge(text, "metas_execution_registrations_missing", plan=IPSM, unit="DS") == 11
    assert gauge(text, "metas_execution_on_time_ratio", plan=IPSM, unit="DS") == 0.9  # 108 / 120
    # Per period, the heat map's cells: March 8 of 10 on time (DS-I1 late, DS-P01 missing) → 0.8; July none → 0.
    assert gauge(text, "metas_execution_period_registrations_due", period="2014-03", plan=IPSM, unit="DS") == 10
    assert gauge(text, "metas_execution_period_registrations_on_time", period="2014-03", plan=IPSM, unit="DS") == 8
    assert gauge(text, "metas_execution_period_on_time_ratio", period="2014-03", plan=IPSM, unit="DS") == 0.8
    assert gauge(text, "metas_execution_period_on_time_ratio", period="2014-07", plan=IPSM, unit="DS") == 0
    assert gauge(text, "metas_execution_period_on_time_ratio", period="2014-02", plan=IPSM, unit="DS") == 1
    # The 2014 cycle is over on 20 January 2015 (last due day 15 January): no next deadline.
    assert 'metas_execution_next_deadline_timestamp_seconds{plan="ipsm-2014-acordo"}' not in text
    assert "registration_id" not in text
    assert 'item="' not in text


def gauge(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    match = re.search(rf"^{name}\{{{re.escape(wanted)}\}} (\S+)$", text, re.MULTILINE)
    assert match is not None, f"{name}{{{wanted}}} not exported"
    return float(match.group(1))


async def test_import_a_year_of_the_quar_plan(svc: Service) -> None:
    svc.clock.set(2025, 1, 20, 12)
    # Ind.4 of May 2024 registered the day after its due date (Mon 17 June 2024, see below).
    rows = await year_rows(svc, QUAR, 2024, late={("Ind.4", "2024-05")}, missing=set())
    assert len(rows) == 177 * 12  # 2124
    done = await svc.http.post(f"/v1/plans/{QUAR}/registrations:import", json={"registrations": rows}, headers=SERVICE)
    assert done.status_code == 200, done.text[:2000]
    assert done.json()["created"] == 2124
    report = (await svc.http.get(f"/v1/plans/{QUAR}/compliance?through=2024-12&unit_code=II", headers=VIEWER)).json()
    ii = report["units"][0]
    may = next(m for m in ii["months"] if m["period"] == "2024-05")
    # II owes the 20 QUAR indicators: May 19 / 20 = 95.00; year 239 / 240 × 100 = 99.583… → 99.58.
    assert (may["due"], may["on_time"], may["late"], may["index"]) == (20, 19, 1, "95.00")
    assert ii["year_to_date"]["index"] == "99.58"
    # Initiatives carry their execution rate: DAD-01 targets 100 %, June registered 6 × 8 = 48 %.
    one = (await svc.http.get(f"/v1/plans/{QUAR}/registrations/DAD-01/2024-06", headers=VIEWER)).json()
    assert one["payload"] == {"cumulative_percent": "48", "execution_rate": "48.00", "note": None}


async def test_import_is_all_or_nothing_and_lists_every_bad_row(svc: Service) -> None:
    svc.clock.set(2014, 6, 20, 12)
    lock = await svc.http.put(f"/v1/plans/{IPSM}/locks/2014-01", json={"reason": "avaliado"}, headers=PLANNER)
    assert lock.status_code == 200
    good = {"item_code": "DS-I1", "period": "2014-02", "payload": {"value": 1}}
    body = {
        "registrations": [
            good,
            {"item_code": "XX-9", "period": "2014-02", "payload": {"value": 1}},
            {"item_code": "DS-I2", "period": "2014-02", "payload": {"value": "abc"}},
            {"item_code": "DS-I3", "period": "2015-01", "payload": {"value": 1}},
            {
                "item_code": "DS-I4",
                "period": "2014-02",
                "payload": {"value": 1},
                "registered_at": "2014-07-01T00:00:00Z",
            },
            {"item_code": "DS-I1", "period": "2014-02", "payload": {"value": 2}},  # repeats row 0
        ]
    }
    bad = await svc.http.post(f"/v1/plans/{IPSM}/registrations:import", json=body, headers=SERVICE)
    assert bad.status_code == 422
    errors = bad.json()["errors"]
    assert [(e["row"], e["path"]) for e in errors] == [
        (1, "registrations[1].item_code"),
        (2, "registrations[2].payload.value"),
        (3, "registrations[3].period"),
        (4, "registrations[4].registered_at"),
        (5, "registrations[5]"),
    ]
    listed = (await svc.http.get(f"/v1/plans/{IPSM}/registrations", headers=VIEWER)).json()["items"]
    assert listed == []  # nothing written, not even the good row
    # A row for a locked period is refused with its reason, and again nothing is written.
    locked = await svc.http.post(
        f"/v1/plans/{IPSM}/registrations:import",
        json={"registrations": [good, {"item_code": "DS-I1", "period": "2014-01", "payload": {"value": 1}}]},
        headers=SERVICE,
    )
    assert locked.status_code == 422
    assert [(e["row"], e["reason"]) for e in locked.json()["errors"]] == [(1, "locked")]
    assert (await svc.http.get(f"/v1/plans/{IPSM}/registrations", headers=VIEWER)).json()["items"] == []


async def test_deadlines_and_organisation_closures(svc: Service) -> None:
    table = (await svc.http.get(f"/v1/plans/{IPSM}/deadlines", headers=VIEWER)).json()
    assert table["calendar"]["country"] == "BR"
    assert table["calendar"]["timezone"] == "America/Sao_Paulo"
    feb = next(p for p in table["periods"] if p["period"] == "2014-02")
    # Due Tue 18 March 2014; the non-business days of March up to then: Sat 1, Sun 2, Carnival 3
    # and 4, weekends 8-9 and 15-16.
    assert feb["due_date"] == "2014-03-18"
    assert feb["deadline"] == "2014-03-19T03:00:00Z"
    assert feb["closing_date"] == "2015-01-30"
    assert [d["date"][-2:] for d in feb["non_business_days"]] == ["01", "02", "03", "04", "08", "09", "15", "16"]
    # QUAR May 2024: June 2024 starts on Saturday; 10 June (Monday) is Portugal Day:
    # 3 4 5 6 7 | 11 12 13 14 | 17 → Mon 17 June.
    quar = (await svc.http.get(f"/v1/plans/{QUAR}/deadlines", headers=VIEWER)).json()
    assert next(p for p in quar["periods"] if p["period"] == "2024-05")["due_date"] == "2024-06-17"

    # The IPSM declares 18 March 2014 a closure: February's due date moves to Wed 19 March.
    put = await svc.http.put(
        "/v1/organisations/ipsm/closures/2014-03-18", json={"name": "Ponto facultativo estadual"}, headers=PLANNER
    )
    assert put.status_code == 200, put.text
    assert (
        await svc.http.put("/v1/organisations/ipsm/closures/2014-03-18", json={"name": "x"}, headers=REG_DS)
    ).status_code == 403
    moved = (await svc.http.get(f"/v1/plans/{IPSM}/deadlines", headers=VIEWER)).json()
    feb = next(p for p in moved["periods"] if p["period"] == "2014-02")
    assert feb["due_date"] == "2014-03-19"
    assert {"date": "2014-03-18", "reason": "Ponto facultativo estadual"} in feb["non_business_days"]
    listed = (await svc.http.get("/v1/organisations/ipsm/closures", headers=VIEWER)).json()
    assert [(c["day"], c["name"]) for c in listed] == [("2014-03-18", "Ponto facultativo estadual")]
    assert (await svc.http.delete("/v1/organisations/ipsm/closures/2014-03-18", headers=PLANNER)).status_code == 204
    back = (await svc.http.get(f"/v1/plans/{IPSM}/deadlines", headers=VIEWER)).json()
    assert next(p for p in back["periods"] if p["period"] == "2014-02")["due_date"] == "2014-03-18"


async def test_metrics_before_a_deadline(svc: Service) -> None:
    # 10 March 2014: January (due Fri 14 Feb) is over, February (due 18 March) is open.
    svc.clock.set(2014, 3, 10, 12)
    for item in ("DS-I1", "DS-I2"):
        response = await svc.http.put(
            f"/v1/plans/{IPSM}/registrations/{item}/2014-02",
            json={"payload": {"value": 1}, "justification": WHY},
            headers=REG_DS,
        )
        assert response.status_code == 201
    await refresh(svc.app)
    text = (await svc.http.get("/metrics")).text
    # DS: January's 10 items are due and missing; February's 10 − 2 registered = 8 pending.
    assert gauge(text, "metas_execution_registrations_due", plan=IPSM, unit="DS") == 10
    assert gauge(text, "metas_execution_registrations_missing", plan=IPSM, unit="DS") == 10
    assert gauge(text, "metas_execution_registrations_pending", plan=IPSM, unit="DS") == 8
    assert gauge(text, "metas_execution_on_time_ratio", plan=IPSM, unit="DS") == 0
    # Next deadline: end of 18 March 2014 in Belo Horizonte = 2014-03-19T03:00Z.
    assert (
        gauge(text, "metas_execution_next_deadline_timestamp_seconds", plan=IPSM)
        == datetime(2014, 3, 19, 3, tzinfo=UTC).timestamp()
    )


async def test_procedural_durations_on_the_plan_calendar(svc: Service) -> None:
    # BR-MG, Carnival 16-17 February 2026 (see test_calendars_deadlines.py for the day-by-day count).
    base = f"/v1/plans/{IPSM}/calendar"
    r = await svc.http.get(
        f"{base}/duration?start=2026-02-13&end=2026-02-23&suspension=2026-02-19/2026-02-19", headers=VIEWER
    )
    assert r.status_code == 200, r.text
    assert r.json()["business_days"] == 3  # 18 → 1, (19 suspended), 20 → 2, 23 → 3
    term = (await svc.http.get(f"{base}/term?start=2026-02-14&days=3", headers=VIEWER)).json()
    assert term["end"] == "2026-02-23"  # Saturday start moves to Wed 18; 19, 20, 23
    bad = await svc.http.get(
        f"{base}/duration?start=2026-02-13&end=2026-02-20&suspension=2026-02-20/2026-02-19", headers=VIEWER
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "suspension[0]"
    backwards = await svc.http.get(f"{base}/duration?start=2026-02-20&end=2026-02-13", headers=VIEWER)
    assert backwards.status_code == 422

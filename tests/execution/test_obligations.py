"""The registrar's inbox, GET /v1/obligations, on PostgreSQL and SQLite.

Seed 004 (ipsm-2014-acordo, BR-MG): at Mon 10 March 2014 12:00Z, 2014-01 was due Fri 14 February (10th business day
of February; its deadline is over), 2014-02 is due Tue 18 March (Carnival 3-4 March skipped): the business days
after today up to it are 11, 12, 13, 14, 17 and 18 March → 6. Unit DS owes 10 items a month; the inbox runs to the
current period (2014-03), so a DS registrar's inbox has 30 rows.
"""

from __future__ import annotations

from typing import Any

from execution_support import CERTIFIER, IPSM, PLANNER, REG_DS, WHY, Service

INBOX = f"/v1/obligations?plan_id={IPSM}"


async def put(svc: Service, item: str, period: str, value: str) -> Any:
    resp = await svc.http.put(
        f"/v1/plans/{IPSM}/registrations/{item}/{period}",
        json={"payload": {"value": value}, "justification": WHY},
        headers=REG_DS,
    )
    assert resp.status_code == 201, resp.text[:300]
    return resp


async def test_the_inbox_lists_what_the_units_owe_most_urgent_first(svc: Service) -> None:
    await put(svc, "DS-I1", "2014-01", "1")  # after its deadline: late
    await put(svc, "DS-I2", "2014-02", "2")  # before its deadline: on time
    rejected = await put(svc, "DS-I3", "2014-02", "3")
    sent_back = await svc.http.post(
        f"/v1/plans/{IPSM}/registrations/DS-I3/2014-02:reject",
        json={"reason": "falta a fonte"},
        headers={**CERTIFIER, "if-match": rejected.headers["etag"]},
    )
    assert sent_back.status_code == 200
    body = (await svc.http.get(f"{INBOX}&limit=200", headers=REG_DS)).json()
    assert body["organisation_code"] == "ipsm"
    assert body["as_of"] == "2014-03-10T12:00:00Z"
    rows = body["items"]
    assert len(rows) == 30
    assert {r["unit_code"] for r in rows} == {"DS"}
    keys = [(r["item_code"], r["period"]) for r in rows]
    # Needs action first (nothing registered, or rejected), by deadline: 9 of January, 9 of February (DS-I3
    # rejected among them), 10 of March; then what is registered: DS-I1 January (late), DS-I2 February (on time).
    assert [r["period"] for r in rows[:28]] == ["2014-01"] * 9 + ["2014-02"] * 9 + ["2014-03"] * 10
    assert all(r["needs_action"] for r in rows[:28])
    assert keys[28:] == [("DS-I1", "2014-01"), ("DS-I2", "2014-02")]
    by_key = dict(zip(keys, rows, strict=True))
    january = by_key[("DS-I4", "2014-01")]
    assert (january["status"], january["business_days_left"], january["due_date"]) == ("missing", None, "2014-02-14")
    assert january["writable"] is True  # the window of 2014 periods closes in January 2015
    february = by_key[("DS-I4", "2014-02")]
    assert (february["status"], february["business_days_left"], february["due_date"]) == ("pending", 6, "2014-03-18")
    assert february["deadline"] == "2014-03-19T03:00:00Z"
    assert february["registration"] is None
    back = by_key[("DS-I3", "2014-02")]["registration"]
    assert (back["certification"], back["rejection_reason"], back["version"]) == (
        "rejected",
        "falta a fonte",
        2,
    )  # the rejection is a version too
    assert back["etag"] == sent_back.headers["etag"]
    late = by_key[("DS-I1", "2014-01")]
    assert (late["status"], late["needs_action"], late["registration"]["payload"]["value"]) == ("late", False, "1")


async def test_filters_paging_and_locks(svc: Service) -> None:
    await put(svc, "DS-I1", "2014-01", "1")
    only_late = (await svc.http.get(f"{INBOX}&status=late", headers=REG_DS)).json()["items"]
    assert [(r["item_code"], r["period"]) for r in only_late] == [("DS-I1", "2014-01")]
    feb = (await svc.http.get(f"{INBOX}&period=2014-02&status=pending&status=late", headers=REG_DS)).json()["items"]
    assert len(feb) == 10
    assert {r["business_days_left"] for r in feb} == {6}
    # Pages of 7 walk the 30 rows once each, in the same order as one page.
    whole = [
        (r["item_code"], r["period"])
        for r in (await svc.http.get(f"{INBOX}&limit=200", headers=REG_DS)).json()["items"]
    ]
    walked: list[tuple[str, str]] = []
    cursor = None
    for _ in range(10):
        page = (await svc.http.get(f"{INBOX}&limit=7" + (f"&cursor={cursor}" if cursor else ""), headers=REG_DS)).json()
        walked += [(r["item_code"], r["period"]) for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == whole
    assert len(walked) == 30
    # A locked period is no longer writable.
    assert (
        await svc.http.put(f"/v1/plans/{IPSM}/locks/2014-01", json={"reason": "avaliado"}, headers=PLANNER)
    ).status_code == 200
    jan = (await svc.http.get(f"{INBOX}&period=2014-01", headers=REG_DS)).json()["items"]
    assert {r["writable"] for r in jan} == {False}
    assert (await svc.http.get("/v1/obligations?plan_id=nope-2014", headers=REG_DS)).status_code == 404

"""Home of a registrar: "To register" — every (item, period) owed by the person's units, most urgent first."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.gateway import Api, ApiProblem
from console.pages.common import org_filter, signed_in_page
from console.plans import Item, PlanIndex, list_plans, plan_index

router = APIRouter(include_in_schema=False)
STATUSES = ("pending", "on_time", "late", "missing")
MAX_ROWS = 300
# Not registered and overdue, then not registered and due, then sent back by a certifier, then the rest.
URGENCY = {"missing": 0, "pending": 1}


@dataclass
class Owed:
    plan: dict[str, Any]
    item: Item | None
    row: dict[str, Any]
    business_days_left: int | None
    rejection_reason: str | None

    @property
    def urgency(self) -> tuple[int, str, str, str]:
        if not self.row.get("registered"):
            rank = URGENCY.get(str(self.row.get("status")), 1)
        elif self.row.get("certification") == "rejected":
            rank = 2
        else:
            rank = 3
        return (rank, str(self.row.get("due_date")), str(self.row.get("item_code")), str(self.row.get("period")))


async def _rejections(api: Api, plan_id: str, unit: str | None, period: str | None) -> dict[tuple[str, str], str]:
    reasons: dict[tuple[str, str], str] = {}
    cursor = None
    while True:
        page = await api.get(
            f"/api/execution/v1/plans/{plan_id}/registrations",
            params={"certification": "rejected", "unit_code": unit, "period": period, "limit": 500, "cursor": cursor},
        )
        for reg in page.get("items") or []:
            reasons[(reg["item_code"], reg["period"])] = reg.get("rejection_reason") or ""
        cursor = page.get("next_cursor")
        if not cursor:
            return reasons


async def _business_days(api: Api, plan_id: str, today: date, due: str) -> tuple[str, int | None]:
    if due < today.isoformat():
        return due, None
    if due == today.isoformat():
        return due, 0
    try:
        answer = await api.get(
            f"/api/execution/v1/plans/{plan_id}/calendar/duration", params={"start": today.isoformat(), "end": due}
        )
        return due, int(answer["business_days"])
    except (ApiProblem, KeyError, ValueError):
        return due, None


async def owed_in_plan(
    api: Api, cache: dict[str, tuple[str, PlanIndex]], plan: dict[str, Any], units: tuple[str, ...] | None, period: str
) -> list[Owed]:
    plan_id = plan["id"]
    params = {"period_to": period or None}
    scopes: list[str | None] = list(units) if units is not None else [None]
    current_calls = [
        api.get(f"/api/execution/v1/plans/{plan_id}/registrations/current", params={**params, "unit_code": u})
        for u in scopes
    ]
    rejection_calls = [_rejections(api, plan_id, u, period or None) for u in scopes]
    results = await asyncio.gather(plan_index(api, cache, plan_id), *current_calls, *rejection_calls)
    index: PlanIndex = results[0]
    snapshots = results[1 : 1 + len(scopes)]
    reasons: dict[tuple[str, str], str] = {}
    for found in results[1 + len(scopes) :]:
        reasons.update(found)
    rows = [row for snap in snapshots for row in snap.get("items") or [] if not period or row.get("period") == period]
    today = datetime.now(ZoneInfo(index.timezone)).date()
    dues = {str(r["due_date"]) for r in rows if not r.get("registered")}
    left = dict(await asyncio.gather(*(_business_days(api, plan_id, today, d) for d in sorted(dues))))
    return [
        Owed(
            plan=plan,
            item=index.items.get(row["item_code"]),
            row=row,
            business_days_left=left.get(str(row["due_date"])) if not row.get("registered") else None,
            rejection_reason=reasons.get((row["item_code"], row["period"])),
        )
        for row in rows
    ]


@router.get("/")
async def home(request: Request, plan: str = "", unit: str = "", period: str = "", status: str = "") -> Response:
    page = await signed_in_page(request)
    account = page.account
    assert account is not None
    if not account.has("registrar"):
        return page.redirect("/certify" if account.has("certifier") else "/plans")
    plans = await list_plans(page.api, org_filter(page))
    choices_units: set[str] = set()
    work = []
    for p in plans:
        units = account.units_for("registrar", p.get("organisation_code"))
        if units == ():
            continue
        if units is not None:
            choices_units.update(units)
        if plan and p["id"] != plan:
            continue
        if unit:
            if units is not None and unit not in units:
                continue
            units = (unit,)
        work.append(owed_in_plan(page.api, request.app.state.plan_cache, p, units, period))
    owed = [o for found in await asyncio.gather(*work) for o in found]
    if status in STATUSES:
        owed = [o for o in owed if o.row.get("status") == status]
    owed.sort(key=lambda o: o.urgency)
    visible_plans = [p for p in plans if account.units_for("registrar", p.get("organisation_code")) != ()]
    periods = sorted({o.row["period"] for o in owed}) if not period else [period]
    return page.render(
        "home.html",
        title=page.gettext("To register"),
        active="home",
        owed=owed[:MAX_ROWS],
        total=len(owed),
        max_rows=MAX_ROWS,
        plans=visible_plans,
        units=sorted(choices_units),
        periods=periods,
        statuses=STATUSES,
        filters={"plan": plan, "unit": unit, "period": period, "status": status},
    )

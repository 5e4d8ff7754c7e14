"""Home of a registrar: "To register" — every (item, period) owed by the person's units, most urgent first."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.gateway import Api
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


async def owed_in_plan(
    api: Api,
    cache: dict[str, tuple[str, PlanIndex]],
    plan: dict[str, Any],
    unit: str,
    period: str,
    status: str,
) -> list[Owed]:
    """The plan's obligations of the person's units from execution's inbox (`/v1/obligations`: scoped to the
    caller's registrar grants, business days left and what is registered so far included), every page of it."""
    plan_id = plan["id"]
    params: dict[str, Any] = {"plan_id": plan_id, "unit_code": unit, "period": period, "limit": 500}
    if status:
        params["status"] = status

    async def every_page() -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = await api.get("/api/execution/v1/obligations", params={**params, "cursor": cursor})
            rows.extend(page.get("items") or [])
            cursor = page.get("next_cursor")
            if not cursor:
                return rows

    index, rows = await asyncio.gather(plan_index(api, cache, plan_id), every_page())
    owed = []
    for o in rows:
        registration = o.get("registration") or {}
        row = {
            "item_code": o["item_code"],
            "item_kind": o["item_kind"],
            "unit_code": o["unit_code"],
            "period": o["period"],
            "due_date": o["due_date"],
            "status": o["status"],
            "registered": bool(registration),
            "payload": registration.get("payload"),
            "certification": registration.get("certification"),
        }
        owed.append(
            Owed(
                plan=plan,
                item=index.items.get(o["item_code"]),
                row=row,
                business_days_left=o.get("business_days_left") if not registration else None,
                rejection_reason=registration.get("rejection_reason"),
            )
        )
    return owed


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
        if unit and units is not None and unit not in units:
            continue
        chosen = status if status in STATUSES else ""
        work.append(owed_in_plan(page.api, request.app.state.plan_cache, p, unit, period, chosen))
    owed = [o for found in await asyncio.gather(*work) for o in found]
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

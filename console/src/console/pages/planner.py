"""Planner basics: the plans, a plan's tree with its metas, tolerances, critical values and weights, and the
period locks with their exceptions (granted and revoked with a reason and an expiry)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.gateway import problem_of
from console.pages.common import org_filter, read_form, signed_in_page
from console.plans import PlanIndex, list_plans, plan_index
from console.problems import Told, tell
from console.web import Page

router = APIRouter(include_in_schema=False)


@router.get("/plans")
async def plans(request: Request) -> Response:
    page = await signed_in_page(request)
    found = await list_plans(page.api, org_filter(page))
    return page.render("plans.html", title=page.gettext("Plans"), active="plans", plans=found)


def tree_of(index: PlanIndex) -> list[dict[str, Any]]:
    """QUAR: parameter → operational objective → indicators; Acordo: team → indicators and products."""
    doc = index.document
    indicators = doc.get("indicators") or []
    if doc.get("parameters"):
        out = []
        for parameter in doc["parameters"]:
            objectives = [
                o for o in doc.get("operational_objectives") or [] if o.get("parameter_code") == parameter["code"]
            ]
            children = [
                {"node": o, "indicators": [i for i in indicators if i.get("objective_code") == o["code"]]}
                for o in objectives
            ]
            out.append({"node": parameter, "children": children})
        return out
    out = []
    for unit in index.units:
        mine = [i for i in indicators if i.get("unit_code") == unit["code"]]
        products = [p for p in doc.get("products") or [] if p.get("unit_code") == unit["code"]]
        if mine or products:
            out.append({"node": unit, "children": [{"node": None, "indicators": mine, "products": products}]})
    return out


@router.get("/plans/{plan_id}")
async def plan_tree(request: Request, plan_id: str) -> Response:
    page = await signed_in_page(request)
    index = await plan_index(page.api, request.app.state.plan_cache, plan_id)
    initiatives = index.document.get("initiatives") or []
    return page.render(
        "plan.html",
        title=index.plan.get("title", plan_id),
        active="plans",
        plan_id=plan_id,
        index=index,
        tree=tree_of(index),
        initiatives=initiatives,
    )


async def locks_data(page: Page, plan_id: str) -> dict[str, Any]:
    index = await plan_index(page.api, page.request.app.state.plan_cache, plan_id)
    year = int(index.plan.get("cycle_year") or datetime.now(UTC).year)
    periods = [f"{year}-{m:02d}" for m in range(1, 13)]
    base = f"/api/execution/v1/plans/{plan_id}/locks"
    results = await asyncio.gather(
        page.api.get(base),
        page.api.get(f"/api/execution/v1/plans/{plan_id}/deadlines", params={"year": year}),
        *(page.api.get(f"{base}/{p}/exceptions") for p in periods),
    )
    locks = {lock["period"]: lock for lock in results[0]}
    # A period not locked may still be closed: its write window ended on its closing date.
    closing = {d["period"]: d["closing_date"] for d in results[1].get("periods") or []}
    exceptions = [e for found in results[2:] for e in found]
    exceptions.sort(key=lambda e: (e["period"], e["id"]))
    today = datetime.now(ZoneInfo(index.timezone)).date().isoformat()
    return {
        "index": index,
        "periods": periods,
        "locks": locks,
        "exceptions": exceptions,
        "closing": closing,
        "today": today,
    }


async def render_locks(
    page: Page,
    plan_id: str,
    *,
    told: Told | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    data = await locks_data(page, plan_id)
    return page.render(
        "locks.html",
        status=status,
        title=page.gettext("Locks and exceptions"),
        active="plans",
        plan_id=plan_id,
        told=told,
        values=values or {},
        notice=notice,
        now=datetime.now(UTC),
        **data,
    )


# What a lock action redirects with (POST-redirect-GET: reloading the page never sends the form again).
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def done_notice(page: Page, done: str, period: str) -> str | None:
    """The outcome named by the redirect's query flag; None for a flag or period this page never sends."""
    if done == "revoked":
        return page.gettext("Exception revoked.")
    if not PERIOD.match(period):
        return None
    if done == "locked":
        return page.gettext("Period %(period)s locked.", period=period)
    if done == "unlocked":
        return page.gettext("Period %(period)s unlocked.", period=period)
    if done == "granted":
        return page.gettext("Exception granted for %(period)s.", period=period)
    return None


@router.get("/plans/{plan_id}/locks")
async def locks(request: Request, plan_id: str, done: str = "", period: str = "") -> Response:
    page = await signed_in_page(request)
    return await render_locks(page, plan_id, notice=done_notice(page, done, period))


def _until_utc(text: str, tz: str) -> str:
    """A local date-time from the form (the plan's time zone) as an RFC 3339 UTC instant; the text as typed
    when it is not one (the API then names the field)."""
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        return text
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC).isoformat().replace("+00:00", "Z")


@router.post("/plans/{plan_id}/locks")
async def lock_action(request: Request, plan_id: str) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    names = ("action", "period", "reason", "unit_code", "item_code", "until", "id")
    values = {k: str(form.get(k) or "").strip() for k in names}
    base = f"/api/execution/v1/plans/{plan_id}/locks"
    action = values["action"]
    if action == "lock":
        response = await page.api.request("PUT", f"{base}/{values['period']}", json={"reason": values["reason"]})
        done = "locked"
    elif action == "unlock":
        response = await page.api.request("DELETE", f"{base}/{values['period']}")
        done = "unlocked"
    elif action == "grant":
        index = await plan_index(page.api, request.app.state.plan_cache, plan_id)
        body = {
            "unit_code": values["unit_code"] or None,
            "item_code": values["item_code"] or None,
            "until": _until_utc(values["until"], index.timezone),
            "reason": values["reason"],
        }
        response = await page.api.request("POST", f"{base}/{values['period']}/exceptions", json=body)
        done = "granted"
    elif action == "revoke":
        response = await page.api.request("DELETE", f"{base}/{values['period']}/exceptions/{values['id']}")
        done = "revoked"
    else:
        return await render_locks(page, plan_id, told=Told(page.gettext("Not understood.")), status=422)
    if response.status_code < 300:
        query = urlencode({"done": done, "period": values["period"]})
        return page.redirect(f"/plans/{quote(plan_id, safe='')}/locks?{query}")
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    status = problem.status if problem.status in (403, 404, 409, 412, 422) else 503
    return await render_locks(page, plan_id, told=tell(problem, page.gettext), values=values, status=status)

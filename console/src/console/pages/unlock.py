"""Unlock requests: a registrar asks (from the registration page of a closed period) to reopen it for an item or
its unit, and follows the requests' state; a planner grants (until a date) or refuses (with a reason) the pending
ones. Every action redirects after the POST; a refusal is shown beside the field it concerns."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.gateway import problem_of
from console.pages.common import org_filter, read_form, signed_in_page
from console.plans import list_plans, plan_index
from console.problems import Told, tell
from console.web import Page, safe_next

router = APIRouter(include_in_schema=False)
RECENT = 20


def requests_path(plan_id: str) -> str:
    return f"/api/execution/v1/plans/{quote(plan_id, safe='')}/unlock-requests"


async def plan_requests(page: Page, plan: dict[str, Any]) -> dict[str, Any]:
    """A plan's requests the person may see (a registrar: its units'), pending first, then the latest decided."""
    index, found = await asyncio.gather(
        plan_index(page.api, page.request.app.state.plan_cache, plan["id"]),
        page.api.get(requests_path(plan["id"]), params={"limit": 500}),
    )
    items = list(found.get("items") or [])
    pending = [r for r in items if r.get("status") == "pending"]
    decided = sorted((r for r in items if r.get("status") != "pending"), key=lambda r: str(r.get("decided_at")))
    assert page.account is not None
    may_decide = page.account.units_for("planner", plan.get("organisation_code")) != ()
    return {
        "plan": plan,
        "index": index,
        "pending": pending,
        "decided": decided[::-1][:RECENT],
        "may_decide": may_decide,
    }


async def render_list(
    page: Page,
    *,
    told: Told | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    plans = await list_plans(page.api, org_filter(page))
    groups = await asyncio.gather(*(plan_requests(page, p) for p in plans))
    tomorrow = datetime.now(UTC).date() + timedelta(days=7)
    return page.render(
        "unlock_requests.html",
        status=status,
        title=page.gettext("Unlock requests"),
        active="unlock",
        groups=[g for g in groups if g["pending"] or g["decided"] or g["may_decide"]],
        told=told,
        values=values or {},
        notice=notice,
        default_until=tomorrow.isoformat(),
    )


DONE = {"granted", "refused"}


@router.get("/unlock-requests")
async def unlock_requests(request: Request, done: str = "") -> Response:
    page = await signed_in_page(request)
    notice = None
    if done == "granted":
        notice = page.gettext("Request granted: the period is reopened for it.")
    elif done == "refused":
        notice = page.gettext("Request refused; the registrar will read your reason.")
    return await render_list(page, notice=notice)


@router.post("/unlock-requests")
async def ask(request: Request) -> Response:
    """A registrar's request, sent from the registration page of a closed period (back there either way)."""
    from console.pages import registration  # the page the form is on (it imports nothing of this module)

    page = await signed_in_page(request)
    form = await read_form(request, page)
    plan_id, period = str(form.get("plan_id") or ""), str(form.get("period") or "")
    kind, _, code = str(form.get("scope") or "").partition(":")
    reason = str(form.get("reason") or "").strip()
    back = safe_next(str(form.get("next") or ""))
    body: dict[str, Any] = {"period": period, "reason": reason}
    body["item_code" if kind == "item" else "unit_code"] = code or None
    response = await page.api.request("POST", requests_path(plan_id), json=body)
    if response.status_code < 300:
        return page.redirect(f"{back}?asked=1")
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    told = tell(problem, page.gettext)
    # The registration page has its own "reason" field (why a value changed): this one is the request's.
    if "reason" in told.fields:
        told.fields["unlock_reason"] = told.fields.pop("reason")
    for name in ("item_code", "unit_code", "period"):
        told.message = " ".join([told.message, *told.fields.pop(name, [])])
    item_code = code if kind == "item" else ""
    if not item_code:
        return await render_list(page, told=told, status=problem.status if problem.status < 500 else 503)
    return await registration.show_with_unlock_problem(page, plan_id, item_code, period, told, reason, problem.status)


def end_of_day_utc(text: str, tz: str) -> str:
    """The end of a chosen day in the plan's time zone (the exception lasts all of it), as RFC 3339 UTC; the text
    as typed when it is not a date (the API then names the field)."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return text
    local = datetime.combine(day, time(23, 59, 59), tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC).isoformat().replace("+00:00", "Z")


@router.post("/unlock-requests/{plan_id}/{request_id}")
async def decide(request: Request, plan_id: str, request_id: int) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    action = str(form.get("action") or "")
    values = {k: str(form.get(k) or "").strip() for k in ("until", "note", "reason")}
    target = f"{requests_path(plan_id)}/{request_id}"
    if action == "grant":
        index = await plan_index(page.api, request.app.state.plan_cache, plan_id)
        body: dict[str, Any] = {"until": end_of_day_utc(values["until"], index.timezone)}
        if values["note"]:
            body["note"] = values["note"]
        response = await page.api.request("POST", f"{target}:grant", json=body)
    elif action == "refuse":
        response = await page.api.request("POST", f"{target}:refuse", json={"reason": values["reason"]})
    else:
        return await render_list(page, told=Told(page.gettext("Not understood.")), status=422)
    if response.status_code < 300:
        return page.redirect("/unlock-requests?" + urlencode({"done": "granted" if action == "grant" else "refused"}))
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    told = tell(problem, page.gettext)
    # Each pending request has its own fields: the error goes beside this request's.
    told.fields = {f"{name}-{request_id}": messages for name, messages in told.fields.items()}
    typed = {f"{name}-{request_id}": value for name, value in values.items()}
    status = problem.status if problem.status in (403, 404, 409, 422) else 503
    return await render_list(page, told=told, values=typed, status=status)

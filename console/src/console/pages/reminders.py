"""My reminders: the plans whose e-mail digests the person receives, each muted or unmuted with one button."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.gateway import problem_of
from console.pages.common import org_filter, read_form, signed_in_page
from console.plans import list_plans
from console.problems import Told, tell
from console.web import Page

router = APIRouter(include_in_schema=False)


async def render(page: Page, *, told: Told | None = None, notice: str | None = None, status: int = 200) -> Response:
    plans = await list_plans(page.api, org_filter(page))
    mutes: list[dict[str, Any]] = await page.api.get("/api/execution/v1/reminder-mutes")
    muted = {str(m["plan_id"]): m for m in mutes}
    return page.render(
        "reminders.html",
        status=status,
        title=page.gettext("My reminders"),
        active="reminders",
        plans=plans,
        muted=muted,
        told=told,
        notice=notice,
    )


@router.get("/reminders")
async def reminders(request: Request, done: str = "", plan: str = "") -> Response:
    page = await signed_in_page(request)
    notice = None
    if done == "muted":
        notice = page.gettext("You will no longer receive this plan's digests.")
    elif done == "unmuted":
        notice = page.gettext("You will receive this plan's digests again.")
    return await render(page, notice=notice)


@router.post("/reminders")
async def change(request: Request) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    plan_id = str(form.get("plan_id") or "")
    action = str(form.get("action") or "")
    target = f"/api/execution/v1/plans/{quote(plan_id, safe='')}/reminder-mute"
    if action not in ("mute", "unmute"):
        return await render(page, told=Told(page.gettext("Not understood.")), status=422)
    response = await page.api.request("PUT" if action == "mute" else "DELETE", target)
    # Unmuting what is no longer muted (another tab did it) leaves the wanted state: nothing to tell.
    if response.status_code < 300 or (action == "unmute" and response.status_code == 404):
        return page.redirect("/reminders?" + urlencode({"done": f"{action}d", "plan": plan_id}))
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    status = problem.status if problem.status in (403, 404, 409) else 503
    return await render(page, told=tell(problem, page.gettext), status=status)

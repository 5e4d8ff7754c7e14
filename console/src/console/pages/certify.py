"""The certifier's queue: registrations awaiting certification by plan, unit and period; certify one or many,
reject with a reason. Each action names the version the certifier saw, so a value changed meanwhile is not
certified blindly."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.gateway import Api, ApiProblem, problem_of
from console.pages import evidence
from console.pages.common import org_filter, read_form, signed_in_page
from console.plans import list_plans, plan_index
from console.problems import Told, tell
from console.web import Page

router = APIRouter(include_in_schema=False)
LIMIT = 500
# Rows whose evidence files are listed in the queue (one call each); beyond, the registration page lists them.
EVIDENCE_ROWS = 100


async def _listing(
    api: Api, plan_id: str, certification: str, unit: str, period: str, limit: int
) -> list[dict[str, Any]]:
    page = await api.get(
        f"/api/execution/v1/plans/{plan_id}/registrations",
        params={"certification": certification, "unit_code": unit, "period": period, "limit": limit},
    )
    return list(page.get("items") or [])


async def queue(page: Page, plan: str, unit: str, period: str) -> dict[str, Any]:
    plans = [p for p in await list_plans(page.api, org_filter(page)) if not plan or p["id"] == plan]
    cache = page.request.app.state.plan_cache
    results = await asyncio.gather(
        *(_listing(page.api, p["id"], "submitted", unit, period, LIMIT) for p in plans),
        *(_listing(page.api, p["id"], "certified", unit, period, 20) for p in plans),
        *(plan_index(page.api, cache, p["id"]) for p in plans),
    )
    n = len(plans)
    groups = []
    for p, waiting, done, index in zip(plans, results[:n], results[n : 2 * n], results[2 * n :], strict=True):
        waiting.sort(key=lambda r: (r["unit_code"], r["period"], r["item_code"]))
        done.sort(key=lambda r: str(r.get("certified_at") or ""), reverse=True)
        groups.append({"plan": p, "waiting": waiting, "done": done, "index": index})
    files = await asyncio.gather(
        *(evidence.evidence_of_rows(page.api, g["plan"]["id"], g["waiting"], EVIDENCE_ROWS) for g in groups),
        *(evidence.requirements(page.api, g["plan"]["id"]) for g in groups),
    )
    for g, found, required in zip(groups, files[:n], files[n:], strict=True):
        g.update(evidence=found, required=required)
    return {"groups": groups, "plans": plans}


async def render_queue(
    page: Page,
    plan: str,
    unit: str,
    period: str,
    *,
    told: Told | None = None,
    results: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> Response:
    data = await queue(page, plan, unit, period)
    return page.render(
        "certify.html",
        status=status,
        title=page.gettext("To certify"),
        active="certify",
        filters={"plan": plan, "unit": unit, "period": period},
        told=told,
        results=results or [],
        file_size=lambda size: evidence.file_size(page.fmt, int(size)),
        **data,
    )


@router.get("/certify")
async def certify_queue(request: Request, plan: str = "", unit: str = "", period: str = "") -> Response:
    page = await signed_in_page(request)
    return await render_queue(page, plan, unit, period)


async def _act(page: Page, key: str, action: str, reason: str = "") -> tuple[str, str]:
    """Certify or reject the version the certifier saw: `key` is plan|item|period|version."""
    try:
        plan_id, item_code, period, version = key.split("|")
    except ValueError:
        return key, page.gettext("Not understood.")
    target = f"/api/execution/v1/plans/{plan_id}/registrations/{item_code}/{period}"
    label = f"{item_code} {period}"
    try:
        current = await page.api.call("GET", target)
    except ApiProblem as exc:
        return label, tell(exc, page.gettext).message
    if str(current.json().get("version")) != version:
        return label, page.gettext("Someone else changed this since you opened it, so your change was not saved.")
    headers = {"if-match": current.headers.get("etag", "")}
    if action == "reject":
        response = await page.api.request("POST", target + ":reject", json={"reason": reason}, headers=headers)
    else:
        response = await page.api.request("POST", target + ":certify", headers=headers)
    if response.status_code < 300:
        return label, page.gettext("Certified.") if action != "reject" else page.gettext("Rejected.")
    return label, tell(problem_of(response), page.gettext).message


@router.post("/certify")
async def certify_many(request: Request) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    picked = [str(v) for v in form.getlist("pick")][:LIMIT]
    plan, unit, period = (str(form.get(k) or "") for k in ("plan", "unit", "period"))
    if not picked:
        told = Told(page.gettext("Choose at least one registration."))
        return await render_queue(page, plan, unit, period, told=told, status=422)
    semaphore = asyncio.Semaphore(8)

    async def one(key: str) -> tuple[str, str]:
        async with semaphore:
            return await _act(page, key, "certify")

    results = await asyncio.gather(*(one(k) for k in picked))
    return await render_queue(page, plan, unit, period, results=list(results))


@router.post("/certify/reject")
async def reject(request: Request) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    plan, unit, period = (str(form.get(k) or "") for k in ("plan", "unit", "period"))
    reason = str(form.get("reason") or "").strip()
    if not reason:
        told = Told(page.gettext("Say why it is rejected: the registrar will read it."))
        return await render_queue(page, plan, unit, period, told=told, status=422)
    result = await _act(page, str(form.get("key") or ""), "reject", reason)
    return await render_queue(page, plan, unit, period, results=[result])

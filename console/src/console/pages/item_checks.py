"""What a plan asks of each item's registrations, set by planners: the evidence its certification requires (its
"fonte de comprovação") and the expected bounds of an indicator's values (a value outside them is registered
with a warning, never refused). Each change is one write with the If-Match of what the page showed, then a
redirect (POST-redirect-GET); a refusal is shown beside its field and nothing is changed."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.gateway import ApiProblem, problem_of
from console.i18n import N_, typed_number
from console.pages.common import read_form, signed_in_page
from console.plans import PlanIndex, plan_index
from console.problems import Told, field_message, tell
from console.web import Page

router = APIRouter(include_in_schema=False)
EXECUTION = "/api/execution/v1/plans"
KINDS = ("indicator", "product", "stage", "initiative")


def checks_url(plan_id: str, code: str | None = None) -> str:
    base = f"/plans/{quote(plan_id, safe='')}/checks"
    return f"{base}/{quote(code, safe='')}" if code else base


async def current(page: Page, plan_id: str) -> tuple[PlanIndex, dict[str, Any], dict[str, Any]]:
    """The plan, and its evidence requirements and value bounds by item code."""
    base = f"{EXECUTION}/{quote(plan_id, safe='')}"
    index, requirements, bounds = await asyncio.gather(
        plan_index(page.api, page.request.app.state.plan_cache, plan_id),
        page.api.get(f"{base}/evidence-requirements"),
        page.api.get(f"{base}/value-bounds"),
    )
    return index, {r["item_code"]: r for r in requirements}, {b["item_code"]: b for b in bounds}


def may_plan(page: Page) -> bool:
    return page.account is not None and page.account.has("planner")


@router.get("/plans/{plan_id}/checks")
async def checks(request: Request, plan_id: str) -> Response:
    page = await signed_in_page(request)
    index, requirements, bounds = await current(page, plan_id)
    items = sorted(
        (i for i in index.items.values() if i.kind in KINDS), key=lambda i: (i.unit_code, KINDS.index(i.kind), i.code)
    )
    return page.render(
        "item_checks.html",
        title=page.gettext("Evidence and expected values"),
        active="plans",
        plan_id=plan_id,
        index=index,
        items=items,
        requirements=requirements,
        bounds=bounds,
        may_plan=may_plan(page),
    )


async def render_item(
    page: Page,
    plan_id: str,
    code: str,
    *,
    status: int = 200,
    told: Told | None = None,
    form: str = "",
    values: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    index, requirements, bounds = await current(page, plan_id)
    item = index.items.get(code)
    if item is None or item.kind not in KINDS:
        raise ApiProblem(404, {"title": "Not found"})
    return page.render(
        "item_check.html",
        status=status,
        title=f"{code} · {page.gettext('Evidence and expected values')}",
        active="plans",
        plan_id=plan_id,
        index=index,
        item=item,
        requirement=requirements.get(code),
        bound=bounds.get(code),
        told=told,
        form=form,  # which form the problem belongs to: "evidence" or "bounds"
        values=values or {},
        notice=notice,
        may_plan=may_plan(page),
    )


@router.get("/plans/{plan_id}/checks/{code}")
async def item_checks(request: Request, plan_id: str, code: str, done: str = "") -> Response:
    page = await signed_in_page(request)
    notices = {
        "evidence": page.gettext("The evidence requirement was saved."),
        "evidence-removed": page.gettext("This item no longer requires evidence."),
        "bounds": page.gettext("The expected values were saved."),
        "bounds-removed": page.gettext("This indicator no longer has expected values."),
    }
    return await render_item(page, plan_id, code, notice=notices.get(done))


async def _write(page: Page, method: str, url: str, etag: str, body: dict[str, Any] | None) -> Any:
    headers = {"if-match": etag} if etag else {}
    return await page.api.request(method, url, json=body, headers=headers)


@router.post("/plans/{plan_id}/checks/{code}/evidence")
async def set_evidence(request: Request, plan_id: str, code: str) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    source = str(form.get("source") or "").strip()
    etag = str(form.get("etag") or "")
    url = f"{EXECUTION}/{quote(plan_id, safe='')}/evidence-requirements/{quote(code, safe='')}"
    if source:
        response = await _write(page, "PUT", url, etag, {"source": source})
        done = "evidence"
    elif etag:  # emptied: no longer required
        response = await _write(page, "DELETE", url, etag, None)
        done = "evidence-removed"
    else:
        told = Told(page.gettext("Some values need fixing; nothing was saved."))
        told.fields["source"] = [page.gettext("Say what must be shown, or leave the item without a requirement.")]
        return await render_item(page, plan_id, code, status=422, told=told, form="evidence", values={"source": ""})
    if response.status_code < 300:
        return page.redirect(f"{checks_url(plan_id, code)}?{urlencode({'done': done})}#evidence")
    return await _refused(page, plan_id, code, response, "evidence", {"source": source}, {"source": "source"})


@router.post("/plans/{plan_id}/checks/{code}/bounds")
async def set_bounds(request: Request, plan_id: str, code: str) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    typed = {k: str(form.get(k) or "").strip() for k in ("min", "max")}
    etag = str(form.get("etag") or "")
    url = f"{EXECUTION}/{quote(plan_id, safe='')}/value-bounds/{quote(code, safe='')}"
    if typed["min"] or typed["max"]:
        body = {k: typed_number(v, page.lang) if v else None for k, v in typed.items()}
        response = await _write(page, "PUT", url, etag, body)
        done = "bounds"
    elif etag:  # both emptied: no bounds any more
        response = await _write(page, "DELETE", url, etag, None)
        done = "bounds-removed"
    else:
        told = Told(page.gettext("Some values need fixing; nothing was saved."))
        told.fields["min"] = [page.gettext("Give a minimum, a maximum or both.")]
        return await render_item(page, plan_id, code, status=422, told=told, form="bounds", values=typed)
    if response.status_code < 300:
        return page.redirect(f"{checks_url(plan_id, code)}?{urlencode({'done': done})}#bounds")
    return await _refused(page, plan_id, code, response, "bounds", typed, {"min": "min", "max": "max"})


BOUNDS_MESSAGES = {
    "max is below min": N_("The maximum is below the minimum."),
    "give min, max or both": N_("Give a minimum, a maximum or both."),
}


async def _refused(
    page: Page,
    plan_id: str,
    code: str,
    response: Any,
    which: str,
    values: dict[str, str],
    fields: dict[str, str],
) -> Response:
    """The API's refusal on the page: its errors beside their fields (the API's paths), the rest on top."""
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    told = tell(problem, page.gettext)
    if problem.status == 422 and problem.errors:
        told = Told(page.gettext("Some values need fixing; nothing was saved."))
        for error in problem.errors:
            path = str(error.get("path", "")).split(".")[-1]
            message = str(error.get("message", "")).removeprefix("Value error, ")
            name = fields.get(path, next(iter(fields.values())))
            text = page.gettext(BOUNDS_MESSAGES[message]) if message in BOUNDS_MESSAGES else None
            if text is None and "is not an indicator" in message:
                text = page.gettext("Only an indicator has expected values.")
            told.fields.setdefault(name, []).append(text or field_message(page.gettext, message))
    status = problem.status if problem.status in (403, 404, 409, 412, 422) else 503
    return await render_item(page, plan_id, code, status=status, told=told, form=which, values=values)

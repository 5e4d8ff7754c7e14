"""Bulk entry: every item a unit owes for one period on one screen, sent as one all-or-nothing import; every
bad row is shown in place and nothing is written until all are right."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.gateway import problem_of
from console.i18n import typed_number
from console.pages.common import read_form, signed_in_page
from console.plans import plan_index
from console.problems import Told, tell
from console.web import Page

router = APIRouter(include_in_schema=False)


async def owed_rows(page: Page, plan_id: str, unit: str, period: str) -> tuple[Any, list[dict[str, Any]]]:
    index, snapshot = await asyncio.gather(
        plan_index(page.api, page.request.app.state.plan_cache, plan_id),
        page.api.get(
            f"/api/execution/v1/plans/{plan_id}/registrations/current",
            params={"period_to": period, "unit_code": unit},
        ),
    )
    rows = [r for r in snapshot.get("items") or [] if r.get("period") == period]
    rows.sort(key=lambda r: (r["item_kind"], r["item_code"]))
    return index, rows


def row_payload(kind: str, form: Any, code: str, lang: str) -> dict[str, Any] | None:
    """The row's payload as typed, or None when the row was left empty (it is not sent)."""
    field = lambda name: str(form.get(f"{name}:{code}") or "").strip()  # noqa: E731 - a local shorthand
    note = field("note")
    payload: dict[str, Any] = {}
    if kind == "indicator":
        if field("value"):
            payload["value"] = typed_number(field("value"), lang)
    elif kind == "initiative":
        if field("value"):
            payload["cumulative_percent"] = typed_number(field("value"), lang)
    elif field("completeness"):
        payload["completeness"] = field("completeness")
        if field("delivered_on"):
            payload["delivered_on"] = field("delivered_on")
        evidence = field("evidence")
        if evidence:
            payload["evidence"] = [evidence]
    if not payload:
        return None
    if note:
        payload["note"] = note
    return payload


async def render(
    page: Page,
    plan_id: str,
    unit: str,
    period: str,
    *,
    typed: dict[str, str] | None = None,
    told: Told | None = None,
    row_errors: dict[str, list[str]] | None = None,
    notice: str | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    rows: list[dict[str, Any]] = []
    index = await plan_index(page.api, page.request.app.state.plan_cache, plan_id)
    if unit and period:
        index, rows = await owed_rows(page, plan_id, unit, period)
    assert page.account is not None
    units = page.account.units_for("registrar", index.organisation.get("code"))
    choices = [u for u in index.units if units is None or u["code"] in units]
    return page.render(
        "bulk.html",
        status=status,
        title=page.gettext("Bulk entry"),
        active="home",
        plan_id=plan_id,
        index=index,
        unit=unit,
        period=period,
        units=choices,
        rows=rows,
        typed=typed or {},
        told=told,
        row_errors=row_errors or {},
        notice=notice,
        **extra,
    )


@router.get("/plans/{plan_id}/bulk")
async def bulk_form(request: Request, plan_id: str, unit: str = "", period: str = "", saved: str = "") -> Response:
    page = await signed_in_page(request)
    notice = None
    if saved.isdigit():
        notice = page.ngettext("%(num)s registration imported.", "%(num)s registrations imported.", int(saved))
    return await render(page, plan_id, unit, period, notice=notice)


@router.post("/plans/{plan_id}/bulk")
async def bulk_import(request: Request, plan_id: str) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    unit, period = str(form.get("unit") or ""), str(form.get("period") or "")
    _, rows = await owed_rows(page, plan_id, unit, period)
    typed = {k: str(v) for k, v in form.items() if ":" in k}
    sent: list[dict[str, Any]] = []
    for row in rows:
        payload = row_payload(row["item_kind"], form, row["item_code"], page.lang)
        if payload is not None:
            one: dict[str, Any] = {"item_code": row["item_code"], "period": period, "payload": payload}
            justification = str(form.get(f"justification:{row['item_code']}") or "").strip()
            if justification:
                one["justification"] = justification
            sent.append(one)
    if not sent:
        told = Told(page.gettext("Fill in at least one row."))
        return await render(page, plan_id, unit, period, typed=typed, told=told, status=422)
    reason = str(form.get("reason") or "").strip() or None
    response = await page.api.request(
        "POST",
        f"/api/execution/v1/plans/{plan_id}/registrations:import",
        json={"reason": reason, "registrations": sent},
    )
    if response.status_code < 300:
        done = len(sent)
        return page.redirect(f"/plans/{plan_id}/bulk?unit={unit}&period={period}&saved={done}")
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    told = tell(problem, page.gettext)
    # Rows are numbered as sent; each error goes back to the item it concerns.
    row_errors = {sent[n]["item_code"]: messages for n, messages in told.rows.items() if 0 <= n < len(sent)}
    for messages in told.fields.values():
        told.message = told.message + " " + " ".join(messages)
    status = problem.status if problem.status in (403, 409, 412, 422) else 503
    return await render(page, plan_id, unit, period, typed=typed, told=told, row_errors=row_errors, status=status)

"""The PRR budget: eixo × year planned against executed (bars with their figures), the breakdown by sub-investment
and by rubric, the reconciliation of the published tables with every mismatch, the execution document's
downloads, and amount entry for the budget role."""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.budget_view import BAR_HEIGHT, BAR_WIDTH, LABEL_WIDTH, eixo_bars, typed_money
from console.gateway import ApiProblem, problem_of
from console.i18n import N_
from console.pages.common import read_form, signed_in_page
from console.problems import Told, tell
from console.web import Page

router = APIRouter(include_in_schema=False)
API = "/api/budget/v1/budget"
YEARS = tuple(range(2021, 2027))
PHASES = ("planned", "corrected", "committed", "executed")
FIELDS = (
    "breakdown",
    "year",
    "month",
    "phase",
    "amount",
    "basis",
    "vat_rate",
    "subinvestment",
    "fund_item",
    "rubric",
    "description",
)

# The budget API's field messages, recognised by their English text.
AMOUNT_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"two decimal places|more than 2 decimal places"), N_("Write the amount with exactly two decimals.")),
    (
        re.compile(r"only phase 'corrected' accepts negative|must not be negative"),
        N_("Only a correction can be negative."),
    ),
    (re.compile(r"too large"), N_("This amount is too large.")),
    (re.compile(r"not a decimal|plain decimal|decimal string|finite number"), N_("This is not an amount.")),
    (re.compile(r"fraction in \[0, 1\)|vat_rate has more than"), N_("Give the VAT rate as a fraction, e.g. 0.23.")),
    (re.compile(r"year must be within"), N_("Choose a year from 2021 to 2026.")),
    (re.compile(r"unknown sub-investment|needs a sub-investment"), N_("Choose a sub-investment.")),
    (re.compile(r"unknown fund item"), N_("Choose a fund item.")),
    (re.compile(r"needs a rubric and a fund item"), N_("A rubric amount needs its fund item and its rubric.")),
    (re.compile(r"economic code|not a valid code|malformed"), N_("This is not an economic classification code.")),
    (re.compile(r"belongs to eixo"), N_("The sub-investment and the fund item belong to different eixos.")),
    (re.compile(r"^Field required"), N_("This field is required.")),
]


def may_enter(page: Page) -> bool:
    return page.account is not None and page.account.has("budget")


async def _report(page: Page, group_by: str, year: int | None = None) -> dict[str, Any]:
    report: dict[str, Any] = await page.api.get(
        f"{API}/reports/planned-vs-executed", params={"group_by": group_by, "year": year}
    )
    return report


def _year(value: str) -> int | None:
    return int(value) if value.isdigit() and int(value) in YEARS else None


@router.get("/budget")
async def overview(request: Request, year: str = "") -> Response:
    page = await signed_in_page(request)
    chosen = _year(year)
    structure, by_year, by_sub, by_rubric = await asyncio.gather(
        page.api.get(f"{API}/structure"),
        _report(page, "eixo,year"),
        _report(page, "eixo,subinvestment", chosen),
        _report(page, "eixo,rubric", chosen),
    )
    eixos = {int(e["number"]): e.get("name") or "" for e in structure.get("eixos") or []}
    names = {s["code"]: s["name"] for e in structure.get("eixos") or [] for s in e.get("subinvestments") or []}
    document = f"{API}/reports/execution-document"
    downloads = {
        fmt: f"{document}?{urlencode({'format': fmt, **({'year': chosen} if chosen else {})})}"
        for fmt in ("pdf", "xlsx", "csv")
    }
    return page.render(
        "budget.html",
        title=page.gettext("PRR budget"),
        active="budget",
        structure=structure,
        chart=eixo_bars(by_year.get("rows") or [], eixos),
        by_year=by_year,
        by_sub=by_sub,
        by_rubric=by_rubric,
        sub_names=names,
        eixo_names=eixos,
        years=YEARS,
        year=chosen,
        downloads=downloads,
        bar_label=LABEL_WIDTH,
        bar_width=BAR_WIDTH,
        bar_height=BAR_HEIGHT,
        may_enter=may_enter(page),
    )


@router.get("/budget/reconciliation")
async def reconciliation(request: Request) -> Response:
    page = await signed_in_page(request)
    found: dict[str, Any] = await page.api.get(f"{API}/reconciliation", params={"include_ok": "true"})
    items = found.get("items") or []
    mismatches = [i for i in items if not i.get("ok")]
    agreeing = [i for i in items if i.get("ok")]
    return page.render(
        "budget_reconciliation.html",
        title=page.gettext("Reconciliation of the published budget"),
        active="budget",
        found=found,
        mismatches=mismatches,
        agreeing=agreeing,
    )


async def render_amounts(
    page: Page,
    *,
    told: Told | None = None,
    values: dict[str, str] | None = None,
    understood: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    structure, funds, entered = await asyncio.gather(
        page.api.get(f"{API}/structure"),
        page.api.get(f"{API}/fund-items", params={"limit": 100}),
        page.api.get(f"{API}/amounts", params={"origin": "api", "limit": 100}),
    )
    subinvestments = [s for e in structure.get("eixos") or [] for s in e.get("subinvestments") or []]
    fund_items = funds.get("items") or []
    rubrics = sorted({r["rubric"]: r.get("description") or "" for f in fund_items for r in f["rubrics"]}.items())
    chosen = {"breakdown": "subinvestment", "phase": "executed", "basis": "gross", "year": "2024", **(values or {})}
    return page.render(
        "budget_amounts.html",
        status=status,
        title=page.gettext("Enter a budget amount"),
        active="budget",
        told=told,
        values=chosen,
        understood=understood,
        notice=notice,
        subinvestments=subinvestments,
        fund_items=fund_items,
        rubrics=rubrics,
        years=YEARS,
        phases=PHASES,
        entered=entered.get("items") or [],
        # a double submit replays the first answer instead of recording the amount twice
        idempotency_key=(values or {}).get("idempotency_key") or secrets.token_urlsafe(16),
    )


def _forbidden(page: Page) -> ApiProblem:
    detail = page.gettext("Only the budget role enters amounts.")
    return ApiProblem(403, {"title": "Forbidden", "detail": detail})


@router.get("/budget/amounts")
async def amounts(request: Request, done: str = "") -> Response:
    page = await signed_in_page(request)
    if not may_enter(page):
        raise _forbidden(page)
    notice = None
    if done.isdigit():
        created = await page.api.request("GET", f"{API}/amounts/{done}")
        if created.status_code == 200:
            a = created.json()
            notice = page.gettext(
                "Amount %(id)s recorded: %(gross)s with VAT (net %(net)s, VAT %(vat)s).",
                id=a["id"],
                gross=page.fmt.money(a["gross"]),
                net=page.fmt.money(a["net"]),
                vat=page.fmt.money(a["vat"]),
            )
    return await render_amounts(page, notice=notice)


def _body(values: dict[str, str], amount: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "breakdown": values["breakdown"],
        "phase": values["phase"],
        "amount": amount,
        "basis": values["basis"] or "gross",
    }
    year, month = values["year"], values["month"]
    body["year"] = int(year) if year.isdigit() else year
    if month:
        body["month"] = int(month) if month.isdigit() else month
    if values["breakdown"] == "rubric":
        body["fund_item"] = values["fund_item"] or None
        body["rubric"] = values["rubric"] or None
    else:
        body["subinvestment"] = values["subinvestment"] or None
    for optional in ("vat_rate", "description"):
        if values[optional]:
            body[optional] = values[optional]
    return body


def amount_problems(page: Page, problem: ApiProblem) -> Told:
    """The API's refusal told beside the fields of this form (the API names `amount`, `body.amount`, ...)."""
    if problem.status != 422:
        return tell(problem, page.gettext)
    told = Told(page.gettext("Some values need fixing; nothing was saved."))
    for error in problem.errors:
        path = str(error.get("path", "")).removeprefix("body.").split(".")[0].split("[")[0]
        field = path if path in FIELDS else "amount" if path in ("", "body") else path
        message = str(error.get("message", ""))
        text = next((page.gettext(m) for p, m in AMOUNT_MESSAGES if p.search(message)), message)
        told.fields.setdefault(field, []).append(text)
    return told


@router.post("/budget/amounts")
async def enter_amount(request: Request) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    if not may_enter(page):
        raise _forbidden(page)
    values = {k: str(form.get(k) or "").strip() for k in (*FIELDS, "idempotency_key")}
    amount = typed_money(values["amount"], page.lang)
    understood = amount if amount != values["amount"] else None
    response = await page.api.request(
        "POST",
        f"{API}/amounts",
        json=_body(values, amount),
        headers={"idempotency-key": values["idempotency_key"]} if values["idempotency_key"] else None,
    )
    if response.status_code < 300:
        return page.redirect(f"/budget/amounts?done={response.json()['id']}")
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    status = problem.status if problem.status in (403, 404, 409, 412, 422) else 503
    # a refused write recorded nothing: the next attempt is a new request
    values["idempotency_key"] = secrets.token_urlsafe(16)
    told = amount_problems(page, problem)
    return await render_amounts(page, told=told, values=values, understood=understood, status=status)

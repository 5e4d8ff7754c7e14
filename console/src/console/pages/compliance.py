"""Registration compliance: the on-time percentage (certification index) of each unit and month as a heat-map
table — the execution service's compliance report, the figures its Prometheus gauges export (a month's cell is
`metas_execution_period_on_time_ratio` × 100, the year-to-date column `metas_execution_on_time_ratio` × 100)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from babel.dates import format_skeleton
from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.i18n import BABEL_IDS
from console.pages.common import signed_in_page
from console.plans import plan_index
from console.scorecard import dec

router = APIRouter(include_in_schema=False)
# Heat levels of the index (a cell's colour; its figure is always printed in it).
LEVELS = ((Decimal(100), "full"), (Decimal(90), "high"), (Decimal(75), "mid"), (Decimal(50), "low"))


def level(index: Any) -> str:
    value = dec(index)
    if value is None:
        return "none"
    return next((name for floor, name in LEVELS if value >= floor), "poor")


@router.get("/plans/{plan_id}/compliance")
async def compliance(request: Request, plan_id: str) -> Response:
    page = await signed_in_page(request)
    index = await plan_index(page.api, request.app.state.plan_cache, plan_id)
    report: dict[str, Any] = await page.api.get(f"/api/execution/v1/plans/{quote(plan_id, safe='')}/compliance")
    names = {u["code"]: u.get("name") or "" for u in index.units}
    rows = [{**unit, "name": names.get(unit["unit_code"], "")} for unit in report.get("units") or []]
    periods = [m["period"] for m in (report.get("plan") or {}).get("months") or []]
    return page.render(
        "compliance.html",
        title=page.gettext("Registration compliance"),
        active="plans",
        plan_id=plan_id,
        index=index,
        report=report,
        rows=rows,
        periods=periods,
        level=level,
        month_labels=month_labels(periods, page.lang),
    )


def month_labels(periods: list[str], lang: str) -> dict[str, str]:
    """Each period's month as its short name in the language ("jan.", "Jan")."""
    return {p: format_skeleton("MMM", date(int(p[:4]), int(p[5:7]), 1), locale=BABEL_IDS[lang]) for p in periods}

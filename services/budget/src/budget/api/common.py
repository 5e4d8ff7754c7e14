"""Shared pieces of the budget routers: the app's budget state and planning client, money formatting, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response

from budget.application.scope import BudgetState
from budget.clients.planning import PlanningClient
from budget.domain.money import format_money
from metas_kit.http import make_client


async def budget_state(request: Request) -> BudgetState:
    state: BudgetState = request.app.state.budget
    return state


StateDep = Annotated[BudgetState, Depends(budget_state)]


async def planning_client(request: Request) -> PlanningClient:
    """One pooled client per app, created on the first link request (never at import or start)."""
    client: PlanningClient | None = getattr(request.app.state, "planning_client", None)
    if client is None:
        settings = request.app.state.settings
        http = make_client(
            settings.planning_url,
            timeout=settings.upstream_timeout_seconds,
            service_name="budget",
            jwt_secret=request.app.state.jwt_secret,
        )
        client = PlanningClient(http)
        request.app.state.planning_client = client
    return client


PlanningDep = Annotated[PlanningClient, Depends(planning_client)]

CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "JSON, or CSV with format=csv"}
}


def bodiless(headers: Any) -> dict[str, str]:
    """Headers for a 204 (nothing about a body)."""
    return {k: v for k, v in headers.items() if k.lower() not in ("content-length", "content-type")}


def money(value: Decimal | None) -> str | None:
    return None if value is None else format_money(value)


def pct(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else ("true" if v else "false") if isinstance(v, bool) else v for v in row])
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )

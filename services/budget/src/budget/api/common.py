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
from budget.domain.money import format_money
from metas_clients.planning import PlanningClient
from metas_kit.cells import safe_cell


async def budget_state(request: Request) -> BudgetState:
    state: BudgetState = request.app.state.budget
    return state


StateDep = Annotated[BudgetState, Depends(budget_state)]


async def planning_client(request: Request) -> PlanningClient:
    """The app's planning client (made in the lifespan, closed on shutdown)."""
    client: PlanningClient = request.app.state.planning_client
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


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return safe_cell(str(value))  # a text a spreadsheet would run as a formula is escaped


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )

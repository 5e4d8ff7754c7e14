"""Shared pieces of the budget routers: roles, the loaded budget context, money formatting, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import Response

from budget.db import repositories as repo
from budget.domain.amounts import Structure
from budget.domain.economic_codes import CodeTable
from budget.domain.money import format_money
from metas_kit.auth import Principal, require_roles
from metas_kit.db import SessionDep
from metas_kit.errors import AppError, ValidationFailed

BudgetWriter = Annotated[Principal, Depends(require_roles("budget"))]


class BudgetNotLoaded(AppError):
    status, type_slug, title = 409, "budget-not-loaded", "No published budget loaded"


@dataclass(frozen=True, slots=True)
class BudgetContext:
    published: repo.Published
    tables: list[CodeTable]
    structure: Structure

    @property
    def codes(self) -> CodeTable:
        """The code table in force for new amounts: the latest version."""
        return self.tables[-1]


# Structures by the published document's hash (a stored document never changes, nor its structure).
_STRUCTURES: dict[str, Structure] = {}


def _structure(published: repo.Published) -> Structure:
    structure = _STRUCTURES.get(published.row.sha256)
    if structure is None:
        structure = Structure.from_published(published.budget)
        if len(_STRUCTURES) > 8:
            _STRUCTURES.clear()
        _STRUCTURES[published.row.sha256] = structure
    return structure


async def budget_context(session: SessionDep) -> BudgetContext:
    published = await repo.latest_published(session)
    tables = await repo.code_tables(session)
    if published is None or not tables:
        raise BudgetNotLoaded("No published budget is loaded; run `python -m budget.seed data/budget`.")
    return BudgetContext(published=published, tables=tables, structure=_structure(published))


ContextDep = Annotated[BudgetContext, Depends(budget_context)]


def money(value: Decimal | None) -> str | None:
    return None if value is None else format_money(value)


def pct(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def field_error(field: str, message: str, kind: str = "value_error") -> ValidationFailed:
    return ValidationFailed([{"path": field, "message": message, "type": kind}], detail=message)


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

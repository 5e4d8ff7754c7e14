"""The PRR budget execution document (by eixo, sub-investment and rubric) as PDF, XLSX or CSV."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from budget.application.context import load
from budget.application.scope import BudgetState, require_budget
from budget.db import repositories as repo
from budget.documents.render import to_csv, to_pdf, to_xlsx
from budget.domain.document import ExecutionDocument, execution_document
from metas_kit.auth import Principal

Format = Literal["pdf", "xlsx", "csv"]
MEDIA_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class Document:
    content: bytes
    media_type: str
    filename: str


async def execution(
    session: AsyncSession, state: BudgetState, who: Principal, *, fmt: Format, year: int | None
) -> Document:
    require_budget(who, state)
    ctx = await load(session, state.cache)
    pb = ctx.published
    built: ExecutionDocument = execution_document(
        await repo.grouped_entries(session, year=year),
        investment=f"{pb.budget.investment_code} — {pb.budget.investment_name}",
        published=f"#{pb.row.id} (sha256 {pb.row.sha256[:16]}…)",
        subinvestment_names={s.code_table19: s.name_table19 for s in pb.budget.subinvestments},
        rubric_names=ctx.codes.codes,
        year=year,
    )
    if fmt == "pdf":
        content = await asyncio.to_thread(to_pdf, built)
    elif fmt == "xlsx":
        content = await asyncio.to_thread(to_xlsx, built, pb.row.loaded_at)
    else:
        content = to_csv(built)
    suffix = f"-{year}" if year is not None else ""
    return Document(content, MEDIA_TYPES[fmt], f"prr-budget-execution{suffix}.{fmt}")

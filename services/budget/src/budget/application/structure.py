"""Reads of the investment structure, the published budget documents and the economic code tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from budget.application.context import BudgetContext, load
from budget.application.scope import BudgetState, require_budget
from budget.db import models as m
from budget.db import repositories as repo
from budget.domain.economic_codes import CodeTable
from budget.domain.published import SubInvestment
from metas_kit.auth import Principal
from metas_kit.errors import NotFound


async def context(session: AsyncSession, state: BudgetState, who: Principal) -> BudgetContext:
    """The loaded budget (structure, code tables) for a read."""
    require_budget(who, state)
    return await load(session, state.cache)


async def list_published(session: AsyncSession, state: BudgetState, who: Principal) -> Sequence[m.PublishedBudget]:
    require_budget(who, state)
    return await repo.list_published(session)


def published_etag(row: m.PublishedBudget) -> str:
    return f'"{row.sha256[:32]}"'


async def published_document(
    session: AsyncSession, state: BudgetState, who: Principal, published_id: int, *, cached: Callable[[str], bool]
) -> tuple[str, dict[str, Any] | None]:
    """(its ETag, the document verbatim) — the document is None, and not read, when ``cached(etag)``."""
    require_budget(who, state)
    rows = [r for r in await repo.list_published(session) if r.id == published_id]
    if not rows:
        raise NotFound(f"Published budget {published_id} does not exist.")
    etag = published_etag(rows[0])
    return etag, None if cached(etag) else await repo.published_document(session, published_id)


async def subinvestment(
    session: AsyncSession, state: BudgetState, who: Principal, code: str
) -> tuple[SubInvestment, Sequence[m.InitiativeLink]]:
    ctx = await context(session, state, who)
    try:
        s = ctx.published.budget.subinvestment(code)
    except KeyError:
        raise NotFound(f"Sub-investment {code!r} does not exist.") from None
    return s, await repo.links_of(session, s.code_table19)


def code_table(tables: list[CodeTable], version: str | None) -> CodeTable:
    if version is None:
        return tables[-1]
    for t in tables:
        if t.version == version:
            return t
    raise NotFound(f"Code table version {version!r} does not exist.")

"""The loaded budget every request works on (published budget, code tables, structure), and the per-app cache
of what is parsed from them (app.state.budget_cache)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from budget.db import models as m
from budget.db import repositories as repo
from budget.domain.amounts import Structure
from budget.domain.economic_codes import CodeTable
from budget.domain.published import PublishedBudget, parse_published
from metas_kit.errors import AppError

CACHE_ENTRIES = 8


class BudgetNotLoaded(AppError):
    status, type_slug, title = 409, "budget-not-loaded", "No published budget loaded"


@dataclass
class BudgetCache:
    """Parses keyed by what they were parsed from. A stored published document never changes (keyed by its
    sha256), nor a stored code table version (keyed by the versions' rows), so entries never go stale; each
    map is bounded by clearing it when it grows past CACHE_ENTRIES."""

    code_tables: dict[repo.CodeTableKey, list[CodeTable]] = field(default_factory=dict)
    published: dict[str, PublishedBudget] = field(default_factory=dict)
    structures: dict[str, Structure] = field(default_factory=dict)

    @staticmethod
    def put(cache: dict[Any, Any], key: Any, value: Any) -> None:
        if len(cache) >= CACHE_ENTRIES:
            cache.clear()
        cache[key] = value


@dataclass(frozen=True, slots=True)
class Published:
    row: m.PublishedBudget
    budget: PublishedBudget


@dataclass(frozen=True, slots=True)
class BudgetContext:
    published: Published
    tables: list[CodeTable]
    structure: Structure

    @property
    def codes(self) -> CodeTable:
        """The code table in force for new amounts: the latest version."""
        return self.tables[-1]


async def code_tables(session: AsyncSession, cache: BudgetCache) -> list[CodeTable]:
    """Every stored code table version, oldest first; the codes are read only when a version was added."""
    return await _tables_of(session, cache, await repo.code_table_key(session))


async def _tables_of(session: AsyncSession, cache: BudgetCache, key: repo.CodeTableKey) -> list[CodeTable]:
    tables = cache.code_tables.get(key)
    if tables is None:
        tables = await repo.read_code_tables(session, key)
        cache.put(cache.code_tables, key, tables)
    return list(tables)


async def published(session: AsyncSession, cache: BudgetCache, published_id: int | None = None) -> Published | None:
    """The latest published budget (or the one with ``published_id``), parsed."""
    return await _parsed(session, cache, await repo.latest_published(session, published_id=published_id))


async def _parsed(session: AsyncSession, cache: BudgetCache, row: m.PublishedBudget | None) -> Published | None:
    if row is None:
        return None
    budget = cache.published.get(row.sha256)
    if budget is None:
        budget = parse_published(await repo.published_document(session, row.id) or {})
        cache.put(cache.published, row.sha256, budget)
    return Published(row=row, budget=budget)


async def load(session: AsyncSession, cache: BudgetCache) -> BudgetContext:
    # The latest published budget and the code table versions in one query (each read starts here).
    row, key = await repo.context_heads(session)
    latest = await _parsed(session, cache, row)
    tables = await _tables_of(session, cache, key) if latest is not None else []
    if latest is None or not tables:
        raise BudgetNotLoaded("No published budget is loaded; run `python -m budget.seed data/budget`.")
    structure = cache.structures.get(latest.row.sha256)
    if structure is None:
        structure = Structure.from_published(latest.budget)
        cache.put(cache.structures, latest.row.sha256, structure)
    return BudgetContext(published=latest, tables=tables, structure=structure)

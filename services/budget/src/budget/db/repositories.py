"""Repositories of the budget service: they add/flush and query; the request dependency commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from budget.db import models as m
from budget.domain.amounts import AmountEntry, Breakdown, FundingSource, Phase, Structure
from budget.domain.economic_codes import CodeTable, level
from budget.domain.money import q2
from budget.domain.published import PublishedBudget, parse_published

INVESTMENT = "C17-i03"


@dataclass(frozen=True, slots=True)
class Published:
    row: m.PublishedBudget
    budget: PublishedBudget


# ---- code tables ---------------------------------------------------------------------------------


async def code_tables(session: AsyncSession) -> list[CodeTable]:
    versions = (await session.scalars(select(m.CodeTableVersion).order_by(m.CodeTableVersion.valid_from))).all()
    codes = (await session.scalars(select(m.EconomicCode))).all()
    tables = []
    for v in versions:
        mine = [c for c in codes if c.version == v.version]
        tables.append(
            CodeTable(
                version=v.version,
                valid_from=v.valid_from,
                codes={c.code: c.name for c in mine},
                source=v.source,
                current=frozenset(c.code for c in mine if c.level == 1 and c.spending_type == "current"),
                capital=frozenset(c.code for c in mine if c.level == 1 and c.spending_type == "capital"),
            )
        )
    return tables


async def add_code_table(session: AsyncSession, table: CodeTable) -> bool:
    """Insert a code table version; False when that version is already stored (versions are immutable)."""
    if await session.get(m.CodeTableVersion, table.version) is not None:
        return False
    session.add(m.CodeTableVersion(version=table.version, valid_from=table.valid_from, source=table.source))
    await session.flush()
    for code, name in table.codes.items():
        lvl = level(code)
        session.add(
            m.EconomicCode(
                version=table.version,
                code=code,
                name=name,
                level=lvl,
                parent=None if lvl == 1 else code.rsplit(".", 1)[0],
                spending_type=table.spending_type(code),
            )
        )
    await session.flush()
    return True


# ---- published budget and structure -------------------------------------------------------------


# Parsed published budgets by content hash: a stored document never changes, so neither does its parse.
_PARSED: dict[str, PublishedBudget] = {}


async def list_published(session: AsyncSession, investment: str = INVESTMENT) -> Sequence[m.PublishedBudget]:
    stmt = (
        select(m.PublishedBudget)
        .options(defer(m.PublishedBudget.document))
        .where(m.PublishedBudget.investment_code == investment)
        .order_by(m.PublishedBudget.id.desc())
    )
    return (await session.scalars(stmt)).all()


async def published_document(session: AsyncSession, published_id: int) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = await session.scalar(
        select(m.PublishedBudget.document).where(m.PublishedBudget.id == published_id)
    )
    return doc


async def latest_published(
    session: AsyncSession, investment: str = INVESTMENT, published_id: int | None = None
) -> Published | None:
    """The latest published budget (or the one with ``published_id``), parsed."""
    stmt = (
        select(m.PublishedBudget)
        .options(defer(m.PublishedBudget.document))
        .where(m.PublishedBudget.investment_code == investment)
        .order_by(m.PublishedBudget.id.desc())
        .limit(1)
    )
    if published_id is not None:
        stmt = stmt.where(m.PublishedBudget.id == published_id)
    row = await session.scalar(stmt)
    if row is None:
        return None
    budget = _PARSED.get(row.sha256)
    if budget is None:
        document = await session.scalar(select(m.PublishedBudget.document).where(m.PublishedBudget.id == row.id))
        budget = parse_published(document or {})
        if len(_PARSED) > 8:
            _PARSED.clear()
        _PARSED[row.sha256] = budget
    return Published(row=row, budget=budget)


async def published_by_sha(
    session: AsyncSession, sha256: str, investment: str = INVESTMENT
) -> m.PublishedBudget | None:
    return await session.scalar(
        select(m.PublishedBudget).where(
            m.PublishedBudget.investment_code == investment, m.PublishedBudget.sha256 == sha256
        )
    )


async def save_structure(session: AsyncSession, pb: PublishedBudget) -> None:
    """Upsert the structure of a published budget (investment, eixos, sub-investments, fund items, lines)."""
    inv = pb.investment_code
    await session.merge(
        m.Investment(
            code=inv,
            programme=pb.programme,
            component=pb.component,
            name=pb.investment_name,
            total_cost=pb.total_cost,
        )
    )
    await session.flush()
    for e in pb.eixos:
        await session.merge(
            m.Eixo(
                investment_code=inv,
                number=e.number,
                name=e.name,
                name_annex3=e.name_annex3,
                ii_responsible=e.ii_responsible,
                total_cost=e.total_cost,
            )
        )
    await session.flush()
    for s in pb.subinvestments:
        await session.merge(
            m.SubInvestment(
                investment_code=inv,
                code=s.code_table19,
                code_annex4=s.code_annex4,
                eixo=s.eixo,
                name_table19=s.name_table19,
                name_section33=s.name_section33,
                name_annex4=s.name_annex4,
                total_estimated=s.total_estimated,
            )
        )
    for g in pb.annex5.groups:
        for f in g.fund_items:
            await session.merge(
                m.FundItem(
                    investment_code=inv,
                    code=f.code,
                    description=f.description,
                    eixo=f.eixo,
                    spending=f.spending,
                    group_name=g.name,
                )
            )
    await session.flush()
    await session.execute(delete(m.ProcurementLine).where(m.ProcurementLine.investment_code == inv))
    for s in pb.subinvestments:
        for line in s.lines:
            session.add(
                m.ProcurementLine(
                    investment_code=inv,
                    subinvestment=s.code_table19,
                    position=line.position,
                    npd=line.npd,
                    description=line.description,
                    amount=line.amount,
                )
            )
    await session.flush()


def structure_of(pb: PublishedBudget) -> Structure:
    return Structure.from_published(pb)


# ---- amounts --------------------------------------------------------------------------------------


def to_entry(row: m.BudgetAmount) -> AmountEntry:
    return AmountEntry(
        breakdown=Breakdown(row.breakdown),
        year=row.year,
        month=row.month,
        phase=Phase(row.phase),
        eixo=row.eixo,
        subinvestment=row.subinvestment,
        fund_item=row.fund_item,
        rubric=row.rubric,
        npd=row.npd,
        funding_source=FundingSource(row.funding_source),
        vat_rate=Decimal(row.vat_rate).normalize() if row.vat_rate else Decimal("0"),
        gross=q2(Decimal(row.gross)),
        net=q2(Decimal(row.net)),
        vat=q2(Decimal(row.vat)),
        description=row.description,
        source=row.source,
    )


def entry_columns(entry: AmountEntry) -> dict[str, Any]:
    return {
        "breakdown": entry.breakdown.value,
        "year": entry.year,
        "month": entry.month,
        "phase": entry.phase.value,
        "eixo": entry.eixo,
        "subinvestment": entry.subinvestment,
        "fund_item": entry.fund_item,
        "rubric": entry.rubric,
        "npd": entry.npd,
        "funding_source": entry.funding_source.value,
        "vat_rate": entry.vat_rate,
        "gross": entry.gross,
        "net": entry.net,
        "vat": entry.vat,
        "description": entry.description,
        "source": entry.source,
    }


def add_amount(
    session: AsyncSession,
    entry: AmountEntry,
    *,
    code_table_version: str | None,
    origin: str = "api",
    investment: str = INVESTMENT,
) -> m.BudgetAmount:
    row = m.BudgetAmount(
        investment_code=investment,
        code_table_version=code_table_version if entry.rubric else None,
        origin=origin,
        revision=1,
        **entry_columns(entry),
    )
    session.add(row)
    return row


async def delete_seed_amounts(session: AsyncSession, investment: str = INVESTMENT) -> None:
    await session.execute(
        delete(m.BudgetAmount).where(m.BudgetAmount.investment_code == investment, m.BudgetAmount.origin == "seed")
    )


@dataclass(frozen=True, slots=True)
class AmountFilter:
    breakdown: str | None = None
    year: int | None = None
    month: int | None = None
    phase: str | None = None
    eixo: int | None = None
    subinvestment: str | None = None
    fund_item: str | None = None
    rubric: str | None = None
    origin: str | None = None


def _filtered(stmt: Any, f: AmountFilter) -> Any:
    col = m.BudgetAmount
    for name in ("breakdown", "year", "month", "phase", "eixo", "subinvestment", "fund_item", "origin"):
        value = getattr(f, name)
        if value is not None:
            stmt = stmt.where(getattr(col, name) == value)
    if f.rubric is not None:
        # a rubric filter matches the code and everything that rolls up to it
        stmt = stmt.where((col.rubric == f.rubric) | col.rubric.startswith(f.rubric + "."))
    return stmt


async def list_amounts(
    session: AsyncSession, f: AmountFilter, *, limit: int, after_id: int | None, investment: str = INVESTMENT
) -> Sequence[m.BudgetAmount]:
    stmt = select(m.BudgetAmount).where(m.BudgetAmount.investment_code == investment)
    stmt = _filtered(stmt, f)
    if after_id is not None:
        stmt = stmt.where(m.BudgetAmount.id > after_id)
    return (await session.scalars(stmt.order_by(m.BudgetAmount.id).limit(limit))).all()


async def all_entries(session: AsyncSession, investment: str = INVESTMENT) -> list[AmountEntry]:
    rows = await session.scalars(
        select(m.BudgetAmount).where(m.BudgetAmount.investment_code == investment).order_by(m.BudgetAmount.id)
    )
    return [to_entry(r) for r in rows]


async def get_amount(session: AsyncSession, amount_id: int, investment: str = INVESTMENT) -> m.BudgetAmount | None:
    row = await session.get(m.BudgetAmount, amount_id)
    if row is None or row.investment_code != investment:
        return None
    return row


# ---- initiative links ----------------------------------------------------------------------------


async def links_of(
    session: AsyncSession, subinvestment: str | None = None, investment: str = INVESTMENT
) -> Sequence[m.InitiativeLink]:
    stmt = select(m.InitiativeLink).where(m.InitiativeLink.investment_code == investment)
    if subinvestment is not None:
        stmt = stmt.where(m.InitiativeLink.subinvestment == subinvestment)
    return (await session.scalars(stmt.order_by(m.InitiativeLink.id))).all()


async def find_link(
    session: AsyncSession, subinvestment: str, plan_id: str, initiative_code: str, investment: str = INVESTMENT
) -> m.InitiativeLink | None:
    return await session.scalar(
        select(m.InitiativeLink).where(
            m.InitiativeLink.investment_code == investment,
            m.InitiativeLink.subinvestment == subinvestment,
            m.InitiativeLink.plan_id == plan_id,
            m.InitiativeLink.initiative_code == initiative_code,
        )
    )

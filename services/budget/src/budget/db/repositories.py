"""Repositories of the budget service: they add/flush and query; the request dependency commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, and_, bindparam, cast, delete, exists, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from budget.db import models as m
from budget.domain.amounts import AmountEntry, Breakdown, FundingSource, Phase
from budget.domain.economic_codes import CodeTable, level
from budget.domain.money import q2
from budget.domain.published import PublishedBudget
from metas_kit.pagination import PageParams, PageResult, paginate

INVESTMENT = "C17-i03"


# ---- code tables ---------------------------------------------------------------------------------


CodeTableKey = tuple[tuple[Any, ...], ...]


async def code_table_key(session: AsyncSession) -> CodeTableKey:
    """The stored versions (version, valid_from, source, loaded_at), oldest first: a version is never altered
    once stored (``add_code_table`` refuses an existing one), so equal keys mean equal tables."""
    v = m.CodeTableVersion.__table__.c
    versions = (
        await session.execute(select(v.version, v.valid_from, v.source, v.loaded_at).order_by(v.valid_from))
    ).all()
    return tuple(tuple(row) for row in versions)


async def read_code_tables(session: AsyncSession, key: CodeTableKey) -> list[CodeTable]:
    """The code tables of the versions in ``key``, with their codes."""
    c = m.EconomicCode.__table__.c
    codes = (await session.execute(select(c.version, c.code, c.name, c.level, c.spending_type))).all()
    tables = []
    for version, valid_from, source, _loaded_at in key:
        mine = [row for row in codes if row.version == version]
        tables.append(
            CodeTable(
                version=version,
                valid_from=valid_from,
                codes={row.code: row.name for row in mine},
                source=source,
                current=frozenset(row.code for row in mine if row.level == 1 and row.spending_type == "current"),
                capital=frozenset(row.code for row in mine if row.level == 1 and row.spending_type == "capital"),
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
) -> m.PublishedBudget | None:
    """The latest published budget (or the one with ``published_id``), without its document."""
    stmt = (
        select(m.PublishedBudget)
        .options(defer(m.PublishedBudget.document))
        .where(m.PublishedBudget.investment_code == investment)
        .order_by(m.PublishedBudget.id.desc())
        .limit(1)
    )
    if published_id is not None:
        stmt = stmt.where(m.PublishedBudget.id == published_id)
    return await session.scalar(stmt)


def _context_heads_statement() -> Any:
    pb = m.PublishedBudget
    v = m.CodeTableVersion.__table__.c
    latest = (
        select(pb.id)
        .where(pb.investment_code == bindparam("investment"))
        .order_by(pb.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(pb, v.version, v.valid_from, v.source, v.loaded_at)
        .options(defer(pb.document))
        .outerjoin(m.CodeTableVersion.__table__, true())
        .where(pb.id == latest)
        .order_by(v.valid_from)
    )


# Built once (the investment bound per call): building it and its cache key per request was a tenth of a report.
_CONTEXT_HEADS = _context_heads_statement()


async def context_heads(
    session: AsyncSession, investment: str = INVESTMENT
) -> tuple[m.PublishedBudget | None, CodeTableKey]:
    """What every read starts from, in one query: the latest published budget (without its document, as
    ``latest_published``) and the stored code table versions (``code_table_key``). The versions come joined to
    the published row; no published budget reads no versions (the caller refuses the read then anyway)."""
    rows = (await session.execute(_CONTEXT_HEADS, {"investment": investment})).all()
    if not rows:
        return None, ()
    return rows[0][0], tuple(tuple(row[1:]) for row in rows if row[1] is not None)


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
    session: AsyncSession, f: AmountFilter, page: PageParams, investment: str = INVESTMENT
) -> PageResult[m.BudgetAmount]:
    stmt = _filtered(select(m.BudgetAmount).where(m.BudgetAmount.investment_code == investment), f)
    return await paginate(session, stmt, [m.BudgetAmount.id], page)


_BREAKDOWNS = {b.value: b for b in Breakdown}
_PHASES = {p.value: p for p in Phase}
_SOURCES = {f.value: f for f in FundingSource}
_ZERO_RATE = Decimal("0")


def _entries_of(rows: Iterable[Any]) -> list[AmountEntry]:
    """``to_entry`` of plain rows of ``_ENTRY_COLUMNS`` (same conversions; enum members by dictionary lookup)."""
    out = []
    for b, year, month, phase, eixo, sub, fund, rubric, npd, fs, rate, gross, net, vat, desc, src in rows:
        out.append(
            AmountEntry(
                _BREAKDOWNS[b],
                year,
                month,
                _PHASES[phase],
                eixo,
                sub,
                fund,
                rubric,
                npd,
                _SOURCES[fs],
                Decimal(rate).normalize() if rate else _ZERO_RATE,
                q2(gross if type(gross) is Decimal else Decimal(gross)),
                q2(net if type(net) is Decimal else Decimal(net)),
                q2(vat if type(vat) is Decimal else Decimal(vat)),
                desc,
                src,
            )
        )
    return out


_ENTRY_COLUMNS = tuple(
    m.BudgetAmount.__table__.c[name]
    for name in (
        "breakdown",
        "year",
        "month",
        "phase",
        "eixo",
        "subinvestment",
        "fund_item",
        "rubric",
        "npd",
        "funding_source",
        "vat_rate",
        "gross",
        "net",
        "vat",
        "description",
        "source",
    )
)


async def all_entries(
    session: AsyncSession,
    investment: str = INVESTMENT,
    *,
    breakdown: Breakdown | None = None,
    year: int | None = None,
) -> list[AmountEntry]:
    """Every amount as a domain entry (optionally of one breakdown and year), in id order.

    Plain rows of the needed columns (no ORM objects: hydrating them was most of a report's time); the
    domain functions still do every sum, in Decimal.
    """
    t = m.BudgetAmount.__table__.c
    stmt = select(*_ENTRY_COLUMNS).where(t.investment_code == investment)
    if breakdown is not None:
        stmt = stmt.where(t.breakdown == breakdown.value)
    if year is not None:
        stmt = stmt.where(t.year == year)
    result = await session.execute(stmt.order_by(t.id))
    return _entries_of(result)


_GROUP_COLUMNS = (
    "breakdown",
    "year",
    "month",
    "phase",
    "eixo",
    "subinvestment",
    "fund_item",
    "rubric",
    "funding_source",
)


def _cents(column: Any) -> Any:
    # Sum whole cents: exact on PostgreSQL (NUMERIC) and on SQLite, whose NUMERIC column holds a double that
    # rounds back to its cents exactly at these magnitudes (the same rounding the ORM's reads rely on).
    return func.sum(cast(func.round(column * 100), BigInteger))


def _budget_loaded() -> Any:
    """What ``context.load`` requires of a read: a published budget of the investment and a code table version."""
    pb = m.PublishedBudget.__table__.c
    return and_(
        exists().where(pb.investment_code == bindparam("investment")),
        exists().select_from(m.CodeTableVersion.__table__),
    )


def _grouped_statement(by_breakdown: bool, by_year: bool, loaded_only: bool) -> Any:
    t = m.BudgetAmount.__table__.c
    keys = [t[name] for name in _GROUP_COLUMNS]
    stmt = select(*keys, _cents(t.gross), _cents(t.net), _cents(t.vat), func.count()).where(
        t.investment_code == bindparam("investment")
    )
    if by_breakdown:
        stmt = stmt.where(t.breakdown == bindparam("breakdown"))
    if by_year:
        stmt = stmt.where(t.year == bindparam("year"))
    if loaded_only:
        stmt = stmt.where(_budget_loaded())
    return stmt.group_by(*keys)


# The eight shapes (filtered by breakdown, by year, only when loaded, any of them), built once; the values are
# bound per call.
_GROUPED = {
    (b, y, loaded): _grouped_statement(b, y, loaded)
    for b in (False, True)
    for y in (False, True)
    for loaded in (False, True)
}


async def grouped_entries(
    session: AsyncSession,
    investment: str = INVESTMENT,
    *,
    breakdown: Breakdown | None = None,
    year: int | None = None,
    loaded_only: bool = False,
) -> list[AmountEntry]:
    """One entry per distinct position (breakdown, year, month, phase, eixo, sub-investment, fund item,
    rubric, funding source) carrying the sums of its amounts' gross, net and VAT, summed in SQL.

    Every report and the gauges total gross, net and VAT per phase and funding source over these
    dimensions only, so they give the same figures from these entries as from ``all_entries`` (tested on
    both backends with random amounts); the entries carry no NPD, VAT rate, description or source.
    ``loaded_only``: none unless a budget is loaded (a published budget and a code table), asked in the same
    statement — a read that needs nothing else of the context spends no query on it.
    """
    return [
        e
        for e, _count in await counted_groups(
            session, investment, breakdown=breakdown, year=year, loaded_only=loaded_only
        )
    ]


async def counted_groups(
    session: AsyncSession,
    investment: str = INVESTMENT,
    *,
    breakdown: Breakdown | None = None,
    year: int | None = None,
    loaded_only: bool = False,
) -> list[tuple[AmountEntry, int]]:
    """``grouped_entries`` with the number of amounts in each group."""
    params: dict[str, Any] = {"investment": investment}
    if breakdown is not None:
        params["breakdown"] = breakdown.value
    if year is not None:
        params["year"] = year
    result = await session.execute(_GROUPED[breakdown is not None, year is not None, loaded_only], params)
    return [
        (
            AmountEntry(
                _BREAKDOWNS[b],
                y,
                month,
                _PHASES[phase],
                eixo,
                sub,
                fund,
                rubric,
                None,
                _SOURCES[fs],
                _ZERO_RATE,
                Decimal(gross).scaleb(-2),
                Decimal(net).scaleb(-2),
                Decimal(vat).scaleb(-2),
            ),
            int(count),
        )
        for b, y, month, phase, eixo, sub, fund, rubric, fs, gross, net, vat, count in result
    ]


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


async def add_link(session: AsyncSession, link: m.InitiativeLink) -> m.InitiativeLink:
    session.add(link)
    await session.flush()
    await session.refresh(link)
    return link


async def delete_row(session: AsyncSession, row: m.InitiativeLink | m.BudgetAmount) -> None:
    await session.delete(row)
    await session.flush()


async def flushed(session: AsyncSession, row: m.BudgetAmount) -> m.BudgetAmount:
    """The row as the database now holds it (defaults and timestamps filled in)."""
    await session.flush()
    await session.refresh(row)
    return row

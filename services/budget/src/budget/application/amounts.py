"""Amounts: record, change and delete (validated against the structure and the code table in force, split into
net and VAT, audited in the request's transaction), and the reads."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from budget.application.context import BudgetContext, load
from budget.application.scope import BudgetState, require_budget
from budget.db import models as m
from budget.db import repositories as repo
from budget.db.repositories import AmountFilter
from budget.domain.amounts import FIRST_YEAR, LAST_YEAR, AmountEntry, AmountError, AmountInput, build_entry
from budget.domain.economic_codes import CodeError, CodeTable, table_in_force
from budget.domain.money import format_money
from budget.metrics import record_change
from metas_kit.auth import Principal
from metas_kit.errors import Conflict, NotFound, ValidationFailed
from metas_kit.etag import version_etag
from metas_kit.pagination import PageParams, PageResult
from metas_kit.writes import WriteContext

ENTITY = "amount"
__all__ = ["AmountFilter"]
WRITERS = ("budget",)


def field_error(field: str, message: str, kind: str = "value_error") -> ValidationFailed:
    return ValidationFailed([{"path": field, "message": message, "type": kind}], detail=message)


def etag_of(amount_id: int, revision: int) -> str:
    return version_etag("amount", amount_id, revision)


def etag(row: m.BudgetAmount) -> str:
    return etag_of(row.id, row.revision)


def view(row: m.BudgetAmount) -> dict[str, Any]:
    """An amount as served: money as decimal strings with 2 places, the split recomputed from the row."""
    e = repo.to_entry(row)
    return {
        "id": row.id,
        "breakdown": row.breakdown,
        "year": row.year,
        "month": row.month,
        "phase": row.phase,
        "eixo": row.eixo,
        "subinvestment": row.subinvestment,
        "fund_item": row.fund_item,
        "rubric": row.rubric,
        "code_table_version": row.code_table_version,
        "npd": row.npd,
        "funding_source": row.funding_source,
        "vat_rate": str(e.vat_rate),
        "gross": format_money(e.gross),
        "net": format_money(e.net),
        "vat": format_money(e.vat),
        "prr_eur": format_money(e.prr),
        "national_eur": format_money(e.national),
        "description": row.description,
        "source": row.source,
        "origin": row.origin,
        "revision": row.revision,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _snapshot(row: m.BudgetAmount) -> dict[str, Any]:
    """What the audit trail keeps of an amount (its values, not its timestamps)."""
    out = view(row)
    del out["created_at"], out["updated_at"]
    return out


def _build(raw: AmountInput, ctx: BudgetContext) -> tuple[AmountEntry, CodeTable]:
    """Validate against the structure and the code table in force on the amount's date."""
    try:
        if not FIRST_YEAR <= raw.year <= LAST_YEAR:
            raise ValueError("year out of range")  # build_entry reports it on the year field
        on = date(raw.year, raw.month if raw.month and 1 <= raw.month <= 12 else 1, 1)
        codes = table_in_force(ctx.tables, on)
    except ValueError:
        codes = ctx.codes
    except CodeError:
        if raw.rubric is not None:
            raise field_error("rubric", f"no economic code table is in force in {raw.year}") from None
        codes = ctx.codes  # no rubric to validate; the year itself is checked by build_entry
    try:
        return build_entry(raw, ctx.structure, codes), codes
    except AmountError as exc:
        raise field_error(exc.field, str(exc)) from None


async def _get_or_404(session: AsyncSession, amount_id: int) -> m.BudgetAmount:
    row = await repo.get_amount(session, amount_id)
    if row is None:
        raise NotFound(f"Amount {amount_id} does not exist.")
    return row


def _refuse_seed(row: m.BudgetAmount) -> None:
    if row.origin == "seed":
        raise Conflict(
            "This amount is a published (seed) figure and is never altered; record a 'corrected' amount instead."
        )


async def create(write: WriteContext, state: BudgetState, raw: AmountInput) -> m.BudgetAmount:
    session = write.session
    require_budget(write.principal, state, WRITERS)
    ctx = await load(session, state.cache)
    entry, codes = _build(raw, ctx)
    row = await repo.flushed(session, repo.add_amount(session, entry, code_table_version=codes.version))
    await write.audit(ENTITY, row.id, "create", after=_snapshot(row), organisation=state.organisation)
    await record_change(session, None, entry)
    write.headers["Location"] = f"/v1/budget/amounts/{row.id}"
    return row


async def current_etag(session: AsyncSession, state: BudgetState, who: Principal, amount_id: int) -> str:
    """The amount's ETag for the write envelope's preconditions (404 as for a read)."""
    return etag(await get(session, state, who, amount_id))


async def get(session: AsyncSession, state: BudgetState, who: Principal, amount_id: int) -> m.BudgetAmount:
    require_budget(who, state)
    return await _get_or_404(session, amount_id)


async def list_page(
    session: AsyncSession,
    state: BudgetState,
    who: Principal,
    filters: repo.AmountFilter,
    page: PageParams,
) -> PageResult[m.BudgetAmount]:
    require_budget(who, state)
    return await repo.list_amounts(session, filters, page)


async def update(write: WriteContext, state: BudgetState, amount_id: int, changes: dict[str, Any]) -> m.BudgetAmount:
    """Change the fields in ``changes`` (validated again as a whole, VAT split recomputed); a change that
    changes nothing writes nothing (no revision, no audit event, the ETag stays valid)."""
    session = write.session
    require_budget(write.principal, state, WRITERS)
    ctx = await load(session, state.cache)
    row = await _get_or_404(session, amount_id)
    _refuse_seed(row)
    before = _snapshot(row)
    current = repo.to_entry(row)

    def keep(key: str, default: Any) -> Any:
        # null on a field that cannot be empty means "unchanged"; on month/rubric/... it clears the field
        value = changes.get(key)
        return default if value is None else value

    merged = AmountInput(
        breakdown=row.breakdown,
        year=keep("year", row.year),
        month=changes.get("month", row.month),
        phase=keep("phase", row.phase),
        # an unchanged amount is re-split from its stored gross
        amount=keep("amount", str(current.gross)),
        basis=keep("basis", "gross") if changes.get("amount") is not None else "gross",
        vat_rate=changes.get("vat_rate", str(current.vat_rate)),
        eixo=row.eixo,
        subinvestment=changes.get("subinvestment", row.subinvestment),
        fund_item=changes.get("fund_item", row.fund_item),
        rubric=changes.get("rubric", row.rubric),
        npd=changes.get("npd", row.npd),
        funding_source=keep("funding_source", row.funding_source),
        description=keep("description", row.description),
        source=row.source,
    )
    if "subinvestment" in changes or "fund_item" in changes:
        merged = replace(merged, eixo=None)  # the eixo follows the new position
    entry, codes = _build(merged, ctx)
    columns = repo.entry_columns(entry)
    code_version = codes.version if entry.rubric else None
    if row.code_table_version == code_version and all(getattr(row, k) == v for k, v in columns.items()):
        write.unchanged()
        return row
    for key, value in columns.items():
        setattr(row, key, value)
    row.code_table_version = code_version
    row.revision += 1
    row = await repo.flushed(session, row)
    await write.audit(ENTITY, row.id, "update", before=before, after=_snapshot(row), organisation=state.organisation)
    await record_change(session, current, entry)
    return row


async def delete(write: WriteContext, state: BudgetState, amount_id: int) -> None:
    session = write.session
    require_budget(write.principal, state, WRITERS)
    row = await _get_or_404(session, amount_id)
    _refuse_seed(row)
    before = _snapshot(row)
    removed = repo.to_entry(row)
    await repo.delete_row(session, row)
    await write.audit(ENTITY, amount_id, "delete", before=before, organisation=state.organisation)
    await record_change(session, removed, None)

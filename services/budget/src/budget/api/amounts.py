"""Amounts CRUD: money as decimal strings (<= 2 places), Idempotency-Key on create, If-Match on change."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from budget.api.common import BudgetWriter, ContextDep, field_error, money
from budget.db import models as m
from budget.db import repositories as repo
from budget.domain.amounts import FIRST_YEAR, LAST_YEAR, AmountEntry, AmountError, AmountInput, build_entry
from budget.domain.economic_codes import CodeError, CodeTable, table_in_force
from budget.metrics import record_change
from metas_kit.audit import record_audit
from metas_kit.auth import Reader
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES, Conflict, NotFound
from metas_kit.etag import not_modified, require_if_match, version_etag
from metas_kit.idempotency import remember, replay
from metas_kit.pagination import PageDep, encode_cursor

AmountId = Annotated[int, Path(ge=1, le=2**63 - 1)]
CODE = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
Text = Annotated[str, Field(max_length=2000, pattern=r"^[^\x00]*$")]
router = APIRouter(prefix="/v1/budget/amounts", tags=["budget-amounts"], responses=PROBLEM_RESPONSES)

MoneyIn = Annotated[
    StrictStr | StrictInt,
    Field(description='EUR as a decimal string with at most 2 places, e.g. "1230.00"; floats are refused'),
]
RateIn = Annotated[StrictStr | StrictInt, Field(description='VAT rate as a fraction, e.g. "0.23" (default), "0.06"')]


class AmountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    breakdown: Literal["subinvestment", "rubric", "procurement"]
    year: int
    month: int | None = None
    phase: Literal["planned", "corrected", "committed", "executed"]
    amount: MoneyIn
    basis: Literal["gross", "net"] = "gross"
    vat_rate: RateIn | None = None
    eixo: int | None = None
    subinvestment: str | None = Field(None, max_length=20, pattern=CODE)
    fund_item: str | None = Field(None, max_length=40, pattern=CODE)
    rubric: str | None = Field(None, max_length=40, pattern=CODE)
    npd: str | None = Field(None, max_length=40, pattern=CODE)
    funding_source: Literal["prr", "oe"] = "prr"
    description: Text = ""


class AmountPatch(BaseModel):
    """Fields to change; the whole amount is validated again (VAT split recomputed)."""

    model_config = ConfigDict(extra="forbid")

    year: int | None = None
    month: int | None = None
    phase: Literal["planned", "corrected", "committed", "executed"] | None = None
    amount: MoneyIn | None = None
    basis: Literal["gross", "net"] | None = None
    vat_rate: RateIn | None = None
    subinvestment: str | None = Field(None, max_length=20, pattern=CODE)
    fund_item: str | None = Field(None, max_length=40, pattern=CODE)
    rubric: str | None = Field(None, max_length=40, pattern=CODE)
    npd: str | None = Field(None, max_length=40, pattern=CODE)
    funding_source: Literal["prr", "oe"] | None = None
    description: Text | None = None


class AmountRead(BaseModel):
    id: int
    breakdown: str
    year: int
    month: int | None
    phase: str
    eixo: int
    subinvestment: str | None
    fund_item: str | None
    rubric: str | None
    code_table_version: str | None
    npd: str | None
    funding_source: str
    vat_rate: str
    gross: str
    net: str
    vat: str
    prr_eur: str
    national_eur: str
    description: str
    source: str
    origin: str
    revision: int
    created_at: datetime
    updated_at: datetime


class AmountPage(BaseModel):
    items: list[AmountRead]
    next_cursor: str | None


def _read(row: m.BudgetAmount) -> AmountRead:
    e = repo.to_entry(row)
    return AmountRead(
        id=row.id,
        breakdown=row.breakdown,
        year=row.year,
        month=row.month,
        phase=row.phase,
        eixo=row.eixo,
        subinvestment=row.subinvestment,
        fund_item=row.fund_item,
        rubric=row.rubric,
        code_table_version=row.code_table_version,
        npd=row.npd,
        funding_source=row.funding_source,
        vat_rate=str(e.vat_rate),
        gross=money(e.gross) or "0.00",
        net=money(e.net) or "0.00",
        vat=money(e.vat) or "0.00",
        prr_eur=money(e.prr) or "0.00",
        national_eur=money(e.national) or "0.00",
        description=row.description,
        source=row.source,
        origin=row.origin,
        revision=row.revision,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _etag(row: m.BudgetAmount) -> str:
    return version_etag("amount", row.id, row.revision)


def _snapshot(row: m.BudgetAmount) -> dict[str, Any]:
    return _read(row).model_dump(mode="json", exclude={"created_at", "updated_at"})


def _build(raw: AmountInput, ctx: ContextDep) -> tuple[AmountEntry, CodeTable]:
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


@router.post("", status_code=201, summary="Record an amount (split into net and VAT)", response_model=AmountRead)
async def create_amount(
    body: AmountCreate, request: Request, who: BudgetWriter, session: SessionDep, ctx: ContextDep
) -> Response:
    payload = body.model_dump(mode="json")
    replayed = await replay(session, m.IdempotencyRecord, request, who, payload)
    if replayed is not None:
        return replayed
    entry, codes = _build(
        AmountInput(
            breakdown=body.breakdown,
            year=body.year,
            month=body.month,
            phase=body.phase,
            amount=body.amount,
            basis=body.basis,
            vat_rate=body.vat_rate,
            eixo=body.eixo,
            subinvestment=body.subinvestment,
            fund_item=body.fund_item,
            rubric=body.rubric,
            npd=body.npd,
            funding_source=body.funding_source,
            description=body.description,
            source="api",
        ),
        ctx,
    )
    row = repo.add_amount(session, entry, code_table_version=codes.version)
    await session.flush()
    await session.refresh(row)
    out = _read(row).model_dump(mode="json")
    await record_audit(
        session, m.AuditEvent, who, action="create", entity_type="budget_amount", entity_id=str(row.id), after=out
    )
    headers = {"etag": _etag(row), "location": f"/v1/budget/amounts/{row.id}"}
    remember(session, m.IdempotencyRecord, request, who, payload, status_code=201, body=out, headers=headers)
    await record_change(session, None, entry)
    return JSONResponse(out, status_code=201, headers=headers)


@router.get("", summary="List amounts (filters; keyset pagination)", response_model=AmountPage)
async def list_amounts(
    session: SessionDep,
    _who: Reader,
    page: PageDep,
    breakdown: Annotated[Literal["subinvestment", "rubric", "procurement"] | None, Query()] = None,
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    month: Annotated[int | None, Query(ge=1, le=12)] = None,
    phase: Annotated[Literal["planned", "corrected", "committed", "executed"] | None, Query()] = None,
    eixo: Annotated[int | None, Query(ge=1, le=99)] = None,
    subinvestment: Annotated[str | None, Query(max_length=20, pattern=CODE)] = None,
    fund_item: Annotated[str | None, Query(max_length=40, pattern=CODE)] = None,
    rubric: Annotated[
        str | None, Query(max_length=40, pattern=CODE, description="code or any prefix it rolls up to")
    ] = None,
    origin: Annotated[Literal["seed", "api"] | None, Query()] = None,
) -> AmountPage:
    after = page.cursor.get("id") if page.cursor else None
    if not isinstance(after, int) or not 0 <= after < 2**63:
        after = None
    rows = await repo.list_amounts(
        session,
        repo.AmountFilter(breakdown, year, month, phase, eixo, subinvestment, fund_item, rubric, origin),
        limit=page.limit + 1,
        after_id=after if isinstance(after, int) else None,
    )
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    return AmountPage(
        items=[_read(r) for r in rows], next_cursor=encode_cursor({"id": rows[-1].id}) if more and rows else None
    )


async def _get_or_404(session: SessionDep, amount_id: int) -> m.BudgetAmount:
    row = await repo.get_amount(session, amount_id)
    if row is None:
        raise NotFound(f"Amount {amount_id} does not exist.")
    return row


def _refuse_seed(row: m.BudgetAmount) -> None:
    if row.origin == "seed":
        raise Conflict(
            "This amount is a published (seed) figure and is never altered; record a 'corrected' amount instead."
        )


@router.get("/{amount_id}", summary="One amount (with its ETag; If-None-Match -> 304)", response_model=AmountRead)
async def get_amount(amount_id: AmountId, request: Request, session: SessionDep, _who: Reader) -> Response:
    row = await _get_or_404(session, amount_id)
    if not_modified(request, _etag(row)):
        return Response(status_code=304, headers={"etag": _etag(row)})
    return JSONResponse(_read(row).model_dump(mode="json"), headers={"etag": _etag(row)})


@router.patch("/{amount_id}", summary="Change an amount (If-Match required)", response_model=AmountRead)
async def patch_amount(
    amount_id: AmountId, body: AmountPatch, request: Request, who: BudgetWriter, session: SessionDep, ctx: ContextDep
) -> Response:
    row = await _get_or_404(session, amount_id)
    _refuse_seed(row)
    require_if_match(request, _etag(row))
    before = _snapshot(row)
    changes = body.model_dump(exclude_unset=True)
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
        merged.eixo = None  # the eixo follows the new position
    entry, codes = _build(merged, ctx)
    columns = repo.entry_columns(entry)
    code_version = codes.version if entry.rubric else None
    if row.code_table_version == code_version and all(getattr(row, k) == v for k, v in columns.items()):
        # Nothing changed (e.g. `{}`, or the values already stored): no revision, no audit event, same ETag.
        return JSONResponse(_read(row).model_dump(mode="json"), headers={"etag": _etag(row)})
    for key, value in columns.items():
        setattr(row, key, value)
    row.code_table_version = code_version
    row.revision += 1
    await session.flush()
    await session.refresh(row)
    out = _read(row).model_dump(mode="json")
    await record_audit(
        session,
        m.AuditEvent,
        who,
        action="update",
        entity_type="budget_amount",
        entity_id=str(row.id),
        before=before,
        after=_snapshot(row),
    )
    await record_change(session, current, entry)
    return JSONResponse(out, headers={"etag": _etag(row)})


@router.delete("/{amount_id}", status_code=204, summary="Delete an amount (If-Match required)")
async def delete_amount(amount_id: AmountId, request: Request, session: SessionDep, who: BudgetWriter) -> Response:
    row = await _get_or_404(session, amount_id)
    _refuse_seed(row)
    require_if_match(request, _etag(row))
    before = _snapshot(row)
    removed = repo.to_entry(row)
    await session.delete(row)
    await session.flush()
    await record_audit(
        session,
        m.AuditEvent,
        who,
        action="delete",
        entity_type="budget_amount",
        entity_id=str(amount_id),
        before=before,
    )
    await record_change(session, removed, None)
    return Response(status_code=204)

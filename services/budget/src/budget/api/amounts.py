"""Amounts CRUD: money as decimal strings (<= 2 places), Idempotency-Key on create, If-Match on change."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from budget.api.common import StateDep, bodiless
from budget.application import amounts
from budget.domain.amounts import AmountInput
from metas_kit.auth import BudgetOfficer, Reader
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES
from metas_kit.etag import not_modified
from metas_kit.numbers import Rate, SignedMoney
from metas_kit.pagination import PageDep
from metas_kit.timestamps import UtcDateTime
from metas_kit.writes import Write, WriteContext

AmountId = Annotated[int, Path(ge=1, le=2**63 - 1)]
CODE = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
Text = Annotated[str, Field(max_length=2000, pattern=r"^[^\x00]*$")]
router = APIRouter(prefix="/v1/budget/amounts", tags=["budget-amounts"], responses=PROBLEM_RESPONSES)

# The kit's number grammar (plain ASCII decimal text), narrowed to exactly two places: money is returned with two
# (docs/architecture.md), so only what is returned is accepted and an amount is stored exactly as sent ("1230.5",
# "1230" or a JSON integer would come back as "1230.50"). A sign is accepted here and refused by the domain unless
# the phase is `corrected`, so the refusal names the rule.
TWO_PLACES = r"^-?[0-9]{1,13}\.[0-9]{2}$"


def _two_places(value: str) -> str:
    if not re.fullmatch(TWO_PLACES, value):
        raise ValueError(f'write money as a string with two decimal places, e.g. "1230.50"; got {value[:20]!r}')
    return value


MoneyIn = Annotated[
    SignedMoney,
    AfterValidator(_two_places),
    WithJsonSchema({"type": "string", "pattern": TWO_PLACES, "maxLength": 17}, mode="validation"),
    Field(description='EUR as a decimal string with exactly two places, e.g. "1230.50"; stored and returned as sent'),
]
RateIn = Annotated[Rate, Field(description='VAT rate as a fraction, e.g. "0.23" (default), "0.06"')]


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
    created_at: UtcDateTime
    updated_at: UtcDateTime


class AmountPage(BaseModel):
    items: list[AmountRead]
    next_cursor: str | None


def _read(row: Any) -> AmountRead:
    return AmountRead(**amounts.view(row))


@router.post("", status_code=201, summary="Record an amount (split into net and VAT)", response_model=AmountRead)
async def create_amount(body: AmountCreate, write: Write, who: BudgetOfficer, state: StateDep) -> Any:
    async def apply(ctx: WriteContext) -> AmountRead:
        return _read(await amounts.create(ctx, state, AmountInput(**body.model_dump(), source="api")))

    return await write(apply, payload=body, status_code=201, etag=lambda out: amounts.etag_of(out.id, out.revision))


@router.get("", summary="List amounts (filters; keyset pagination)")
async def list_amounts(
    session: SessionDep,
    who: Reader,
    state: StateDep,
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
    result = await amounts.list_page(
        session,
        state,
        who,
        amounts.AmountFilter(breakdown, year, month, phase, eixo, subinvestment, fund_item, rubric, origin),
        page,
    )
    return AmountPage(items=[_read(r) for r in result.items], next_cursor=result.next_cursor)


@router.get(
    "/{amount_id}",
    summary="One amount (with its ETag; If-None-Match -> 304)",
    response_model=AmountRead,
    responses={304: {"description": "Not modified (If-None-Match)"}},
)
async def get_amount(
    amount_id: AmountId, request: Request, response: Response, session: SessionDep, who: Reader, state: StateDep
) -> Any:
    row = await amounts.get(session, state, who, amount_id)
    etag = amounts.etag(row)
    if not_modified(request, etag):
        return Response(status_code=304, headers={"etag": etag})
    response.headers["etag"] = etag
    return _read(row)


@router.patch("/{amount_id}", summary="Change an amount (If-Match required)", response_model=AmountRead)
async def patch_amount(
    amount_id: AmountId, body: AmountPatch, write: Write, who: BudgetOfficer, state: StateDep
) -> Any:
    changes = body.model_dump(exclude_unset=True)

    async def apply(ctx: WriteContext) -> AmountRead:
        return _read(await amounts.update(ctx, state, amount_id, changes))

    return await write(
        apply,
        payload=changes,
        current_etag=lambda: amounts.current_etag(write.session, state, who, amount_id),
        if_match="required",
        etag=lambda out: amounts.etag_of(out.id, out.revision),
    )


@router.delete(
    "/{amount_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an amount (If-Match required)",
)
async def delete_amount(amount_id: AmountId, write: Write, who: BudgetOfficer, state: StateDep) -> Response:
    async def apply(ctx: WriteContext) -> None:
        await amounts.delete(ctx, state, amount_id)

    replayed = await write(
        apply,
        payload={"id": amount_id},
        current_etag=lambda: amounts.current_etag(write.session, state, who, amount_id),
        if_match="required",
        status_code=204,
    )
    # No body either way; a replay carries the first answer's headers.
    headers = replayed.headers if isinstance(replayed, Response) else write.response.headers
    return Response(status_code=204, headers=bodiless(headers))

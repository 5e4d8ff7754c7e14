"""Browse the investment structure and the economic code tables (read-only)."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from budget.api.common import StateDep, money
from budget.application import structure
from budget.domain.economic_codes import CodeError, lineage, parse_code
from budget.domain.published import TABLE19_YEARS, PublishedBudget, SubInvestment
from metas_kit.auth import Reader
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES, NotFound
from metas_kit.etag import not_modified
from metas_kit.timestamps import UtcDateTime

router = APIRouter(prefix="/v1/budget", tags=["budget-structure"], responses=PROBLEM_RESPONSES)


def _sub(s: SubInvestment, *, lines: bool, links: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "code": s.code_table19,
        "code_annex4": s.code_annex4,
        "eixo": s.eixo,
        "name": s.name_table19,
        "names": {"table19": s.name_table19, "section33": s.name_section33, "annex4": s.name_annex4},
        "total_estimated_eur": money(s.total_estimated),
        "table19_eur": {str(y): money(s.table19[y]) for y, _k, _p in TABLE19_YEARS},
        "procurement_line_count": len(s.lines),
    }
    if lines:
        out["procurement_lines"] = [
            {
                "position": line.position,
                "npd": line.npd,
                "description": line.description,
                "amount_eur": money(line.amount),
                "amount_as_printed": line.amount_as_printed,
            }
            for line in s.lines
        ]
    if links is not None:
        out["initiatives"] = links
    return out


def _structure(pb: PublishedBudget) -> dict[str, Any]:
    return {
        "programme": pb.programme,
        "component": pb.component,
        "investment": {"code": pb.investment_code, "name": pb.investment_name, "total_cost_eur": money(pb.total_cost)},
        "eixos": [
            {
                "number": e.number,
                "name": e.name or e.name_annex3,
                "ii_responsible": e.ii_responsible,
                "strategic_objective": e.strategic_objective,
                "operational_objectives": list(e.operational_objectives),
                "total_cost_eur": money(e.total_cost),
                "table19_eur": {str(y): money(e.table19[y]) for y, _k, _p in TABLE19_YEARS},
                "subinvestments": [_sub(s, lines=False) for s in pb.subinvestments_of(e.number)],
                "fund_items": [f.code for f in pb.annex5.fund_items if f.eixo == e.number],
            }
            for e in pb.eixos
        ],
    }


class SubinvestmentNames(BaseModel):
    table19: str
    section33: str | None
    annex4: str | None


class SubinvestmentOut(BaseModel):
    code: str
    code_annex4: str
    eixo: int
    name: str
    names: SubinvestmentNames
    total_estimated_eur: str | None
    table19_eur: dict[str, str | None]
    procurement_line_count: int


class ProcurementLineOut(BaseModel):
    position: int
    npd: str | None
    description: str
    amount_eur: str | None
    amount_as_printed: str


class LinkedInitiative(BaseModel):
    plan_id: str
    initiative_code: str
    initiative_name: str | None


class SubinvestmentDetail(SubinvestmentOut):
    procurement_lines: list[ProcurementLineOut]
    initiatives: list[LinkedInitiative]


class SubinvestmentPage(BaseModel):
    items: list[SubinvestmentOut]
    next_cursor: str | None


class EixoOut(BaseModel):
    number: int
    name: str | None
    ii_responsible: bool
    strategic_objective: str | None
    operational_objectives: list[str]
    total_cost_eur: str | None
    table19_eur: dict[str, str | None]
    subinvestments: list[SubinvestmentOut]
    fund_items: list[str]


class InvestmentOut(BaseModel):
    code: str
    name: str
    total_cost_eur: str | None


class PublishedRef(BaseModel):
    id: int
    label: str
    sha256: str
    loaded_at: UtcDateTime


class StructureOut(BaseModel):
    programme: str
    component: str
    investment: InvestmentOut
    eixos: list[EixoOut]
    published_budget: PublishedRef


class FundItemRubric(BaseModel):
    rubric: str
    description: str | None
    amount_2024_eur: str | None


class FundItemOut(BaseModel):
    code: str
    description: str | None
    eixo: int | None
    spending: str | None
    group: str | None
    amount_2024_eur: str | None
    rubrics: list[FundItemRubric]


class FundItemPage(BaseModel):
    items: list[FundItemOut]
    next_cursor: str | None


class CodeTableOut(BaseModel):
    version: str
    valid_from: str
    source: str | None
    codes: int


class CodeTablePage(BaseModel):
    items: list[CodeTableOut]
    next_cursor: str | None


class EconomicCodeOut(BaseModel):
    code: str
    name: str
    level: int
    spending_type: str | None


class EconomicCodePage(BaseModel):
    version: str
    items: list[EconomicCodeOut]
    next_cursor: str | None


class CodeRef(BaseModel):
    code: str
    name: str | None


class EconomicCodeDetail(EconomicCodeOut):
    version: str
    rolls_up_to: list[CodeRef]


class PublishedRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    label: str
    source_file: str
    sha256: str
    loaded_at: UtcDateTime


class PublishedPage(BaseModel):
    items: list[PublishedRead]
    next_cursor: str | None


@router.get("/structure", summary="Programme → component → investment → eixo → sub-investment tree")
async def get_structure(session: SessionDep, who: Reader, state: StateDep) -> StructureOut:
    ctx = await structure.context(session, state, who)
    out = _structure(ctx.published.budget)
    out["published_budget"] = PublishedRef.model_validate(ctx.published.row, from_attributes=True)
    return StructureOut.model_validate(out)


@router.get("/published-budgets", summary="Published budget versions (the seed documents as loaded)")
async def list_published(session: SessionDep, who: Reader, state: StateDep) -> PublishedPage:
    rows = await structure.list_published(session, state, who)
    return PublishedPage(items=[PublishedRead.model_validate(r) for r in rows], next_cursor=None)


@router.get(
    "/published-budgets/{published_id}",
    summary="A published budget document, verbatim (ETag)",
    responses={
        200: {"content": {"application/json": {"schema": {"type": "object"}}}, "description": "The document"},
        304: {"description": "Not modified (If-None-Match)"},
    },
)
async def get_published(
    published_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    request: Request,
    session: SessionDep,
    who: Reader,
    state: StateDep,
) -> Response:
    etag, document = await structure.published_document(
        session, state, who, published_id, cached=partial(not_modified, request)
    )
    if document is None:
        return Response(status_code=304, headers={"etag": etag})
    # The source document verbatim, as loaded: it has no schema of its own to validate against.
    return JSONResponse(document, headers={"etag": etag})


@router.get("/eixos/{number}", summary="One eixo with its sub-investments and fund items")
async def get_eixo(number: int, session: SessionDep, who: Reader, state: StateDep) -> EixoOut:
    ctx = await structure.context(session, state, who)
    for e in _structure(ctx.published.budget)["eixos"]:
        if e["number"] == number:
            return EixoOut.model_validate(e)
    raise NotFound(f"Eixo {number} does not exist.")


@router.get("/subinvestments", summary="Sub-investments (both code schemes)")
async def list_subinvestments(
    session: SessionDep, who: Reader, state: StateDep, eixo: Annotated[int | None, Query(ge=1, le=5)] = None
) -> dict[str, Any]:
    ctx = await structure.context(session, state, who)
    subs = ctx.published.budget.subinvestments
    return {"items": [_sub(s, lines=False) for s in subs if eixo is None or s.eixo == eixo], "next_cursor": None}


@router.get("/subinvestments/{code}", summary="One sub-investment by Tabela 19 (1.1.1) or Anexo 4 (1.1) code")
async def get_subinvestment(code: str, session: SessionDep, who: Reader, state: StateDep) -> SubinvestmentDetail:
    s, rows = await structure.subinvestment(session, state, who, code)
    links = [
        {"plan_id": r.plan_id, "initiative_code": r.initiative_code, "initiative_name": r.initiative_name} for r in rows
    ]
    return SubinvestmentDetail.model_validate(_sub(s, lines=True, links=links))


@router.get("/fund-items", summary="Anexo 5 fund items with their rubric lines as printed")
async def list_fund_items(session: SessionDep, who: Reader, state: StateDep) -> FundItemPage:
    ctx = await structure.context(session, state, who)
    items = []
    for g in ctx.published.budget.annex5.groups:
        for f in g.fund_items:
            items.append(
                {
                    "code": f.code,
                    "description": f.description,
                    "eixo": f.eixo,
                    "spending": f.spending,
                    "group": g.name,
                    "amount_2024_eur": money(f.amount),
                    "rubrics": [
                        {"rubric": r.rubric_code, "description": r.description, "amount_2024_eur": money(r.amount)}
                        for r in f.rubrics
                    ],
                }
            )
    return FundItemPage.model_validate({"items": items, "next_cursor": None})


@router.get("/code-tables", summary="Versions of the economic classification table")
async def list_code_tables(session: SessionDep, who: Reader, state: StateDep) -> CodeTablePage:
    ctx = await structure.context(session, state, who)
    return CodeTablePage(
        items=[
            CodeTableOut(version=t.version, valid_from=t.valid_from.isoformat(), source=t.source, codes=len(t.codes))
            for t in ctx.tables
        ],
        next_cursor=None,
    )


@router.get("/economic-codes", summary="Economic codes of a table version (default: the latest)")
async def list_codes(
    session: SessionDep,
    who: Reader,
    state: StateDep,
    version: Annotated[str | None, Query(max_length=40)] = None,
    prefix: Annotated[str | None, Query(max_length=40, description="only codes under this code")] = None,
) -> EconomicCodePage:
    table = structure.code_table((await structure.context(session, state, who)).tables, version)
    items = [
        EconomicCodeOut(code=c, name=n, level=len(parse_code(c)), spending_type=table.spending_type(c))
        for c, n in sorted(table.codes.items())
        if prefix is None or c == prefix or c.startswith(prefix + ".")
    ]
    return EconomicCodePage(version=table.version, items=items, next_cursor=None)


@router.get("/economic-codes/{code}", summary="Validate a code and show what it rolls up to")
async def get_code(
    code: str,
    session: SessionDep,
    who: Reader,
    state: StateDep,
    version: Annotated[str | None, Query(max_length=40)] = None,
) -> EconomicCodeDetail:
    table = structure.code_table((await structure.context(session, state, who)).tables, version)
    try:
        normalised = table.validate(code)
    except CodeError as exc:
        raise NotFound(str(exc)) from None
    return EconomicCodeDetail(
        version=table.version,
        code=normalised,
        name=table.codes[normalised],
        level=len(parse_code(normalised)),
        spending_type=table.spending_type(normalised),
        rolls_up_to=[CodeRef(code=c, name=table.codes.get(c)) for c in lineage(normalised)[1:]],
    )

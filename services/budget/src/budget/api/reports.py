"""Reports (JSON or CSV) and the reconciliation of the published tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from budget.api.common import CSV_RESPONSE, StateDep, csv_response, money, pct
from budget.application import documents, reports
from budget.application.documents import MEDIA_TYPES
from budget.domain.money import format_money
from budget.domain.reconciliation import CheckResult
from budget.domain.reports import DIMENSIONS, Totals
from metas_kit.auth import Reader
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/budget", tags=["budget-reports"], responses=PROBLEM_RESPONSES)

TOTAL_COLUMNS = (
    "initial",
    "corrections",
    "planned",
    "committed",
    "executed",
    "variance",
    "execution_rate_pct",
    "planned_net",
    "planned_vat",
    "executed_net",
    "executed_vat",
    "executed_prr",
    "executed_national",
)
Format = Annotated[Literal["json", "csv"], Query(alias="format", description="json (default) or csv")]


class TotalsOut(BaseModel):
    initial: str | None
    corrections: str | None
    planned: str | None
    committed: str | None
    executed: str | None
    variance: str | None
    execution_rate_pct: str | None
    planned_net: str | None
    planned_vat: str | None
    executed_net: str | None
    executed_vat: str | None
    executed_prr: str | None
    executed_national: str | None


class PlannedVsExecutedOut(BaseModel):
    group_by: list[str]
    breakdown: str
    year: int | None
    rows: list[dict[str, Any]] = Field(
        description="the group's keys, its totals (as in `total`) and, by rubric, "
        "`rubric_name`; by sub-investment, `initiatives`"
    )
    total: TotalsOut


class CumulativeOut(BaseModel):
    by: str
    up_to_year: int
    rows: list[dict[str, Any]] = Field(
        description="`eixo` or `subinvestment`, total_cost, planned_to_date, "
        "executed_to_date, execution_of_total_pct, remaining"
    )


def _totals(t: Totals) -> dict[str, str | None]:
    # Every figure of Totals is a Decimal (never None), so format_money directly; only the rate may be undefined.
    return {
        "initial": format_money(t.initial),
        "corrections": format_money(t.corrections),
        "planned": format_money(t.planned),
        "committed": format_money(t.committed),
        "executed": format_money(t.executed),
        "variance": format_money(t.variance),
        "execution_rate_pct": pct(t.execution_rate_pct),
        "planned_net": format_money(t.planned_net),
        "planned_vat": format_money(t.planned_vat),
        "executed_net": format_money(t.executed_net),
        "executed_vat": format_money(t.executed_vat),
        "executed_prr": format_money(t.executed_prr),
        "executed_national": format_money(t.executed_national),
    }


@router.get(
    "/reports/planned-vs-executed",
    summary="Planned vs executed grouped by year, eixo, sub-investment, rubric, fund item (JSON or CSV)",
    response_model=PlannedVsExecutedOut,
    responses=CSV_RESPONSE,
)
async def report_planned_vs_executed(
    session: SessionDep,
    who: Reader,
    state: StateDep,
    group_by: Annotated[str, Query(description=f"comma-separated: {', '.join(DIMENSIONS)}")] = "eixo,year",
    breakdown: Annotated[Literal["subinvestment", "rubric", "procurement"] | None, Query()] = None,
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    rubric_level: Annotated[int | None, Query(ge=1, le=5, description="roll rubrics up to this level")] = None,
    fmt: Format = "json",
) -> Any:
    dims = [d.strip() for d in group_by.split(",") if d.strip()]
    result = await reports.planned_vs_executed_report(
        session, state, who, dims, breakdown=breakdown, year=year, rubric_level=rubric_level
    )
    report, rubric_names, links = result.report, result.rubric_names, result.initiatives

    def initiatives(keys: Any) -> list[dict[str, str]]:
        return [] if links is None else links.get(str(keys.get("subinvestment")), [])

    if fmt == "csv":
        extra = ["initiatives"] if links is not None else []
        rows = [
            [
                *(r.keys[d] for d in dims),
                *_totals(r.totals).values(),
                *([";".join(f"{i['plan_id']}:{i['initiative_code']}" for i in initiatives(r.keys))] if extra else []),
            ]
            for r in report.rows
        ]
        rows.append(["TOTAL", *([""] * (len(dims) - 1)), *_totals(report.total).values(), *([""] if extra else [])])
        return csv_response([*dims, *TOTAL_COLUMNS, *extra], rows, "planned-vs-executed.csv")
    out_rows = []
    for r in report.rows:
        row: dict[str, Any] = {**r.keys, **_totals(r.totals)}
        if rubric_names is not None:  # grouped by rubric
            row["rubric_name"] = rubric_names.get(str(r.keys["rubric"]))
        if links is not None:
            row["initiatives"] = initiatives(r.keys)
        out_rows.append(row)
    return PlannedVsExecutedOut(
        group_by=dims,
        breakdown=report.breakdown.value,
        year=year,
        rows=out_rows,
        total=TotalsOut.model_validate(_totals(report.total)),
    )


@router.get(
    "/reports/cumulative",
    summary="Cumulative execution against total cost (JSON or CSV)",
    response_model=CumulativeOut,
    responses=CSV_RESPONSE,
)
async def report_cumulative(
    session: SessionDep,
    who: Reader,
    state: StateDep,
    by: Annotated[Literal["eixo", "subinvestment"], Query()] = "eixo",
    up_to_year: Annotated[int, Query(ge=2021, le=2026)] = 2024,
    fmt: Format = "json",
) -> Any:
    rows = await reports.cumulative_report(session, state, who, by=by, up_to_year=up_to_year)
    out = [
        {
            by: r.key,
            "total_cost": money(r.total_cost),
            "planned_to_date": money(r.planned_to_date),
            "executed_to_date": money(r.executed_to_date),
            "execution_of_total_pct": pct(r.execution_of_total_pct),
            "remaining": money(r.remaining),
        }
        for r in rows
    ]
    if fmt == "csv":
        header = [by, "total_cost", "planned_to_date", "executed_to_date", "execution_of_total_pct", "remaining"]
        return csv_response(header, [[row[h] for h in header] for row in out], f"cumulative-{by}-{up_to_year}.csv")
    return CumulativeOut(by=by, up_to_year=up_to_year, rows=out)


DOCUMENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The PRR budget execution document: PDF, XLSX or CSV",
        "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in MEDIA_TYPES.values()},
    },
}


@router.get(
    "/reports/execution-document",
    response_class=Response,
    responses=DOCUMENT_RESPONSES,
    summary="The PRR budget execution document by eixo, sub-investment and rubric (PDF, XLSX or CSV)",
)
async def execution_document(
    session: SessionDep,
    who: Reader,
    state: StateDep,
    year: Annotated[int | None, Query(ge=2021, le=2026, description="one year (default: every year)")] = None,
    fmt: Annotated[Literal["pdf", "xlsx", "csv"], Query(alias="format")] = "pdf",
) -> Response:
    document = await documents.execution(session, state, who, fmt=fmt, year=year)
    return Response(
        document.content,
        media_type=document.media_type,
        headers={"content-disposition": f'attachment; filename="{document.filename}"'},
    )


class CheckOut(BaseModel):
    check: str
    path: str
    tables: list[str]
    description: str
    printed: str | None
    computed: str | None
    difference: str | None
    severity: str
    ok: bool


class PublishedRef(BaseModel):
    id: int
    sha256: str


class ReconciliationOut(BaseModel):
    published_budget: PublishedRef
    checks_run: int
    mismatch_count: int
    informative_count: int
    items: list[CheckOut]


def _check(r: CheckResult) -> dict[str, Any]:
    def fmt(v: Decimal | str | None) -> str | None:
        if v is None or isinstance(v, str):
            return v
        return money(v)

    return {
        "check": r.check,
        "path": r.path,
        "tables": list(r.tables),
        "description": r.description,
        "printed": fmt(r.printed),
        "computed": fmt(r.computed),
        "difference": fmt(r.difference),
        "severity": r.severity.value,
        "ok": r.ok,
    }


@router.get(
    "/reconciliation",
    summary="Every parent/children mismatch and cross-table disagreement",
    response_model=ReconciliationOut,
    responses=CSV_RESPONSE,
)
async def reconciliation(
    session: SessionDep,
    who: Reader,
    state: StateDep,
    include_ok: Annotated[bool, Query(description="also list the checks that agree")] = False,
    published_id: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="a published budget version (default: latest)")
    ] = None,
    fmt: Format = "json",
) -> Any:
    published, results = await reports.reconciliation(session, state, who, published_id=published_id)
    shown = results if include_ok else [r for r in results if not r.ok]
    items = [_check(r) for r in shown]
    if fmt == "csv":
        header = ["check", "path", "description", "printed", "computed", "difference", "severity", "ok"]
        return csv_response(header, [[i[h] for h in header] for i in items], "reconciliation.csv")
    return ReconciliationOut.model_validate(
        {
            "published_budget": {"id": published.row.id, "sha256": published.row.sha256},
            "checks_run": len(results),
            "mismatch_count": sum(1 for r in results if not r.ok and r.severity.value == "error"),
            "informative_count": sum(1 for r in results if not r.ok and r.severity.value == "info"),
            "items": items,
        }
    )


alias_router = APIRouter(tags=["budget-reports"], responses=PROBLEM_RESPONSES)
alias_router.get(
    "/v1/reconciliation",
    summary="Alias of /v1/budget/reconciliation",
    response_model=ReconciliationOut,
    responses=CSV_RESPONSE,
    operation_id="budget-reports-reconciliation-alias",
)(reconciliation)

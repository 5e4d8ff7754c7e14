"""Deadlines, deadline status per (item, period) and the certification index (JSON and CSV)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from execution.api.registrations import CodeQuery, PeriodQuery, PlanId
from execution.api.schemas import (
    ComplianceReportOut,
    DeadlineTable,
    NonBusinessDay,
    PeriodDeadline,
    ProceduralDuration,
    ProceduralTerm,
    StatusPage,
    StatusRow,
    TallyOut,
    UnitCompliance,
)
from execution.application import reports as reports_app
from execution.application.reports import Compliance
from execution.domain.compliance import ComplianceReport, Tally
from execution.domain.periods import Period
from execution.domain.status import DeadlineStatus
from metas_kit.auth import Reader
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES
from metas_kit.pagination import PageDep

router = APIRouter(prefix="/v1/plans/{plan_id}", tags=["compliance"])

CSV_COLUMNS = ("unit_code", "period", "due", "on_time", "late", "missing", "pending", "index")


@router.get(
    "/deadlines",
    summary="Due date, deadline instant and write-window closing of every period of the cycle",
    response_model=DeadlineTable,
    responses=PROBLEM_RESPONSES,
)
async def deadlines(plan_id: PlanId, request: Request, session: SessionDep, who: Reader) -> DeadlineTable:
    loaded = await reports_app.deadlines(request.app, session, who, plan_id)
    schedule = loaded.schedule
    rows: list[PeriodDeadline] = []
    for period in loaded.facts.periods():
        dates = schedule.dates(period)
        due_month = Period.of(dates.due_date)
        off = schedule.calendar.non_business_days(due_month.first_day, dates.due_date)
        rows.append(
            PeriodDeadline(
                period=str(period),
                due_date=dates.due_date,
                deadline=dates.deadline,
                closing_date=dates.closing_date,
                non_business_days=[NonBusinessDay(date=d, reason=r) for d, r in off],
            )
        )
    rule = loaded.facts.rule
    return DeadlineTable(
        plan_id=plan_id,
        calendar=schedule.calendar.spec.to_mapping(),
        rule={
            "business_day": rule.business_day,
            "month_offset": rule.month_offset,
            "catch_up_through": str(rule.catch_up_through) if rule.catch_up_through else None,
            "closing_month": rule.closing_month,
        },
        periods=rows,
    )


@router.get(
    "/status",
    summary="Deadline status (pending, on_time, late, missing) of every owed (item, period)",
    response_model=StatusPage,
    responses=PROBLEM_RESPONSES,
)
async def status_list(
    plan_id: PlanId,
    request: Request,
    session: SessionDep,
    who: Reader,
    page: PageDep,
    period: PeriodQuery = None,
    unit_code: CodeQuery = None,
    status_filter: Annotated[DeadlineStatus | None, Query(alias="status")] = None,
) -> StatusPage:
    rows, nxt = await reports_app.status_page(
        request.app, session, who, plan_id, page, period=period, unit_code=unit_code, status=status_filter
    )
    return StatusPage(
        items=[
            StatusRow(
                item_code=r.item.code,
                item_kind=r.item.kind.value,
                unit_code=r.item.unit_code,
                period=str(r.period),
                due_date=r.dates.due_date.isoformat(),
                status=r.status.value,
                certification=r.certification,
            )
            for r in rows
        ],
        next_cursor=nxt,
    )


def _tally(period: str, t: Tally) -> TallyOut:
    index = t.index
    return TallyOut(
        period=period,
        due=t.due,
        on_time=t.on_time,
        late=t.late,
        missing=t.missing,
        pending=t.pending,
        index=str(index) if index is not None else None,
    )


def _unit(report: ComplianceReport, unit: str | None, periods: list[Period], through: Period) -> UnitCompliance:
    months: list[TallyOut] = []
    for p in periods:
        if unit is None:
            total = Tally()
            for u in report.units():
                total.merge(report.month(u, p))
            months.append(_tally(str(p), total))
        else:
            months.append(_tally(str(p), report.month(unit, p)))
    return UnitCompliance(
        unit_code=unit or "*",
        months=months,
        year_to_date=_tally("YTD", report.year_to_date(unit, through)),
    )


def _compliance_out(found: Compliance) -> ComplianceReportOut:
    return ComplianceReportOut(
        plan_id=found.plan.facts.plan_id,
        through=str(found.through),
        as_of=found.as_of,
        units=[_unit(found.report, u, found.periods, found.through) for u in found.units],
        plan=_unit(found.report, None, found.periods, found.through),
    )


async def _compliance(
    plan_id: PlanId,
    request: Request,
    session: SessionDep,
    who: Reader,
    through: PeriodQuery = None,
    unit_code: CodeQuery = None,
) -> ComplianceReportOut:
    """The report both forms answer with (one set of parameters, one application call)."""
    found = await reports_app.compliance_report(
        request.app, session, who, plan_id, through=through, unit_code=unit_code
    )
    return _compliance_out(found)


ComplianceDep = Annotated[ComplianceReportOut, Depends(_compliance)]


@router.get(
    "/compliance",
    summary="Certification index per unit: each month and year to date",
    response_model=ComplianceReportOut,
    responses=PROBLEM_RESPONSES,
)
async def compliance_report(report: ComplianceDep) -> ComplianceReportOut:
    return report


@router.get(
    "/compliance.csv",
    summary="Certification index as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **PROBLEM_RESPONSES},
)
async def compliance_csv(plan_id: PlanId, report: ComplianceDep) -> Response:
    out = report
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for unit in [*out.units, out.plan]:
        for row in [*unit.months, unit.year_to_date]:
            writer.writerow(
                [
                    unit.unit_code,
                    row.period,
                    row.due,
                    row.on_time,
                    row.late,
                    row.missing,
                    row.pending,
                    row.index if row.index is not None else "",
                ]
            )
    filename = f"{plan_id}-compliance-{out.through}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


Suspensions = Annotated[
    list[str],
    Query(
        alias="suspension",
        description="Suspended days as START/END (ISO dates, inclusive); repeat for several.",
        max_length=100,
    ),
]


@router.get(
    "/calendar/duration",
    summary="Business days between two dates, counted as a procedural deadline",
    response_model=ProceduralDuration,
    responses=PROBLEM_RESPONSES,
)
async def calendar_duration(
    plan_id: PlanId,
    request: Request,
    session: SessionDep,
    who: Reader,
    start: date,
    end: date,
    suspension: Suspensions = [],  # noqa: B006 - FastAPI copies query defaults
) -> ProceduralDuration:
    n = await reports_app.duration(request.app, session, who, plan_id, start, end, suspension)
    return ProceduralDuration(start=start, end=end, suspensions=suspension, business_days=n)


@router.get(
    "/calendar/term",
    summary="Last day of a term of N business days (procedural counting)",
    response_model=ProceduralTerm,
    responses=PROBLEM_RESPONSES,
)
async def calendar_term(
    plan_id: PlanId,
    request: Request,
    session: SessionDep,
    who: Reader,
    start: date,
    days: Annotated[int, Query(ge=1, le=3660)],
    suspension: Suspensions = [],  # noqa: B006 - FastAPI copies query defaults
) -> ProceduralTerm:
    end = await reports_app.term(request.app, session, who, plan_id, start, days, suspension)
    return ProceduralTerm(start=start, days=days, suspensions=suspension, end=end)

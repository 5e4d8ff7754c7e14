"""Deadlines, deadline status per (item, period) and the certification index (JSON and CSV)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from execution.api.registrations import PeriodQuery, PlanId, parse_period
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
from execution.db.repositories import all_registrations, first_registrations
from execution.domain.compliance import ComplianceReport, Tally, compliance
from execution.domain.deadlines import Suspension, procedural_duration, procedural_end
from execution.domain.errors import CalendarError, DeadlineError, InvalidPeriod
from execution.domain.periods import Period
from execution.domain.status import DeadlineStatus, deadline_status
from execution.plans import LoadedPlan, clock, load_plan
from metas_kit.auth import Reader
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES, ValidationFailed
from metas_kit.pagination import PageDep, encode_cursor

router = APIRouter(prefix="/v1/plans/{plan_id}", tags=["compliance"])

CSV_COLUMNS = ("unit_code", "period", "due", "on_time", "late", "missing", "pending", "index")


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _through(loaded: LoadedPlan, text: str | None, now: datetime) -> Period:
    if text:
        try:
            return Period.parse(text)
        except InvalidPeriod as exc:
            raise ValidationFailed([{"path": "through", "message": str(exc)}]) from exc
    facts = loaded.facts
    return min(max(Period.of(now.date()), facts.first_period), facts.last_period)


@router.get(
    "/deadlines",
    summary="Due date, deadline instant and write-window closing of every period of the cycle",
    response_model=DeadlineTable,
    responses=PROBLEM_RESPONSES,
)
async def deadlines(plan_id: PlanId, request: Request, session: SessionDep, _who: Reader) -> DeadlineTable:
    loaded = await load_plan(request, session, plan_id)
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
                deadline=_iso(dates.deadline),
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


async def _report(loaded: LoadedPlan, session: SessionDep, through: Period, now: datetime) -> ComplianceReport:
    first = await first_registrations(session, loaded.facts.plan_id, str(through))
    keyed = {(item, Period.parse(period)): at for (item, period), at in first.items()}
    return compliance(loaded.schedule.obligations(keyed, through), now)


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
    _who: Reader,
    page: PageDep,
    period: PeriodQuery = None,
    unit_code: Annotated[str | None, Query(max_length=100)] = None,
    status_filter: Annotated[DeadlineStatus | None, Query(alias="status")] = None,
) -> StatusPage:
    loaded = await load_plan(request, session, plan_id)
    now = clock(request.app)
    regs = {(r.item_code, r.period): r for r in await all_registrations(session, plan_id, period)}
    wanted = parse_period(period) if period else None
    start = int(page.cursor.get("n", 0)) if page.cursor else 0
    rows: list[StatusRow] = []
    seen = 0
    more = False
    for item, owed in loaded.schedule.owed(wanted, wanted):
        if unit_code and item.unit_code != unit_code:
            continue
        reg = regs.get((item.code, str(owed)))
        dates = loaded.schedule.dates(owed)
        st = deadline_status(dates.deadline, reg.first_registered_at if reg else None, now)
        if status_filter and st is not status_filter:
            continue
        seen += 1
        if seen <= start:
            continue
        if len(rows) == page.limit:
            more = True
            break
        rows.append(
            StatusRow(
                item_code=item.code,
                item_kind=item.kind.value,
                unit_code=item.unit_code,
                period=str(owed),
                due_date=dates.due_date.isoformat(),
                status=st.value,
                certification=reg.certification if reg else None,
            )
        )
    nxt = encode_cursor({"n": start + len(rows)}) if more else None
    return StatusPage(items=rows, next_cursor=nxt)


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


async def _compliance_out(
    plan_id: str, request: Request, session: SessionDep, through_text: str | None, unit_code: str | None
) -> ComplianceReportOut:
    loaded = await load_plan(request, session, plan_id)
    now = clock(request.app)
    through = _through(loaded, through_text, now)
    report = await _report(loaded, session, through, now)
    periods = [p for p in loaded.facts.periods() if p <= through]
    units = sorted({i.unit_code for i in loaded.facts.items.values()})
    if unit_code:
        units = [u for u in units if u == unit_code]
    return ComplianceReportOut(
        plan_id=plan_id,
        through=str(through),
        as_of=_iso(now),
        units=[_unit(report, u, periods, through) for u in units],
        plan=_unit(report, None, periods, through),
    )


@router.get(
    "/compliance",
    summary="Certification index per unit: each month and year to date",
    response_model=ComplianceReportOut,
    responses=PROBLEM_RESPONSES,
)
async def compliance_report(
    plan_id: PlanId,
    request: Request,
    session: SessionDep,
    _who: Reader,
    through: PeriodQuery = None,
    unit_code: Annotated[str | None, Query(max_length=100)] = None,
) -> ComplianceReportOut:
    return await _compliance_out(plan_id, request, session, through, unit_code)


@router.get(
    "/compliance.csv",
    summary="Certification index as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **PROBLEM_RESPONSES},
)
async def compliance_csv(
    plan_id: PlanId,
    request: Request,
    session: SessionDep,
    _who: Reader,
    through: PeriodQuery = None,
    unit_code: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    out = await _compliance_out(plan_id, request, session, through, unit_code)
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


def _suspensions(values: list[str]) -> list[Suspension]:
    out: list[Suspension] = []
    for index, value in enumerate(values):
        first, _, last = value.partition("/")
        try:
            out.append(Suspension(date.fromisoformat(first), date.fromisoformat(last)))
        except (ValueError, DeadlineError) as exc:
            raise ValidationFailed([{"path": f"suspension[{index}]", "message": str(exc)}]) from exc
    return out


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
    _who: Reader,
    start: date,
    end: date,
    suspension: Suspensions = [],  # noqa: B006 - FastAPI copies query defaults
) -> ProceduralDuration:
    loaded = await load_plan(request, session, plan_id)
    try:
        n = procedural_duration(loaded.schedule.calendar, start, end, _suspensions(suspension))
    except (DeadlineError, CalendarError) as exc:
        raise ValidationFailed([{"path": "end", "message": str(exc)}]) from exc
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
    _who: Reader,
    start: date,
    days: Annotated[int, Query(ge=1, le=3660)],
    suspension: Suspensions = [],  # noqa: B006 - FastAPI copies query defaults
) -> ProceduralTerm:
    loaded = await load_plan(request, session, plan_id)
    try:
        end = procedural_end(loaded.schedule.calendar, start, days, _suspensions(suspension))
    except (DeadlineError, CalendarError) as exc:
        raise ValidationFailed([{"path": "start", "message": str(exc)}]) from exc
    return ProceduralTerm(start=start, days=days, suspensions=suspension, end=end)

"""Deadlines, the deadline status of every owed (item, period), and the certification index — each limited to
the plan's organisation and to the units the caller may see (docs/domain.md §2.4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from execution.application.guards import parse_period
from execution.application.plans import LoadedPlan, clock, unit_visible, visible_plan, visible_units
from execution.db import repositories as repo
from execution.domain.compliance import ComplianceReport, compliance
from execution.domain.deadlines import Suspension, procedural_duration, procedural_end
from execution.domain.errors import CalendarError, DeadlineError
from execution.domain.periods import Period
from execution.domain.registrations import PlanItem
from execution.domain.schedule import PeriodDates
from execution.domain.status import DeadlineStatus, deadline_status
from metas_kit.auth import Principal
from metas_kit.errors import ValidationFailed
from metas_kit.pagination import InvalidCursor, PageParams, encode_cursor


async def deadlines(app: FastAPI, session: AsyncSession, who: Principal, plan_id: str) -> LoadedPlan:
    return await visible_plan(app, session, who, plan_id)


@dataclass(frozen=True, slots=True)
class StatusEntry:
    item: PlanItem
    period: Period
    dates: PeriodDates
    status: DeadlineStatus
    certification: str | None


async def status_page(
    app: FastAPI,
    session: AsyncSession,
    who: Principal,
    plan_id: str,
    page: PageParams,
    *,
    period: str | None,
    unit_code: str | None,
    status: DeadlineStatus | None,
) -> tuple[list[StatusEntry], str | None]:
    plan = await visible_plan(app, session, who, plan_id)
    scope = visible_units(who, plan)
    now = clock(app)
    regs = {(r.item_code, r.period): r for r in await repo.all_registrations(session, plan_id, period)}
    wanted = parse_period(period) if period else None
    start = page.cursor.get("n") if page.cursor is not None else 0
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise InvalidCursor("This cursor was not issued for this list.")
    rows: list[StatusEntry] = []
    seen = 0
    more = False
    for item, owed in plan.schedule.owed(wanted, wanted):
        if (unit_code and item.unit_code != unit_code) or not unit_visible(scope, item.unit_code):
            continue
        reg = regs.get((item.code, str(owed)))
        dates = plan.schedule.dates(owed)
        st = deadline_status(dates.deadline, reg.first_registered_at if reg else None, now)
        if status and st is not status:
            continue
        seen += 1
        if seen <= start:
            continue
        if len(rows) == page.limit:
            more = True
            break
        rows.append(StatusEntry(item, owed, dates, st, reg.certification if reg else None))
    return rows, encode_cursor({"n": start + len(rows)}) if more else None


@dataclass(frozen=True, slots=True)
class Compliance:
    plan: LoadedPlan
    report: ComplianceReport
    through: Period
    periods: list[Period]
    units: list[str]
    as_of: datetime


def _through(plan: LoadedPlan, text: str | None, now: datetime) -> Period:
    if text:
        return parse_period(text, "through")
    facts = plan.facts
    return min(max(Period.of(now.date()), facts.first_period), facts.last_period)


async def compliance_report(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, *, through: str | None, unit_code: str | None
) -> Compliance:
    """The index per visible unit and for the plan; the plan's total counts only the units the caller sees, so a
    unit-scoped reader learns nothing of the others."""
    plan = await visible_plan(app, session, who, plan_id)
    scope = visible_units(who, plan)
    now = clock(app)
    last = _through(plan, through, now)
    first = await repo.first_registrations(session, plan_id, str(last))
    keyed = {(item, Period.parse(period)): at for (item, period), at in first.items()}
    obligations = [o for o in plan.schedule.obligations(keyed, last) if unit_visible(scope, o.unit_code)]
    report = compliance(obligations, now)
    units = sorted(u for u in plan.units if unit_visible(scope, u) and (not unit_code or u == unit_code))
    return Compliance(plan, report, last, [p for p in plan.facts.periods() if p <= last], units, now)


def _suspensions(values: list[str]) -> list[Suspension]:
    out: list[Suspension] = []
    for index, value in enumerate(values):
        first, _, last = value.partition("/")
        try:
            out.append(Suspension(date.fromisoformat(first), date.fromisoformat(last)))
        except (ValueError, DeadlineError) as exc:
            raise ValidationFailed([{"path": f"suspension[{index}]", "message": str(exc)}]) from exc
    return out


async def duration(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, start: date, end: date, suspensions: list[str]
) -> int:
    plan = await visible_plan(app, session, who, plan_id)
    try:
        return procedural_duration(plan.schedule.calendar, start, end, _suspensions(suspensions))
    except (DeadlineError, CalendarError) as exc:
        raise ValidationFailed([{"path": "end", "message": str(exc)}]) from exc


async def term(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, start: date, days: int, suspensions: list[str]
) -> date:
    plan = await visible_plan(app, session, who, plan_id)
    try:
        return procedural_end(plan.schedule.calendar, start, days, _suspensions(suspensions))
    except (DeadlineError, CalendarError) as exc:
        raise ValidationFailed([{"path": "start", "message": str(exc)}]) from exc

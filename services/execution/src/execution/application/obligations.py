"""The registrar's inbox: every (item, period) a plan owes for the caller's units, most urgent first, with its
deadline, the business days left, its deadline status and what is registered so far (docs/api/execution.md,
"Obligations")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from execution.application.guards import WriteGuard, parse_period
from execution.application.plans import LoadedPlan, clock, unit_visible, visible_plan, visible_units
from execution.application.registrations import registration_etag
from execution.db import repositories as repo
from execution.db.models import Registration
from execution.domain.periods import Period
from execution.domain.registrations import PlanItem
from execution.domain.schedule import PeriodDates
from execution.domain.status import DeadlineStatus, deadline_status
from metas_kit.auth import ALL, ANY_ORG, Principal, Scope
from metas_kit.pagination import InvalidCursor, PageParams, encode_cursor

REJECTED = "rejected"  # a status filter beside the deadline statuses: values a certifier sent back


@dataclass(frozen=True, slots=True)
class Obligation:
    item: PlanItem
    period: Period
    dates: PeriodDates
    business_days_left: int | None
    status: DeadlineStatus
    needs_action: bool
    writable: bool
    registration: Registration | None

    @property
    def etag(self) -> str | None:
        return registration_etag(self.registration) if self.registration else None


def _inbox_units(who: Principal, plan: LoadedPlan) -> Scope:
    """A registrar's inbox holds the units it registers for; any other reader sees every unit it may read."""
    grants = [g for g in who.grants if g.role == "registrar" and g.org in (ANY_ORG, plan.organisation)]
    if not grants:
        return visible_units(who, plan)
    if any(not g.units for g in grants):
        return ALL
    return frozenset(u for g in grants for u in g.units)


def _business_days_left(plan: LoadedPlan, dates: PeriodDates, now: datetime) -> int | None:
    """Business days after today up to the due date (0 on the due date itself); None once the deadline passed."""
    if now >= dates.deadline:
        return None
    today = now.astimezone(plan.schedule.calendar.timezone).date()
    if today >= dates.due_date:
        return 0
    return sum(1 for _ in plan.schedule.calendar.business_days(today + timedelta(days=1), dates.due_date))


async def obligations(
    app: FastAPI,
    session: AsyncSession,
    who: Principal,
    plan_id: str,
    page: PageParams,
    *,
    unit_code: str | None,
    period: str | None,
    statuses: frozenset[str],
) -> tuple[LoadedPlan, datetime, list[Obligation], str | None]:
    plan = await visible_plan(app, session, who, plan_id)
    scope = _inbox_units(who, plan)
    readable = visible_units(who, plan)
    now = clock(app)
    facts = plan.facts
    if period:
        first = last = parse_period(period)
    else:
        first, last = facts.first_period, min(max(Period.of(now.date()), facts.first_period), facts.last_period)
    start = page.cursor.get("n") if page.cursor is not None else 0
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise InvalidCursor("This cursor was not issued for this list.")
    regs = {
        (r.item_code, r.period): r
        for r in await repo.all_registrations(session, plan_id, str(last))
        if first <= Period.parse(r.period)
    }
    guard = WriteGuard(session, plan.schedule)
    found: list[Obligation] = []
    for item, owed in plan.schedule.owed(last, first):
        if unit_code and item.unit_code != unit_code:
            continue
        if not (unit_visible(scope, item.unit_code) and unit_visible(readable, item.unit_code)):
            continue
        reg = regs.get((item.code, str(owed)))
        dates = plan.schedule.dates(owed)
        status = deadline_status(dates.deadline, reg.first_registered_at if reg else None, now)
        rejected = reg is not None and reg.certification == REJECTED
        if statuses and status.value not in statuses and not (rejected and REJECTED in statuses):
            continue
        refusal = await guard.refusal(item, owed, now)
        found.append(
            Obligation(
                item=item,
                period=owed,
                dates=dates,
                business_days_left=_business_days_left(plan, dates, now),
                status=status,
                needs_action=reg is None or rejected,
                writable=refusal is None,
                registration=reg,
            )
        )
    # Most urgent first: what still needs the registrar (nothing registered, or rejected), then by deadline.
    found.sort(key=lambda o: (not o.needs_action, o.dates.deadline, o.item.unit_code, o.item.code))
    rows = found[start : start + page.limit]
    more = start + page.limit < len(found)
    return plan, now, rows, encode_cursor({"n": start + len(rows)}) if more else None

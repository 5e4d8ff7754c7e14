"""Guards of every registration write (single writes and the bulk import apply the same ones): the item and
period must be owed, the caller must register for the item's unit in the plan's organisation, and the period
must be open (write window, locks after evaluation, lock exceptions; docs/domain.md §2.4).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from execution.application.plans import LoadedPlan
from execution.db.models import LockException
from execution.db.repositories import exception_covers, exceptions_of, get_lock
from execution.domain.errors import InvalidPeriod
from execution.domain.periods import Period
from execution.domain.registrations import PlanItem
from execution.domain.schedule import PlanSchedule, WriteRefusal, write_refusal
from metas_kit.auth import Principal
from metas_kit.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed

_REFUSAL_TEXT = {
    WriteRefusal.EXPIRED: "the write window of {period} closed at the end of {closing}",
    WriteRefusal.LOCKED: "{period} is locked after evaluation",
}

# Who may write a registration: the unit's registrar, and `service` (feeds from other systems, :import only).
REGISTRARS = frozenset({"registrar"})
IMPORTERS = frozenset({"registrar", "service"})


class PeriodClosed(AppError):
    status, type_slug, title = 409, "period-closed", "Period closed for writes"


class IllegalTransitionError(Conflict):
    type_slug, title = "illegal-transition", "Illegal certification transition"


def parse_period(text: str, path: str = "period") -> Period:
    """A period from the request; one the domain refuses is a 422 naming the parameter."""
    try:
        return Period.parse(text)
    except InvalidPeriod as exc:
        raise ValidationFailed([{"path": path, "message": str(exc), "type": "period"}]) from exc


def plan_item(schedule: PlanSchedule, item_code: str) -> PlanItem:
    item = schedule.facts.items.get(item_code)
    if item is None:
        raise NotFound(f"Item {item_code!r} is not in plan {schedule.facts.plan_id!r}.")
    return item


def owed_period(schedule: PlanSchedule, item: PlanItem, period_text: str) -> Period:
    period = Period.parse(period_text)
    if not schedule.facts.owes(item, period):
        raise NotFound(
            f"Item {item.code!r} owes no registration for {period} "
            f"(plan cycle {schedule.facts.cycle_year}, periodicity {item.periodicity or 'monthly'})."
        )
    return period


def may_register(who: Principal, plan: LoadedPlan, unit_code: str, roles: frozenset[str] = REGISTRARS) -> bool:
    """A registrar grant covering the unit in the plan's organisation (admin of it passes)."""
    return who.can(roles, plan.organisation, unit_code)


def require_unit_writer(who: Principal, plan: LoadedPlan, item: PlanItem) -> None:
    if not may_register(who, plan, item.unit_code):
        raise Forbidden(f"You may not register for unit {item.unit_code!r}.")


class WriteGuard:
    """Lock and exception look-ups for one request, cached per period (imports write many rows). ``locked``:
    periods whose lock the caller already read in this transaction (a single write reads it with its row)."""

    def __init__(
        self, session: AsyncSession, schedule: PlanSchedule, *, locked: dict[Period, bool] | None = None
    ) -> None:
        self._session = session
        self._schedule = schedule
        self._locked: dict[Period, bool] = dict(locked) if locked else {}
        self._exceptions: dict[Period, list[LockException]] = {}

    async def _is_locked(self, period: Period) -> bool:
        if period not in self._locked:
            lock = await get_lock(self._session, self._schedule.facts.plan_id, str(period))
            self._locked[period] = lock is not None
        return self._locked[period]

    async def _excepted(self, item: PlanItem, period: Period, at: datetime) -> bool:
        if period not in self._exceptions:
            self._exceptions[period] = await exceptions_of(self._session, self._schedule.facts.plan_id, str(period))
        return any(exception_covers(e, item.code, item.unit_code, at) for e in self._exceptions[period])

    async def refusal(
        self,
        item: PlanItem,
        period: Period,
        at: datetime,
        *,
        check_window: bool = True,
    ) -> WriteRefusal | None:
        window_closed = check_window and at >= self._schedule.dates(period).closes_at
        locked = await self._is_locked(period)
        excepted = (locked or window_closed) and await self._excepted(item, period, at)
        return write_refusal(locked=locked, window_closed=window_closed, excepted=excepted)


def refuse(refusal: WriteRefusal, schedule: PlanSchedule, item: PlanItem, period: Period) -> PeriodClosed:
    dates = schedule.dates(period)
    text = _REFUSAL_TEXT[refusal].format(period=period, closing=dates.closing_date.isoformat())
    return PeriodClosed(
        f"Writing {item.code} for {period} is refused: {text}.",
        extra={"reason": refusal.value, "period": str(period), "item_code": item.code},
    )

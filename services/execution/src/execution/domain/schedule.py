"""A plan's registration schedule: who owes what by when, and whether a write is still allowed."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from execution.domain.calendars import BusinessCalendar, Closure, merge_closures
from execution.domain.compliance import Obligation
from execution.domain.deadlines import closing_date, due_date
from execution.domain.periods import Period
from execution.domain.registrations import PlanFacts, PlanItem
from execution.domain.status import deadline_instant


class WriteRefusal(StrEnum):
    EXPIRED = "expired"  # the period's write window is over
    LOCKED = "locked"  # the period is locked after evaluation


@dataclass(frozen=True, slots=True)
class PeriodDates:
    period: Period
    due_date: date
    deadline: datetime  # UTC instant that ends the due day
    closing_date: date
    closes_at: datetime  # UTC instant that ends the closing day


@dataclass
class PlanSchedule:
    facts: PlanFacts
    extra_closures: tuple[Closure, ...] = ()
    calendar: BusinessCalendar = field(init=False)
    _dates: dict[Period, PeriodDates] = field(init=False, default_factory=dict)
    _owed_items: dict[Period, tuple[PlanItem, ...]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        spec = merge_closures(self.facts.calendar, self.extra_closures)
        self.calendar = BusinessCalendar(spec)

    def dates(self, period: Period) -> PeriodDates:
        found = self._dates.get(period)
        if found is None:
            due = due_date(self.calendar, self.facts.rule, period)
            closing = closing_date(self.calendar, self.facts.rule, period)
            tz = self.calendar.timezone
            found = PeriodDates(period, due, deadline_instant(due, tz), closing, deadline_instant(closing, tz))
            self._dates[period] = found
        return found

    def owed(
        self, period_to: Period | None = None, period_from: Period | None = None
    ) -> Iterator[tuple[PlanItem, Period]]:
        """(item, period) pairs the plan owes, by period then item code."""
        last = min(period_to, self.facts.last_period) if period_to else self.facts.last_period
        first = max(period_from, self.facts.first_period) if period_from else self.facts.first_period
        for period in self.facts.periods():
            if period < first or period > last:
                continue
            for item in self.owed_items(period):
                yield item, period

    def owed_items(self, period: Period) -> tuple[PlanItem, ...]:
        """Items owing ``period``, by code; worked out once per period (schedules are cached per plan version)."""
        found = self._owed_items.get(period)
        if found is None:
            items = sorted(self.facts.items.values(), key=lambda i: i.code)
            found = tuple(item for item in items if self.facts.owes(item, period))
            self._owed_items[period] = found
        return found

    def obligations(
        self,
        first_registered: Mapping[tuple[str, Period], datetime],
        period_to: Period | None = None,
    ) -> list[Obligation]:
        return [
            Obligation(
                unit_code=item.unit_code,
                item_code=item.code,
                period=period,
                deadline=self.dates(period).deadline,
                first_registered_at=first_registered.get((item.code, period)),
            )
            for item, period in self.owed(period_to)
        ]

    def next_deadline(self, now: datetime, ended_before: date) -> datetime | None:
        """The earliest deadline still ahead among periods that have ended by ``ended_before``."""
        ahead = [
            self.dates(p).deadline
            for p in self.facts.periods()
            if p.last_day < ended_before and self.dates(p).deadline > now
        ]
        return min(ahead) if ahead else None


def write_refusal(
    *,
    locked: bool,
    window_closed: bool,
    excepted: bool,
) -> WriteRefusal | None:
    """Why a new value for (item, period) is refused, or None when it is allowed.

    The lock wins over the write window; a lock exception lifts both. A certified value is no exception: in an
    open period its registrar may send a new value (it goes back for certification), in a locked or expired one
    only under a lock exception, like any other value.
    """
    if locked and not excepted:
        return WriteRefusal.LOCKED
    if window_closed and not excepted:
        return WriteRefusal.EXPIRED
    return None

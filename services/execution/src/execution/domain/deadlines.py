"""Registration deadlines and business-day durations.

* Due date of a monthly registration: the Nth business day (default 10) of the month
  ``month_offset`` (default 1) after the period, on the plan's calendar (seed 004: "até o 10º
  dia útil do mês subsequente").
* Catch-up: seed 004 was signed on 30/04/2014 and asks the teams to register January–May once it
  is signed; a rule may say ``catch_up_through: "2014-05"`` so that every period up to it is due on
  that period's due date.
* Write window: registrations of a year are refused ("expired") after the last business day of
  ``closing_month`` (default January) of the following year — the product cut-off of DOMAIN §2.2.
* Procedural durations (seed 004, Procuradoria indicator 1): the start day is excluded, the end day
  included, neither may fall on a non-business day (it moves to the next business day), and
  suspended days (diligências) do not count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from execution.domain.calendars import BusinessCalendar
from execution.domain.errors import DeadlineError
from execution.domain.periods import Period


@dataclass(frozen=True, slots=True)
class DeadlineRule:
    """``plan.registration_deadline`` of the planning tree."""

    business_day: int = 10
    month_offset: int = 1
    catch_up_through: Period | None = None
    closing_month: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.business_day <= 23:
            raise DeadlineError("business_day must be between 1 and 23")
        if not 1 <= self.closing_month <= 12:
            raise DeadlineError("closing_month must be between 1 and 12")
        if not 0 <= self.month_offset <= 12:
            raise DeadlineError("month_offset must be between 0 and 12")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> DeadlineRule:
        data = data or {}
        catch_up = data.get("catch_up_through")
        return cls(
            business_day=int(data.get("business_day", 10)),
            month_offset=int(data.get("month_offset", 1)),
            catch_up_through=Period.parse(str(catch_up)) if catch_up else None,
            closing_month=int(data.get("closing_month", 1)),
        )


@dataclass(frozen=True, slots=True)
class Suspension:
    """Days [start, end] (inclusive) that do not count in a procedural duration."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise DeadlineError(f"suspension ends ({self.end}) before it starts ({self.start})")

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


def nth_business_day(cal: BusinessCalendar, year: int, month: int, n: int) -> date:
    """The ``n``-th business day of ``year``-``month``."""
    if n < 1:
        raise DeadlineError("n must be at least 1")
    period = Period(year, month)
    for index, day in enumerate(cal.business_days(period.first_day, period.last_day), start=1):
        if index == n:
            return day
    raise DeadlineError(f"{period} has fewer than {n} business days")


def last_business_day(cal: BusinessCalendar, year: int, month: int) -> date:
    period = Period(year, month)
    days = list(cal.business_days(period.first_day, period.last_day))
    if not days:
        raise DeadlineError(f"{period} has no business day")
    return days[-1]


def due_date(cal: BusinessCalendar, rule: DeadlineRule, period: Period) -> date:
    """Last day on which the registration of ``period`` is on time."""
    effective = period
    if rule.catch_up_through is not None and period < rule.catch_up_through:
        effective = rule.catch_up_through
    following = effective.shift(rule.month_offset)
    return nth_business_day(cal, following.year, following.month, rule.business_day)


def closing_date(cal: BusinessCalendar, rule: DeadlineRule, period: Period) -> date:
    """Last day on which registrations of ``period`` are accepted at all."""
    return last_business_day(cal, period.year + 1, rule.closing_month)


def _counted_days(cal: BusinessCalendar, after: date, suspensions: Iterable[Suspension]) -> Iterable[date]:
    """Business days after ``after`` (excluded) that no suspension covers, in order."""
    stops = tuple(suspensions)
    current = after
    for _ in range(366 * 20):
        try:
            current += timedelta(days=1)
        except OverflowError as exc:  # past 9999-12-31
            raise DeadlineError(f"the term runs past the last representable day after {after}") from exc
        if cal.is_business_day(current) and not any(s.covers(current) for s in stops):
            yield current
    raise DeadlineError("duration longer than twenty years")


def procedural_end(cal: BusinessCalendar, start: date, days: int, suspensions: Iterable[Suspension] = ()) -> date:
    """Last day of a term of ``days`` business days starting on ``start``.

    The start moves to the next business day when it is not one, and is itself excluded.
    """
    if days < 1:
        raise DeadlineError("a term has at least one day")
    effective_start = cal.next_business_day(start)
    for index, day in enumerate(_counted_days(cal, effective_start, suspensions), start=1):
        if index == days:
            return day
    raise DeadlineError("unreachable")  # pragma: no cover - _counted_days raises first


def procedural_duration(cal: BusinessCalendar, start: date, end: date, suspensions: Iterable[Suspension] = ()) -> int:
    """Business days from ``start`` to ``end`` counted as a procedural deadline.

    Both ends move to the next business day when they fall on a non-business day; the start is
    excluded and the end included; suspended days do not count. Same-day answers take 0 days.
    """
    effective_start = cal.next_business_day(start)
    effective_end = cal.next_business_day(end)
    if effective_end < effective_start:
        raise DeadlineError(f"end {end} is before start {start}")
    count = 0
    for day in _counted_days(cal, effective_start, suspensions):
        if day > effective_end:
            break
        count += 1
    return count

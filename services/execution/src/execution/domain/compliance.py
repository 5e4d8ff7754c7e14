"""Certification index (seed 004): registrations made on time / registrations due × 100.

An obligation (item, period) is *due* once its deadline is over; before that it is pending and
stays out of both terms, so the index of a month does not move while the month is still open.
Monthly and year-to-date indices pool the counts (YTD is Σ on time / Σ due, not a mean of months),
then round half up to 2 places. No obligation due gives no index (None), never 0 or 100.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from execution.domain.periods import Period
from execution.domain.status import DeadlineStatus, deadline_status

_CENT = Decimal("0.01")
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Obligation:
    """One registration an item owes for one period."""

    unit_code: str
    item_code: str
    period: Period
    deadline: datetime  # exclusive instant (end of the due day in the plan's time zone)
    first_registered_at: datetime | None


@dataclass
class Tally:
    due: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    pending: int = 0

    def add(self, status: DeadlineStatus, overdue: bool) -> None:
        if not overdue:
            self.pending += 1
            return
        self.due += 1
        if status is DeadlineStatus.ON_TIME:
            self.on_time += 1
        elif status is DeadlineStatus.LATE:
            self.late += 1
        else:
            self.missing += 1

    def merge(self, other: Tally) -> None:
        self.due += other.due
        self.on_time += other.on_time
        self.late += other.late
        self.missing += other.missing
        self.pending += other.pending

    @property
    def index(self) -> Decimal | None:
        return certification_index(self.on_time, self.due)


def certification_index(on_time: int, due: int) -> Decimal | None:
    """on_time / due × 100, 2 places, half up; None when nothing is due."""
    if due < 0 or on_time < 0 or on_time > due:
        raise ValueError(f"inconsistent counts: on_time={on_time}, due={due}")
    if due == 0:
        return None
    return (Decimal(on_time) * _HUNDRED / Decimal(due)).quantize(_CENT, rounding=ROUND_HALF_UP)


@dataclass
class ComplianceReport:
    """Tallies by (unit, period), plus helpers for YTD and plan-wide figures."""

    by_unit_period: dict[tuple[str, Period], Tally] = field(default_factory=dict)

    def units(self) -> list[str]:
        return sorted({unit for unit, _ in self.by_unit_period})

    def periods(self) -> list[Period]:
        return sorted({period for _, period in self.by_unit_period})

    def month(self, unit: str, period: Period) -> Tally:
        return self.by_unit_period.get((unit, period), Tally())

    def year_to_date(self, unit: str | None, through: Period) -> Tally:
        """Pooled tally of ``through``'s year up to ``through`` (all units when unit is None)."""
        total = Tally()
        for (u, period), tally in self.by_unit_period.items():
            if unit is not None and u != unit:
                continue
            if period.year == through.year and period <= through:
                total.merge(tally)
        return total

    def unit_total(self, unit: str | None) -> Tally:
        total = Tally()
        for (u, _), tally in self.by_unit_period.items():
            if unit is None or u == unit:
                total.merge(tally)
        return total


def compliance(obligations: Iterable[Obligation], now: datetime) -> ComplianceReport:
    tallies: dict[tuple[str, Period], Tally] = defaultdict(Tally)
    for ob in obligations:
        status = deadline_status(ob.deadline, ob.first_registered_at, now)
        tallies[(ob.unit_code, ob.period)].add(status, overdue=now >= ob.deadline)
    return ComplianceReport(by_unit_period=dict(tallies))

"""Monthly registration periods (``YYYY-MM``)."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from execution.domain.errors import InvalidPeriod

_PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")

# Months in which a registration is due, by indicator periodicity (default monthly).
_PERIODICITY_MONTHS: dict[str, frozenset[int]] = {
    "monthly": frozenset(range(1, 13)),
    "bimonthly": frozenset({2, 4, 6, 8, 10, 12}),
    "quarterly": frozenset({3, 6, 9, 12}),
    "semiannual": frozenset({6, 12}),
    "annual": frozenset({12}),
}


@dataclass(frozen=True, order=True, slots=True)
class Period:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1900 <= self.year <= 9999:
            raise InvalidPeriod(f"period out of range: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD_RE.match(text.strip())
        if match is None:
            raise InvalidPeriod(f"period must be YYYY-MM, got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Period:
        return Period(self.year + 1, 1) if self.month == 12 else Period(self.year, self.month + 1)

    def shift(self, months: int) -> Period:
        index = self.year * 12 + (self.month - 1) + months
        return Period(index // 12, index % 12 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])


def period_range(first: Period, last: Period) -> Iterator[Period]:
    """Every period from ``first`` to ``last`` inclusive."""
    current = first
    while current <= last:
        yield current
        current = current.next()


def is_due_month(periodicity: str | None, period: Period) -> bool:
    """Whether an item of this periodicity owes a registration for ``period``."""
    key = (periodicity or "monthly").strip().lower()
    months = _PERIODICITY_MONTHS.get(key, _PERIODICITY_MONTHS["monthly"])
    return period.month in months

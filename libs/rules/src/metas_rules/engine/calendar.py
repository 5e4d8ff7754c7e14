"""Dates the rules need, computed from a business-day predicate passed in (the engine stays pure)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

BusinessDay = Callable[[date], bool]


def weekday_only(day: date) -> bool:
    """Fallback predicate: Monday–Friday (callers pass the jurisdiction's holidays as well)."""
    return day.weekday() < 5


def last_business_day_of_january(year: int, is_business_day: BusinessDay = weekday_only) -> date:
    """Last business day of January of `year` (the product cut-off uses cycle year + 1)."""
    day = date(year, 1, 31)
    while not is_business_day(day):
        day -= timedelta(days=1)
        if day.month != 1:
            raise ValueError(f"January {year} has no business day")
    return day


def product_cutoff(cycle_year: int, is_business_day: BusinessDay = weekday_only) -> date:
    """Anexo IV: nothing delivered after the last business day of January of the next year counts."""
    return last_business_day_of_january(cycle_year + 1, is_business_day)

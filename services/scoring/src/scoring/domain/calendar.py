"""Business days of a plan's jurisdiction (holidays package + the plan's declared closures)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import holidays


def business_day_predicate(calendar: Mapping[str, Any] | None, years: range) -> Callable[[date], bool]:
    """Weekdays that are neither public holidays of (country, subdiv) nor plan closures."""
    calendar = calendar or {}
    country = calendar.get("country")
    off: set[date] = set()
    if country:
        off.update(holidays.country_holidays(country, subdiv=calendar.get("subdiv"), years=list(years)).keys())
    for closure in calendar.get("closures") or []:
        off.add(date.fromisoformat(str(closure["date"])))
    return lambda day: day.weekday() < 5 and day not in off

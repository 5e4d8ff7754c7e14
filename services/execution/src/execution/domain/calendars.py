"""Business-day calendars of a plan's jurisdiction.

A business day is a weekday that is neither a holiday of the jurisdiction (from the ``holidays``
package) nor a closure the organisation declares as data (municipal holiday, *ponto facultativo*,
*tolerância de ponto*).

Jurisdiction defaults (decided here, overridable per plan with ``categories`` / ``openings``):

* Portugal (``PT``): the ``public`` category only. Carnival has not been a national holiday since
  2013; the government grants *tolerância de ponto* by a yearly dispatch, so a plan that wants it
  declares that year's Carnival Tuesday as a closure. Lisbon's 13 June (Santo António) is a
  municipal holiday: a closure of the organisations that observe it.
* Brazil (``BR``, e.g. subdiv ``MG``): ``public`` + ``optional``. The ``optional`` category of the
  ``holidays`` package is the federal *pontos facultativos* (Carnival Monday and Tuesday, Ash
  Wednesday, Corpus Christi, 28 October Public Servant's Day, 24 and 31 December), which the
  Minas Gerais executive also observes. Ash Wednesday is a half-day (offices open in the
  afternoon), so it stays a business day by default; a plan that lists ``categories`` itself
  drops that default (add the day to ``openings`` to keep it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from execution.domain.errors import CalendarError

_DEFAULT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "PT": ("public",),
    "BR": ("public", "optional"),
}
_DEFAULT_TIMEZONES: dict[str, str] = {"PT": "Europe/Lisbon", "BR": "America/Sao_Paulo"}
_WEEKEND = (5, 6)  # Saturday, Sunday


def easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous algorithm of Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


@dataclass(frozen=True, slots=True)
class Closure:
    """A day the organisation is closed although the national calendar says it works."""

    day: date
    name: str


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    """What a plan declares about its calendar (``plan.calendar`` in the planning tree)."""

    country: str
    subdiv: str | None = None
    categories: tuple[str, ...] | None = None  # None: the jurisdiction default above
    closures: tuple[Closure, ...] = ()
    openings: tuple[date, ...] = ()  # listed holidays the organisation works on anyway
    timezone: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CalendarSpec:
        """Build from the plan document's ``calendar`` object."""
        try:
            country = str(data["country"]).upper()
        except KeyError as exc:
            raise CalendarError("calendar.country is required") from exc
        closures = tuple(
            Closure(day=_as_date(c["date"]), name=str(c.get("name") or "closure")) for c in data.get("closures") or ()
        )
        openings = tuple(_as_date(d) for d in data.get("openings") or ())
        categories = data.get("categories")
        return cls(
            country=country,
            subdiv=(str(data["subdiv"]).upper() if data.get("subdiv") else None),
            categories=tuple(categories) if categories else None,
            closures=closures,
            openings=openings,
            timezone=data.get("timezone"),
        )

    def to_mapping(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "subdiv": self.subdiv,
            "categories": list(self.effective_categories),
            "closures": [{"date": c.day.isoformat(), "name": c.name} for c in self.closures],
            "openings": [d.isoformat() for d in self.openings],
            "timezone": self.effective_timezone,
        }

    @property
    def effective_categories(self) -> tuple[str, ...]:
        if self.categories is not None:
            return self.categories
        return _DEFAULT_CATEGORIES.get(self.country, ("public",))

    @property
    def effective_timezone(self) -> str:
        return self.timezone or _DEFAULT_TIMEZONES.get(self.country, "UTC")


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise CalendarError(f"not an ISO date: {value!r}") from exc


@dataclass
class BusinessCalendar:
    """Answers "is this a business day?" for one jurisdiction plus its closures."""

    spec: CalendarSpec
    _closures: dict[date, str] = field(init=False, repr=False)
    _openings: frozenset[date] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._closures = {c.day: c.name for c in self.spec.closures}
        self._openings = frozenset(self.spec.openings)
        _ = self._holidays  # fail early on an unknown country/subdivision/category

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        try:
            return holidays.country_holidays(
                self.spec.country,
                subdiv=self.spec.subdiv,
                categories=self.spec.effective_categories,
            )
        except (NotImplementedError, ValueError) as exc:
            raise CalendarError(str(exc)) from exc

    @cached_property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.spec.effective_timezone)

    def _default_opening(self, day: date) -> bool:
        # Brazil: Ash Wednesday is a half-day ponto facultativo; offices open after noon.
        return (
            self.spec.country == "BR" and self.spec.categories is None and day == easter(day.year) - timedelta(days=46)
        )

    def non_business_reason(self, day: date) -> str | None:
        """Why ``day`` is not a business day, or None when it is one."""
        if day.weekday() in _WEEKEND:
            return "Saturday" if day.weekday() == 5 else "Sunday"
        if day in self._closures:
            return self._closures[day]
        if day in self._openings or self._default_opening(day):
            return None
        name = self._holidays.get(day)
        return str(name) if name else None

    def is_business_day(self, day: date) -> bool:
        return self.non_business_reason(day) is None

    def next_business_day(self, day: date, *, inclusive: bool = True) -> date:
        """First business day on/after ``day`` (strictly after when not inclusive)."""
        try:
            current = day if inclusive else day + timedelta(days=1)
            for _ in range(366):
                if self.is_business_day(current):
                    return current
                current += timedelta(days=1)
        except OverflowError as exc:  # past 9999-12-31
            raise CalendarError(f"no business day after {day} in the calendar's range") from exc
        raise CalendarError(f"no business day within a year after {day}")

    def business_days(self, start: date, end: date) -> Iterator[date]:
        """Business days in the closed interval [start, end]."""
        current = start
        while current <= end:
            if self.is_business_day(current):
                yield current
            current += timedelta(days=1)

    def non_business_days(self, start: date, end: date) -> list[tuple[date, str]]:
        """Every non-business day in [start, end] with its reason (for docs and debugging)."""
        out: list[tuple[date, str]] = []
        current = start
        while current <= end:
            reason = self.non_business_reason(current)
            if reason is not None:
                out.append((current, reason))
            current += timedelta(days=1)
        return out


def calendar_for(spec: CalendarSpec | Mapping[str, Any]) -> BusinessCalendar:
    """A calendar from a spec or the plan document's ``calendar`` mapping."""
    if not isinstance(spec, CalendarSpec):
        spec = CalendarSpec.from_mapping(spec)
    return BusinessCalendar(spec)


def merge_closures(spec: CalendarSpec, extra: Iterable[Closure]) -> CalendarSpec:
    """The spec with more closures (e.g. ones the execution service keeps per organisation)."""
    merged = {c.day: c for c in spec.closures}
    for closure in extra:
        merged.setdefault(closure.day, closure)
    return CalendarSpec(
        country=spec.country,
        subdiv=spec.subdiv,
        categories=spec.categories,
        closures=tuple(sorted(merged.values(), key=lambda c: c.day)),
        openings=spec.openings,
        timezone=spec.timezone,
    )

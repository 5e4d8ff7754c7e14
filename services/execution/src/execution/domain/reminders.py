"""Reminder digests: which digests a plan owes on a given day, and what each person's digest lists.

One digest per person, plan, kind and due date — never one mail per item:

* ``due_soon``: to a registrar, ``lead`` business days before a due day (and up to that day, so a replica that
  was down catches up), listing what its units still owe for the period(s) due that day;
* ``overdue``: to a registrar, on the first business day after a due day, listing what is late or missing;
* ``to_certify``: to a certifier, on that same day, listing what its units submitted and awaits certification.

Days are the plan's business days (its calendar, with the organisation's closures) in the plan's timezone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from execution.domain.calendars import BusinessCalendar
from execution.domain.periods import Period
from execution.domain.registrations import PlanItem
from execution.domain.schedule import PlanSchedule


class DigestKind(StrEnum):
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    TO_CERTIFY = "to_certify"


REGISTRAR_KINDS = frozenset({DigestKind.DUE_SOON, DigestKind.OVERDUE})


class LineStatus(StrEnum):
    OWED = "owed"  # nothing registered yet, deadline ahead
    MISSING = "missing"  # nothing registered, deadline passed
    LATE = "late"  # registered after the deadline
    REJECTED = "rejected"  # registered, rejected by the certifier: to register again
    SUBMITTED = "submitted"  # awaiting certification


@dataclass(frozen=True, slots=True)
class Trigger:
    """A digest kind the plan owes today for the periods due on ``due_date``."""

    kind: DigestKind
    due_date: date
    periods: tuple[Period, ...]


@dataclass(frozen=True, slots=True)
class Line:
    item_code: str
    unit_code: str
    period: str
    status: LineStatus


@dataclass(frozen=True, slots=True)
class RegistrationState:
    """What the digest needs of a registration: its certification and when it was first registered."""

    certification: str
    first_registered_at: datetime


def business_days_before(calendar: BusinessCalendar, day: date, count: int) -> date:
    current = day
    for _ in range(count):
        current -= timedelta(days=1)
        while not calendar.is_business_day(current):
            current -= timedelta(days=1)
    return current


def first_business_day_after(calendar: BusinessCalendar, day: date) -> date:
    return calendar.next_business_day(day + timedelta(days=1))


def triggers(schedule: PlanSchedule, today: date, lead: int) -> list[Trigger]:
    """Every digest kind the plan owes on ``today`` (a day in the plan's timezone), by due date."""
    by_due: dict[date, list[Period]] = {}
    for period in schedule.facts.periods():
        by_due.setdefault(schedule.dates(period).due_date, []).append(period)
    found: list[Trigger] = []
    calendar = schedule.calendar
    for due, periods in sorted(by_due.items()):
        if not calendar.is_business_day(today):
            break  # reminders go out on business days only
        if business_days_before(calendar, due, lead) <= today <= due:
            found.append(Trigger(DigestKind.DUE_SOON, due, tuple(periods)))
        if today == first_business_day_after(calendar, due):
            found.append(Trigger(DigestKind.OVERDUE, due, tuple(periods)))
            found.append(Trigger(DigestKind.TO_CERTIFY, due, tuple(periods)))
    return found


def _in(units: frozenset[str] | None, unit: str) -> bool:
    return units is None or unit in units


def registrar_lines(
    schedule: PlanSchedule,
    trigger: Trigger,
    units: frozenset[str] | None,
    registrations: Mapping[tuple[str, str], RegistrationState],
) -> list[Line]:
    """What a registrar of ``units`` (None: every unit) still owes (due_soon) or has late or missing (overdue)."""
    lines: list[Line] = []
    for period in trigger.periods:
        deadline = schedule.dates(period).deadline
        for item in schedule.owed_items(period):
            if not _in(units, item.unit_code):
                continue
            state = registrations.get((item.code, str(period)))
            status = _registrar_status(trigger.kind, state, deadline)
            if status is not None:
                lines.append(_line(item, period, status))
    return sorted(lines, key=lambda line: (line.unit_code, line.period, line.item_code))


def _registrar_status(kind: DigestKind, state: RegistrationState | None, deadline: datetime) -> LineStatus | None:
    if state is None:
        return LineStatus.OWED if kind is DigestKind.DUE_SOON else LineStatus.MISSING
    if state.certification == "rejected":
        return LineStatus.REJECTED
    if kind is DigestKind.OVERDUE and state.first_registered_at >= deadline:
        return LineStatus.LATE
    return None


def certifier_lines(
    schedule: PlanSchedule,
    units: frozenset[str] | None,
    submitted: Iterable[tuple[str, str, str]],
) -> list[Line]:
    """Registrations awaiting certification, from (item_code, unit_code, period) of submitted ones."""
    lines = [
        _line(schedule.facts.items[item], Period.parse(period), LineStatus.SUBMITTED)
        for item, unit, period in submitted
        if item in schedule.facts.items and _in(units, unit)
    ]
    return sorted(lines, key=lambda line: (line.unit_code, line.period, line.item_code))


def _line(item: PlanItem, period: Period, status: LineStatus) -> Line:
    return Line(item.code, item.unit_code, str(period), status)


def item_names(tree: Mapping[str, object]) -> dict[str, str]:
    """Item code → its name in the plan (indicators, products and their stages, initiatives)."""
    names: dict[str, str] = {}
    for key in ("indicators", "products", "initiatives"):
        for entry in tree.get(key) or ():  # type: ignore[attr-defined]
            names[str(entry["code"])] = str(entry.get("name") or entry["code"])
            for stage in entry.get("stages") or ():
                names[str(stage["code"])] = str(stage.get("name") or stage["code"])
    return names

"""Deadline status of one item in one period.

A registration is on time when its *first* version was made before the end of the due day in the
plan's time zone; corrections made later keep the registration on time (the seed counts
"registros realizados no prazo", i.e. when the registration was made, not last edited).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class DeadlineStatus(StrEnum):
    PENDING = "pending"  # not registered, deadline not passed yet
    ON_TIME = "on_time"  # registered by the end of the due day
    LATE = "late"  # registered after the due day
    MISSING = "missing"  # not registered and the due day is over


def deadline_instant(due: date, tz: ZoneInfo) -> datetime:
    """The first instant after the due day (local midnight that ends it), in UTC."""
    local = datetime.combine(due + timedelta(days=1), time.min, tzinfo=tz)
    return local.astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment


def deadline_status(deadline: datetime, first_registered_at: datetime | None, now: datetime) -> DeadlineStatus:
    """Status given the deadline instant (exclusive), the first registration time and now."""
    deadline = _aware(deadline)
    now = _aware(now)
    if first_registered_at is None:
        return DeadlineStatus.PENDING if now < deadline else DeadlineStatus.MISSING
    if _aware(first_registered_at) < deadline:
        return DeadlineStatus.ON_TIME
    return DeadlineStatus.LATE

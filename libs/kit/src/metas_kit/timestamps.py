"""Instants on the wire: RFC 3339 with an offset, always, on both backends; bounded on the way in.

SQLite hands timestamps back naive (it stores no offset); every column the services write holds UTC, so a naive
value read back is UTC. ``UtcDateTime`` makes that explicit and serialises ``2026-12-04T13:40:15.241875Z``.
``Instant`` is for request fields: the offset is required (RFC 3339), the year bounded, the value normalised to
UTC — a lock exception "until 9999-12-31T23:59:59-01:00" is a 422, not an overflow at conversion.

Pure (standard library and pydantic only): domain code may import it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer, WithJsonSchema

# Years an instant or date in this product may fall in: plans run from the 2010s; nothing is scheduled past 2100.
MIN_YEAR = 1970
MAX_YEAR = 2100


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive value is taken as UTC (that is what the services store)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def rfc3339(value: datetime) -> str:
    """``2026-12-04T13:40:15.241875Z``: UTC with an explicit offset designator."""
    return as_utc(value).isoformat().replace("+00:00", "Z")


def _bounded(value: datetime) -> datetime:
    # Bound before converting: astimezone near year 1 or 9999 overflows (OverflowError, a 500).
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
    return as_utc(value)


def _instant(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("an instant needs an offset (RFC 3339), e.g. 2026-03-31T23:59:59Z or ...+01:00")
    return _bounded(value)


def _bounded_date(value: date) -> date:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
    return value


_SERIALISE = PlainSerializer(rfc3339, return_type=str, when_used="always")
_SCHEMA_OUT = WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization")

# Response (and stored) timestamps: naive → UTC, bounded, serialised RFC 3339 with "Z".
UtcDateTime = Annotated[datetime, AfterValidator(_bounded), _SERIALISE, _SCHEMA_OUT]
# Request instants: the offset is required; bounded; normalised to UTC.
Instant = Annotated[datetime, AfterValidator(_instant), _SERIALISE, _SCHEMA_OUT]
# Calendar dates within the same years.
BoundedDate = Annotated[date, AfterValidator(_bounded_date)]

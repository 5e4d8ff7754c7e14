"""Timestamps on the wire are RFC 3339 with an offset; instants and dates from callers are bounded (422, never an
overflow)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from metas_kit.timestamps import BoundedDate, Instant, UtcDateTime, rfc3339


class Out(BaseModel):
    at: UtcDateTime


class In(BaseModel):
    until: Instant
    day: BoundedDate | None = None


def test_naive_values_from_sqlite_are_utc_and_serialise_with_an_offset() -> None:
    naive = datetime(2026, 12, 4, 13, 40, 15, 241875)
    assert Out(at=naive).model_dump(mode="json") == {"at": "2026-12-04T13:40:15.241875Z"}
    lisbon_summer = datetime(2026, 7, 1, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert Out(at=lisbon_summer).model_dump_json() == '{"at":"2026-07-01T09:00:00Z"}'
    schema = Out.model_json_schema(mode="serialization")["properties"]["at"]
    assert (schema["type"], schema["format"]) == ("string", "date-time")


def test_instants_need_an_offset_and_sane_years() -> None:
    assert In.model_validate({"until": "2026-03-31T23:59:59-03:00"}).until == datetime(
        2026, 4, 1, 2, 59, 59, tzinfo=UTC
    )
    for bad in [
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00+01:00",
        "2026-03-31T23:59:59",
        "2026-13-01T00:00:00Z",
    ]:
        with pytest.raises(ValidationError) as info:
            In.model_validate({"until": bad})
        assert info.value.errors()[0]["loc"] == ("until",)
    with pytest.raises(ValidationError):
        In.model_validate({"until": "2026-01-01T00:00:00Z", "day": "9999-12-31"})


@settings(max_examples=300, deadline=None)
@given(st.datetimes(timezones=st.none() | st.timezones()))
def test_every_datetime_serialises_or_is_refused_as_validation(value: datetime) -> None:
    try:
        out = Out(at=value)
    except ValidationError:
        assert not 1970 <= value.year <= 2100
        return
    text = out.model_dump(mode="json")["at"]
    assert text.endswith("Z")
    # astimezone, not ==: PEP 495 makes an instant in a DST gap unequal to every instant of another zone
    assert datetime.fromisoformat(text) == (value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_instant_text_is_parsed_or_refused_as_validation(text: str) -> None:
    try:
        parsed = In.model_validate({"until": text}).until
    except ValidationError:
        return
    assert parsed.tzinfo is UTC
    assert rfc3339(parsed).endswith("Z")


def test_dates_bounded() -> None:
    assert In.model_validate({"until": "2026-01-01T00:00:00Z", "day": "2024-02-29"}).day == date(2024, 2, 29)

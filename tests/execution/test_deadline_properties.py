"""Properties of the deadline arithmetic over many dates (hypothesis), on both jurisdictions."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from execution.domain.calendars import calendar_for
from execution.domain.deadlines import (
    DeadlineRule,
    Suspension,
    due_date,
    nth_business_day,
    procedural_duration,
    procedural_end,
)
from execution.domain.periods import Period

CALENDARS = [calendar_for({"country": "PT"}), calendar_for({"country": "BR", "subdiv": "MG"})]
cal_index = st.integers(min_value=0, max_value=1)
days = st.dates(min_value=date(2010, 1, 1), max_value=date(2035, 12, 31))


@settings(max_examples=150, deadline=None)
@given(cal_index, st.integers(2010, 2035), st.integers(1, 12), st.integers(1, 15))
def test_nth_business_day_has_exactly_n_minus_one_business_days_before_it(
    c: int, year: int, month: int, n: int
) -> None:
    cal = CALENDARS[c]
    day = nth_business_day(cal, year, month, n)
    assert cal.is_business_day(day)
    assert (day.year, day.month) == (year, month)
    before = list(cal.business_days(date(year, month, 1), day - timedelta(days=1)))
    assert len(before) == n - 1


@settings(max_examples=150, deadline=None)
@given(cal_index, st.integers(2010, 2035), st.integers(1, 12))
def test_due_date_is_in_the_following_month_and_a_business_day(c: int, year: int, month: int) -> None:
    cal = CALENDARS[c]
    period = Period(year, month)
    due = due_date(cal, DeadlineRule(), period)
    assert Period.of(due) == period.next()
    assert cal.is_business_day(due)
    assert due.day >= 10  # at least the 10th calendar day: 10 business days need 10 days


@settings(max_examples=150, deadline=None)
@given(cal_index, days, st.integers(1, 40))
def test_procedural_duration_inverts_procedural_end(c: int, start: date, n: int) -> None:
    cal = CALENDARS[c]
    end = procedural_end(cal, start, n)
    assert end > start
    assert cal.is_business_day(end)
    assert procedural_duration(cal, start, end) == n


@settings(max_examples=100, deadline=None)
@given(cal_index, days, st.integers(1, 20), st.integers(0, 30), st.integers(0, 10))
def test_a_suspension_never_shortens_a_term(c: int, start: date, n: int, offset: int, length: int) -> None:
    cal = CALENDARS[c]
    stop = Suspension(start + timedelta(days=offset), start + timedelta(days=offset + length))
    plain = procedural_end(cal, start, n)
    suspended = procedural_end(cal, start, n, [stop])
    assert suspended >= plain
    assert procedural_duration(cal, start, suspended, [stop]) == n

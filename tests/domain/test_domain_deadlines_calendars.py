"""Business-day calendars and registration deadlines of execution.domain (docs/domain.md §2.4), checked by hand
against printed calendars. March 2024 [Fri 1st]: PT Good Friday 29. February 2014 [Sat 1st] and March 2014
[Sat 1st]: BR-MG Carnival Mon 3 and Tue 4 March, Ash Wednesday 5 March a business day by default. January 2014
[Wed 1st]: BR-MG Wed 1 holiday. June 2014 [Sun 1st]: BR-MG Corpus Christi Thu 19."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from execution.domain.calendars import (
    BusinessCalendar,
    CalendarSpec,
    Closure,
    calendar_for,
    easter,
    merge_closures,
)
from execution.domain.deadlines import (
    DeadlineRule,
    Suspension,
    closing_date,
    due_date,
    last_business_day,
    nth_business_day,
    procedural_duration,
    procedural_end,
)
from execution.domain.errors import CalendarError, DeadlineError
from execution.domain.periods import Period

PT = calendar_for({"country": "PT"})
BR = calendar_for({"country": "BR", "subdiv": "MG"})

# ---------------------------------------------------------------- Easter (the moving holidays hang on it)


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2024, date(2024, 3, 31)),
        (2014, date(2014, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2000, date(2000, 4, 23)),
        (1954, date(1954, 4, 18)),
        (2038, date(2038, 4, 25)),  # the latest possible date
        (2285, date(2285, 3, 22)),  # the earliest possible date
        (2019, date(2019, 4, 21)),
        (1981, date(1981, 4, 19)),
    ],
)
def test_easter(year: int, expected: date) -> None:
    assert easter(year) == expected


def test_easter_matches_an_independent_computation_over_the_gregorian_calendar() -> None:
    # dateutil's Western Easter (a different formulation of the Gregorian computus) for every year from 1583, the
    # first full Gregorian year, to 4099, the end of its documented range: centuries where the (b + 8) // 25 and
    # (b − f + 1) // 3 corrections change (1700, 1800, 2100 …) and the 451 / 22 special cases (e.g. 1734, 3165)
    from dateutil.easter import EASTER_WESTERN
    from dateutil.easter import easter as reference

    wrong = [y for y in range(1583, 4100) if easter(y) != reference(y, EASTER_WESTERN)]
    assert wrong == []
    # spot checks printed in calendars: 2001 Apr 15, 2021 Apr 4, 2025 Apr 20
    assert [easter(y) for y in (2001, 2021, 2025)] == [date(2001, 4, 15), date(2021, 4, 4), date(2025, 4, 20)]


# ---------------------------------------------------------------- calendar specs


def test_spec_from_mapping_and_back() -> None:
    spec = CalendarSpec.from_mapping(
        {
            "country": "br",
            "subdiv": "mg",
            "closures": [{"date": "2014-06-12", "name": "Copa"}, {"date": date(2014, 7, 1)}],
            "openings": ["2014-03-04"],
            "categories": ["public"],
            "timezone": "America/Sao_Paulo",
        }
    )
    assert (spec.country, spec.subdiv, spec.categories) == ("BR", "MG", ("public",))
    assert spec.closures == (Closure(date(2014, 6, 12), "Copa"), Closure(date(2014, 7, 1), "closure"))
    assert spec.openings == (date(2014, 3, 4),)
    assert spec.to_mapping() == {
        "country": "BR",
        "subdiv": "MG",
        "categories": ["public"],
        "closures": [{"date": "2014-06-12", "name": "Copa"}, {"date": "2014-07-01", "name": "closure"}],
        "openings": ["2014-03-04"],
        "timezone": "America/Sao_Paulo",
    }


def test_spec_defaults_per_jurisdiction() -> None:
    pt = CalendarSpec.from_mapping({"country": "PT"})
    assert (pt.subdiv, pt.categories, pt.closures, pt.openings, pt.timezone) == (None, None, (), (), None)
    assert (pt.effective_categories, pt.effective_timezone) == (("public",), "Europe/Lisbon")
    br = CalendarSpec(country="BR")
    assert (br.effective_categories, br.effective_timezone) == (("public", "optional"), "America/Sao_Paulo")
    es = CalendarSpec(country="ES")
    assert (es.effective_categories, es.effective_timezone) == (("public",), "UTC")
    assert CalendarSpec(country="PT", timezone="Atlantic/Azores").effective_timezone == "Atlantic/Azores"
    assert PT.timezone == ZoneInfo("Europe/Lisbon")


def test_spec_errors() -> None:
    with pytest.raises(CalendarError, match=r"^calendar.country is required$"):
        CalendarSpec.from_mapping({})
    with pytest.raises(CalendarError, match=r"^not an ISO date: '31/11/2014'$"):
        CalendarSpec.from_mapping({"country": "PT", "openings": ["31/11/2014"]})
    with pytest.raises(CalendarError):
        calendar_for({"country": "XX"})
    with pytest.raises(CalendarError):
        calendar_for({"country": "PT", "categories": ["no-such-category"]})


# ---------------------------------------------------------------- business days


def test_non_business_reasons() -> None:
    assert PT.non_business_reason(date(2024, 3, 2)) == "Saturday"
    assert PT.non_business_reason(date(2024, 3, 3)) == "Sunday"
    assert PT.non_business_reason(date(2024, 3, 29)) == "Good Friday"
    assert PT.non_business_reason(date(2024, 3, 28)) is None
    assert BR.non_business_reason(date(2014, 3, 4)) == "Carnival"
    # Ash Wednesday is a half day: a business day by default, a holiday when the plan lists the categories itself
    assert BR.non_business_reason(date(2014, 3, 5)) is None
    listed = calendar_for({"country": "BR", "subdiv": "MG", "categories": ["public", "optional"]})
    assert listed.non_business_reason(date(2014, 3, 5)) == "Ash Wednesday"
    assert listed.non_business_reason(date(2014, 3, 6)) is None  # the day after
    assert BR.non_business_reason(date(2014, 3, 6)) is None
    # Portugal has no such default opening
    assert calendar_for({"country": "PT"}).non_business_reason(date(2024, 2, 14)) is None


def test_closures_and_openings() -> None:
    cal = calendar_for(
        {
            "country": "PT",
            "closures": [{"date": "2024-06-13", "name": "Santo António"}, {"date": "2024-03-02", "name": "x"}],
            "openings": ["2024-03-29"],
        }
    )
    assert cal.non_business_reason(date(2024, 6, 13)) == "Santo António"
    assert cal.non_business_reason(date(2024, 3, 2)) == "Saturday"  # a weekend stays a weekend
    assert cal.non_business_reason(date(2024, 3, 29)) is None  # Good Friday worked
    assert cal.is_business_day(date(2024, 3, 29))
    assert not cal.is_business_day(date(2024, 6, 13))


def test_next_business_day() -> None:
    assert PT.next_business_day(date(2024, 3, 1)) == date(2024, 3, 1)  # a Friday is its own answer
    assert PT.next_business_day(date(2024, 3, 1), inclusive=False) == date(2024, 3, 4)
    assert PT.next_business_day(date(2024, 3, 2)) == date(2024, 3, 4)
    assert PT.next_business_day(date(2024, 3, 29)) == date(2024, 4, 1)  # Good Friday, weekend → Monday
    closed = [{"date": (date(2024, 1, 1) + timedelta(days=i)).isoformat()} for i in range(400)]
    with pytest.raises(CalendarError, match=r"^no business day within a year after 2024-01-01$"):
        calendar_for({"country": "PT", "closures": closed}).next_business_day(date(2024, 1, 1))


def test_business_days_and_non_business_days() -> None:
    assert list(PT.business_days(date(2024, 3, 28), date(2024, 4, 2))) == [
        date(2024, 3, 28),
        date(2024, 4, 1),
        date(2024, 4, 2),
    ]
    assert list(PT.business_days(date(2024, 3, 5), date(2024, 3, 4))) == []
    assert PT.non_business_days(date(2024, 3, 30), date(2024, 3, 31)) == [
        (date(2024, 3, 30), "Saturday"),
        (date(2024, 3, 31), "Sunday"),  # the end day is included
    ]
    assert PT.non_business_days(date(2024, 3, 28), date(2024, 4, 1)) == [
        (date(2024, 3, 29), "Good Friday"),
        (date(2024, 3, 30), "Saturday"),
        (date(2024, 3, 31), "Sunday"),
    ]


def test_calendar_for_takes_a_spec_and_merge_closures() -> None:
    spec = CalendarSpec(country="PT", closures=(Closure(date(2024, 6, 13), "Santo António"),), timezone="UTC")
    assert isinstance(calendar_for(spec), BusinessCalendar)
    assert calendar_for(spec).spec is spec
    merged = merge_closures(spec, [Closure(date(2024, 6, 13), "other name"), Closure(date(2024, 2, 13), "Carnaval")])
    # the plan's own closure wins on the same day; sorted by day; nothing else changes
    assert merged.closures == (Closure(date(2024, 2, 13), "Carnaval"), Closure(date(2024, 6, 13), "Santo António"))
    assert (merged.country, merged.timezone, merged.categories, merged.openings) == ("PT", "UTC", None, ())
    br = CalendarSpec(country="BR", subdiv="MG", categories=("public",), openings=(date(2014, 3, 4),), timezone="X/Y")
    merged_br = merge_closures(br, [])
    assert (merged_br.subdiv, merged_br.categories, merged_br.openings, merged_br.timezone, merged_br.closures) == (
        "MG",
        ("public",),
        (date(2014, 3, 4),),
        "X/Y",
        (),
    )


# ---------------------------------------------------------------- deadline rules


def test_deadline_rule_bounds() -> None:
    DeadlineRule(business_day=1, month_offset=0, closing_month=1)
    DeadlineRule(business_day=23, month_offset=12, closing_month=12)
    for kwargs, message in (
        ({"business_day": 0}, "business_day must be between 1 and 23"),
        ({"business_day": 24}, "business_day must be between 1 and 23"),
        ({"closing_month": 0}, "closing_month must be between 1 and 12"),
        ({"closing_month": 13}, "closing_month must be between 1 and 12"),
        ({"month_offset": -1}, "month_offset must be between 0 and 12"),
        ({"month_offset": 13}, "month_offset must be between 0 and 12"),
    ):
        with pytest.raises(DeadlineError, match=rf"^{message}$"):
            DeadlineRule(**kwargs)  # type: ignore[arg-type]


def test_deadline_rule_from_mapping() -> None:
    assert DeadlineRule.from_mapping(None) == DeadlineRule(10, 1, None, 1)
    rule = DeadlineRule.from_mapping(
        {"business_day": "5", "month_offset": 0, "catch_up_through": "2014-05", "closing_month": 2}
    )
    assert rule == DeadlineRule(business_day=5, month_offset=0, catch_up_through=Period(2014, 5), closing_month=2)
    assert DeadlineRule.from_mapping({"catch_up_through": ""}).catch_up_through is None


def test_nth_and_last_business_day() -> None:
    # March 2024 in PT: 1 | 4–8 | 11–15 | 18–22 | 25–28 (29 Good Friday) → 20 business days
    assert nth_business_day(PT, 2024, 3, 1) == date(2024, 3, 1)
    assert nth_business_day(PT, 2024, 3, 2) == date(2024, 3, 4)
    assert nth_business_day(PT, 2024, 3, 20) == date(2024, 3, 28)
    with pytest.raises(DeadlineError, match=r"^2024-03 has fewer than 21 business days$"):
        nth_business_day(PT, 2024, 3, 21)
    with pytest.raises(DeadlineError, match=r"^n must be at least 1$"):
        nth_business_day(PT, 2024, 3, 0)
    assert last_business_day(PT, 2024, 3) == date(2024, 3, 28)
    assert last_business_day(BR, 2015, 1) == date(2015, 1, 30)
    weekdays = [date(2015, 2, d) for d in range(1, 29) if date(2015, 2, d).weekday() < 5]
    shut = calendar_for({"country": "PT", "closures": [{"date": d.isoformat()} for d in weekdays]})
    with pytest.raises(DeadlineError, match=r"^2015-02 has no business day$"):
        last_business_day(shut, 2015, 2)


def test_due_dates_minas_gerais_2014() -> None:
    rule = DeadlineRule()
    # January → February 2014: 3 4 5 6 7 | 10 11 12 13 14 → the 10th business day is 14/02
    assert due_date(BR, rule, Period(2014, 1)) == date(2014, 2, 14)
    # February → March 2014: Carnival 3–4; 5 6 7 | 10 11 12 13 14 | 17 18 → 18/03
    assert due_date(BR, rule, Period(2014, 2)) == date(2014, 3, 18)
    # same month (offset 0): January 2014, 1 is a holiday: 2 3 | 6 7 8 9 10 | 13 14 15 → 15/01
    assert due_date(BR, DeadlineRule(month_offset=0), Period(2014, 1)) == date(2014, 1, 15)
    # the 1st business day of the following month
    assert due_date(BR, DeadlineRule(business_day=1), Period(2014, 2)) == date(2014, 3, 5)


def test_catch_up_moves_earlier_periods_to_the_catch_up_month() -> None:
    rule = DeadlineRule(catch_up_through=Period(2014, 5))
    # January–May are due with May: June 2014: 2 3 4 5 6 | 9 10 11 12 13 → 13/06
    assert due_date(BR, rule, Period(2014, 1)) == date(2014, 6, 13)
    assert due_date(BR, rule, Period(2014, 4)) == date(2014, 6, 13)
    assert due_date(BR, rule, Period(2014, 5)) == date(2014, 6, 13)
    # June is due on its own date: July 2014: 1 2 3 4 | 7 8 9 10 11 | 14 → 14/07
    assert due_date(BR, rule, Period(2014, 6)) == date(2014, 7, 14)


def test_closing_date() -> None:
    # registrations of 2014 close on the last business day of January 2015 (31 is a Saturday)
    assert closing_date(BR, DeadlineRule(), Period(2014, 3)) == date(2015, 1, 30)
    assert closing_date(BR, DeadlineRule(), Period(2014, 12)) == date(2015, 1, 30)
    # closing in February: 27/02/2015 is a Friday
    assert closing_date(BR, DeadlineRule(closing_month=2), Period(2014, 3)) == date(2015, 2, 27)


# ---------------------------------------------------------------- procedural durations


def test_suspensions() -> None:
    s = Suspension(date(2024, 3, 5), date(2024, 3, 6))
    assert (s.covers(date(2024, 3, 4)), s.covers(date(2024, 3, 5)), s.covers(date(2024, 3, 6))) == (False, True, True)
    assert not s.covers(date(2024, 3, 7))
    Suspension(date(2024, 3, 5), date(2024, 3, 5))
    with pytest.raises(DeadlineError, match=r"^suspension ends \(2024-03-01\) before it starts \(2024-03-05\)$"):
        Suspension(date(2024, 3, 5), date(2024, 3, 1))


def test_procedural_end() -> None:
    # 5 business days from Friday 01/03/2024: Mon 4 (1) … Fri 8 (5)
    assert procedural_end(PT, date(2024, 3, 1), 5) == date(2024, 3, 8)
    assert procedural_end(PT, date(2024, 3, 1), 1) == date(2024, 3, 4)
    # starting on Saturday: the start moves to Monday 4, excluded → Tue 5 … Mon 11
    assert procedural_end(PT, date(2024, 3, 2), 5) == date(2024, 3, 11)
    # 5–6 March suspended: 4 (1) 7 (2) 8 (3) 11 (4) 12 (5)
    assert procedural_end(PT, date(2024, 3, 1), 5, [Suspension(date(2024, 3, 5), date(2024, 3, 6))]) == date(
        2024, 3, 12
    )
    # over Easter: from Wed 27/03: Thu 28 (1), Good Friday skipped, Mon 1/4 (2), Tue 2/4 (3)
    assert procedural_end(PT, date(2024, 3, 27), 3) == date(2024, 4, 2)
    with pytest.raises(DeadlineError, match=r"^a term has at least one day$"):
        procedural_end(PT, date(2024, 3, 1), 0)
    with pytest.raises(DeadlineError, match=r"^duration longer than twenty years$"):
        procedural_end(PT, date(2024, 3, 1), 366 * 20)


def test_procedural_duration() -> None:
    assert procedural_duration(PT, date(2024, 3, 1), date(2024, 3, 8)) == 5
    assert procedural_duration(PT, date(2024, 3, 1), date(2024, 3, 1)) == 0  # a same-day answer
    assert procedural_duration(PT, date(2024, 3, 1), date(2024, 3, 4)) == 1
    # the end on a Saturday moves to Monday 11: 6 days
    assert procedural_duration(PT, date(2024, 3, 1), date(2024, 3, 9)) == 6
    # start and end on the same weekend: both move to Monday → 0
    assert procedural_duration(PT, date(2024, 3, 2), date(2024, 3, 3)) == 0
    suspended = [Suspension(date(2024, 3, 5), date(2024, 3, 6))]
    assert procedural_duration(PT, date(2024, 3, 1), date(2024, 3, 8), suspended) == 3
    with pytest.raises(DeadlineError, match=r"^end 2024-02-01 is before start 2024-03-01$"):
        procedural_duration(PT, date(2024, 3, 1), date(2024, 2, 1))


def test_a_declared_time_zone_overrides_the_countrys() -> None:
    # Brazil's default zone is São Paulo; a plan in Amazonas declares Manaus (UTC−4), which must be kept
    spec = CalendarSpec.from_mapping({"country": "br", "subdiv": "am", "timezone": "America/Manaus"})
    assert (spec.timezone, spec.effective_timezone) == ("America/Manaus", "America/Manaus")
    assert spec.to_mapping()["timezone"] == "America/Manaus"
    assert CalendarSpec.from_mapping({"country": "br"}).effective_timezone == "America/Sao_Paulo"


def test_the_next_business_day_strictly_after_a_day() -> None:
    # March 2024 [Fri 1st]: after Mon 4 comes Tue 5; after Thu 28 comes Mon 1 April (Good Friday 29, a weekend)
    assert PT.next_business_day(date(2024, 3, 4), inclusive=False) == date(2024, 3, 5)
    assert PT.next_business_day(date(2024, 3, 28), inclusive=False) == date(2024, 4, 1)
    assert PT.next_business_day(date(2024, 3, 4)) == date(2024, 3, 4)

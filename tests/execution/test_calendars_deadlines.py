"""Golden deadline dates, each checked by hand against a printed calendar (python -m calendar).

Calendars used (weekday of the 1st in brackets):
  June 2026  [Mon]  PT holidays: Thu 4 Corpo de Deus (restored 2016), Wed 10 Dia de Portugal.
                    BR-MG: Thu 4 Corpus Christi (federal ponto facultativo, observed by MG).
  March 2014 [Sat]  BR-MG: Mon 3 + Tue 4 Carnaval (pontos facultativos), Wed 5 Ash Wednesday
                    (half day: a business day by our default). PT: no holiday (Carnival is not a
                    national holiday in Portugal; a plan declares the tolerância de ponto as a closure).
  February 2026 [Sun] BR-MG: Mon 16 + Tue 17 Carnaval, Wed 18 Ash Wednesday (business day).
  May 2024   [Wed]  PT: Wed 1 Dia do Trabalhador.
  June 2014  [Sun]  BR-MG: Thu 19 Corpus Christi (after the 10th business day).
  December 2014 [Mon] BR-MG: no holiday before the 24th.
  January 2015 [Thu] BR-MG: Thu 1 Confraternização Universal.
"""

from __future__ import annotations

from datetime import date

import pytest

from execution.domain.calendars import BusinessCalendar, CalendarSpec, Closure, calendar_for
from execution.domain.deadlines import (
    DeadlineRule,
    Suspension,
    closing_date,
    due_date,
    nth_business_day,
    procedural_duration,
    procedural_end,
)
from execution.domain.errors import CalendarError, DeadlineError, InvalidPeriod
from execution.domain.periods import Period, is_due_month

PT = calendar_for({"country": "PT"})
BR_MG = calendar_for({"country": "BR", "subdiv": "MG"})
RULE = DeadlineRule()  # 10th business day of the following month


def test_june_2026_portugal_skips_corpus_christi_and_portugal_day() -> None:
    # Business days of June 2026 in PT: 1 2 3 (4 holiday) 5 | 8 9 (10 holiday) 11 12 | 15 16
    # counting: 1→1, 2→2, 3→3, 5→4, 8→5, 9→6, 11→7, 12→8, 15→9, 16→10.
    assert due_date(PT, RULE, Period(2026, 5)) == date(2026, 6, 16)
    assert PT.non_business_reason(date(2026, 6, 4)) is not None
    assert PT.non_business_reason(date(2026, 6, 10)) is not None


def test_june_2026_lisbon_closure_on_a_saturday_changes_nothing() -> None:
    # Santo António (13 June) is a Lisbon municipal holiday; in 2026 it is a Saturday.
    lisbon = calendar_for({"country": "PT", "closures": [{"date": "2026-06-13", "name": "Santo António"}]})
    assert due_date(lisbon, RULE, Period(2026, 5)) == date(2026, 6, 16)


def test_june_2026_minas_gerais_only_corpus_christi() -> None:
    # BR-MG June 2026: 1 2 3 (4 Corpus Christi) 5 | 8 9 10 11 12 | 15 → the 10th is Mon 15.
    assert due_date(BR_MG, RULE, Period(2026, 5)) == date(2026, 6, 15)


def test_carnival_2014_minas_gerais() -> None:
    # March 2014 BR-MG: 3 and 4 Carnaval closed; Wed 5 (Ash Wednesday, opens at noon) counts.
    # 5→1, 6→2, 7→3, 10→4, 11→5, 12→6, 13→7, 14→8, 17→9, 18→10.
    assert due_date(BR_MG, RULE, Period(2014, 2)) == date(2014, 3, 18)
    assert not BR_MG.is_business_day(date(2014, 3, 3))
    assert not BR_MG.is_business_day(date(2014, 3, 4))
    assert BR_MG.is_business_day(date(2014, 3, 5))


def test_carnival_2014_minas_gerais_public_category_only() -> None:
    # A plan that observes only public holidays: 3 4 5 6 7 | 10 11 12 13 14 → Fri 14.
    strict = calendar_for({"country": "BR", "subdiv": "MG", "categories": ["public"]})
    assert due_date(strict, RULE, Period(2014, 2)) == date(2014, 3, 14)


def test_carnival_portugal_is_a_closure_only_when_declared() -> None:
    # PT March 2014 has no holiday: 3 4 5 6 7 | 10 11 12 13 14 → Fri 14.
    assert due_date(PT, RULE, Period(2014, 2)) == date(2014, 3, 14)
    # With the tolerância de ponto of Carnival Tuesday (4 March) declared as a closure:
    # 3 5 6 7 | 10 11 12 13 14 | 17 → Mon 17.
    with_tolerance = calendar_for(
        {"country": "PT", "closures": [{"date": "2014-03-04", "name": "Tolerância de ponto"}]}
    )
    assert due_date(with_tolerance, RULE, Period(2014, 2)) == date(2014, 3, 17)
    assert with_tolerance.non_business_reason(date(2014, 3, 4)) == "Tolerância de ponto"


def test_february_2026_carnival_after_the_january_deadline() -> None:
    # Feb 2026 starts on a Sunday: 2..6 (5 days) and 9..13 (10) → Fri 13; Carnival 16-17 is later.
    assert due_date(BR_MG, RULE, Period(2026, 1)) == date(2026, 2, 13)


def test_may_2024_portugal_labour_day() -> None:
    # May 2024 PT: (1 holiday) 2 3 | 6 7 8 9 10 | 13 14 15 → Wed 15.
    assert due_date(PT, RULE, Period(2024, 4)) == date(2024, 5, 15)


def test_december_2014_deadline_in_january_2015() -> None:
    # January 2015 BR-MG: (1 holiday) 2 | 5 6 7 8 9 | 12 13 14 15 → Thu 15.
    assert due_date(BR_MG, RULE, Period(2014, 12)) == date(2015, 1, 15)
    # December 2014: 1..5 | 8..12 → Fri 12.
    assert due_date(BR_MG, RULE, Period(2014, 11)) == date(2014, 12, 12)


def test_catch_up_of_seed_004_january_to_may_due_with_may() -> None:
    # Seed 004: signed 30/04/2014, Jan-May registered once signed → all due with May's deadline,
    # the 10th business day of June 2014: 2..6 | 9..13 → Fri 13 June.
    rule = DeadlineRule.from_mapping({"business_day": 10, "catch_up_through": "2014-05"})
    for month in range(1, 6):
        assert due_date(BR_MG, rule, Period(2014, month)) == date(2014, 6, 13)
    # June is back to the ordinary rule: July 2014 starts Tue 1: 1..4 | 7..11 | 14 → Mon 14.
    assert due_date(BR_MG, rule, Period(2014, 6)) == date(2014, 7, 14)


def test_business_day_and_month_offset_are_plan_configuration() -> None:
    # 5th business day of June 2026 in PT: 1 2 3 5 8 → Mon 8.
    assert due_date(PT, DeadlineRule(business_day=5), Period(2026, 5)) == date(2026, 6, 8)
    # month_offset 0: the 10th business day of the period's own month (June 2026 → 16).
    assert due_date(PT, DeadlineRule(month_offset=0), Period(2026, 6)) == date(2026, 6, 16)


def test_closing_date_is_last_business_day_of_january_next_year() -> None:
    # January 2015 ends on Saturday 31 → Friday 30.
    assert closing_date(BR_MG, RULE, Period(2014, 7)) == date(2015, 1, 30)


def test_nth_business_day_beyond_the_month_is_an_error() -> None:
    with pytest.raises(DeadlineError):
        nth_business_day(PT, 2026, 6, 22)  # June 2026 PT has 20 business days
    assert nth_business_day(PT, 2026, 6, 20) == date(2026, 6, 30)


# Procedural durations (start excluded, end included, both moved off non-business days).


def test_procedural_end_across_carnival_2026() -> None:
    # Start Fri 13 Feb 2026 (excluded); 14-15 weekend, 16-17 Carnaval; 18 → 1, 19 → 2, 20 → 3.
    assert procedural_end(BR_MG, date(2026, 2, 13), 3) == date(2026, 2, 20)


def test_procedural_start_on_saturday_moves_to_next_business_day() -> None:
    # Start Sat 14 Feb → moves to Wed 18 (first business day), which is excluded:
    # 19 → 1, 20 → 2, 23 → 3.
    assert procedural_end(BR_MG, date(2026, 2, 14), 3) == date(2026, 2, 23)


def test_procedural_suspension_does_not_count() -> None:
    # Start 13 Feb, diligência suspends Thu 19: 18 → 1, (19 suspended), 20 → 2, 23 → 3.
    stop = [Suspension(date(2026, 2, 19), date(2026, 2, 19))]
    assert procedural_end(BR_MG, date(2026, 2, 13), 3, stop) == date(2026, 2, 23)
    assert procedural_duration(BR_MG, date(2026, 2, 13), date(2026, 2, 23), stop) == 3


def test_procedural_duration_end_on_sunday_moves_forward() -> None:
    # Thu 12 Feb → Sun 15: the end moves to Wed 18; counted: 13 → 1, 18 → 2.
    assert procedural_duration(BR_MG, date(2026, 2, 12), date(2026, 2, 15)) == 2
    assert procedural_duration(BR_MG, date(2026, 2, 13), date(2026, 2, 13)) == 0
    with pytest.raises(DeadlineError):
        procedural_duration(BR_MG, date(2026, 2, 20), date(2026, 2, 13))


def test_procedural_portugal_june_2026() -> None:
    # Start Wed 3 June 2026 PT: 4 holiday, 5 → 1, 8 → 2, 9 → 3, 10 holiday, 11 → 4.
    assert procedural_end(PT, date(2026, 6, 3), 4) == date(2026, 6, 11)


def test_calendar_errors_and_spec_round_trip() -> None:
    with pytest.raises(CalendarError):
        calendar_for({"country": "XX"})
    with pytest.raises(CalendarError):
        calendar_for({})
    spec = CalendarSpec(country="PT", closures=(Closure(date(2026, 6, 13), "Santo António"),))
    assert CalendarSpec.from_mapping(spec.to_mapping()).closures == spec.closures
    assert BusinessCalendar(spec).timezone.key == "Europe/Lisbon"
    assert BR_MG.timezone.key == "America/Sao_Paulo"


def test_periods() -> None:
    assert str(Period.parse("2014-12").next()) == "2015-01"
    assert Period(2014, 11).shift(3) == Period(2015, 2)
    assert Period(2014, 2).last_day == date(2014, 2, 28)
    with pytest.raises(InvalidPeriod):
        Period.parse("2014-13")
    with pytest.raises(InvalidPeriod):
        Period.parse("2014/01")
    assert is_due_month("quarterly", Period(2014, 3))
    assert not is_due_month("quarterly", Period(2014, 4))
    assert is_due_month("annual", Period(2014, 12))
    assert not is_due_month("annual", Period(2014, 11))
    assert is_due_month(None, Period(2014, 4))


def test_openings_make_a_listed_holiday_a_business_day() -> None:
    # An organisation that works on Carnival Monday 2014 (3 March) but not on Tuesday:
    # 3 → 1, (4 closed), 5 → 2, 6 → 3, 7 → 4, 10 → 5, 11 → 6, 12 → 7, 13 → 8, 14 → 9, 17 → 10.
    working = calendar_for({"country": "BR", "subdiv": "MG", "openings": ["2014-03-03"]})
    assert working.is_business_day(date(2014, 3, 3))
    assert due_date(working, RULE, Period(2014, 2)) == date(2014, 3, 17)
    # With explicit categories the Ash Wednesday default no longer applies: public + optional
    # closes 3, 4 and 5 March → 6 → 1, 7 → 2, 10..14 → 3..7, 17 → 8, 18 → 9, 19 → 10.
    explicit = calendar_for({"country": "BR", "subdiv": "MG", "categories": ["public", "optional"]})
    assert not explicit.is_business_day(date(2014, 3, 5))
    assert due_date(explicit, RULE, Period(2014, 2)) == date(2014, 3, 19)

"""The plan schedule: owed (item, period) pairs, write refusals and the next deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from execution.domain.calendars import Closure
from execution.domain.periods import Period
from execution.domain.registrations import PlanFacts
from execution.domain.schedule import PlanSchedule, WriteRefusal, write_refusal

TREE = {
    "organisation": {"code": "ipsm"},
    "plan": {
        "id": "ipsm-2014-acordo",
        "cycle_year": 2014,
        "calendar": {"country": "BR", "subdiv": "MG", "closures": []},
        "registration_deadline": {"business_day": 10, "month_offset": 1},
    },
    "indicators": [
        {"code": "DS-I1", "unit_code": "DS", "periodicity": "monthly"},
        {"code": "AUD-I1", "unit_code": "AUD", "periodicity": "quarterly"},
    ],
    "products": [{"code": "DS-P01", "unit_code": "DS", "stages": []}],
    "initiatives": [],
}


def schedule(*closures: Closure) -> PlanSchedule:
    return PlanSchedule(PlanFacts.from_tree(TREE), closures)


def test_owed_pairs_follow_periodicity() -> None:
    pairs = [(item.code, str(p)) for item, p in schedule().owed(Period(2014, 3))]
    # January-March: DS-I1 and DS-P01 every month, the quarterly AUD-I1 only in March → 7 pairs.
    assert pairs == [
        ("DS-I1", "2014-01"), ("DS-P01", "2014-01"),
        ("DS-I1", "2014-02"), ("DS-P01", "2014-02"),
        ("AUD-I1", "2014-03"), ("DS-I1", "2014-03"), ("DS-P01", "2014-03"),
    ]  # fmt: skip
    assert len(list(schedule().owed())) == 12 * 2 + 4  # the whole year: 24 monthly + 4 quarterly


def test_dates_of_a_period_and_a_closure() -> None:
    feb = schedule().dates(Period(2014, 2))
    assert (feb.due_date, feb.closing_date) == (date(2014, 3, 18), date(2015, 1, 30))
    assert feb.deadline == datetime(2014, 3, 19, 3, tzinfo=UTC)  # midnight in UTC-3
    # A closure on the due day pushes it to the next business day.
    moved = schedule(Closure(date(2014, 3, 18), "ponto facultativo")).dates(Period(2014, 2))
    assert moved.due_date == date(2014, 3, 19)


def test_next_deadline_only_for_ended_periods() -> None:
    s = schedule()
    # 10 March 2014: January (due 14 Feb) is over; February (ended, due 18 March) is next.
    now = datetime(2014, 3, 10, 12, tzinfo=UTC)
    assert s.next_deadline(now, date(2014, 3, 10)) == datetime(2014, 3, 19, 3, tzinfo=UTC)
    # 20 January 2015: every 2014 due day is over (December's was 15 January 2015).
    assert s.next_deadline(datetime(2015, 1, 20, tzinfo=UTC), date(2015, 1, 20)) is None


@pytest.mark.parametrize(
    ("locked", "window_closed", "excepted", "expected"),
    [
        (False, False, False, None),
        (True, False, False, WriteRefusal.LOCKED),
        (True, True, False, WriteRefusal.LOCKED),  # the lock is named before the window
        (True, True, True, None),  # an exception lifts both
        (True, False, True, None),
        (False, True, False, WriteRefusal.EXPIRED),
        (False, True, True, None),
    ],
)
def test_write_refusal_precedence(
    locked: bool, window_closed: bool, excepted: bool, expected: WriteRefusal | None
) -> None:
    # Certification is not a refusal (docs/domain.md §2.4): a certified value follows these rules like any other.
    assert {r.value for r in WriteRefusal} == {"expired", "locked"}
    got = write_refusal(locked=locked, window_closed=window_closed, excepted=excepted)
    assert got is expected

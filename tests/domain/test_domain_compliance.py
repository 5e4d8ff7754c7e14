"""Certification index of execution.domain.compliance (docs/domain.md §2.4), worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from execution.domain.compliance import ComplianceReport, Obligation, Tally, certification_index, compliance
from execution.domain.periods import Period
from execution.domain.status import DeadlineStatus


@pytest.mark.parametrize(
    ("on_time", "due", "expected"),
    [
        (7, 9, "77.78"),  # 77.777…
        (2, 3, "66.67"),
        (1, 32, "3.13"),  # 3.125 → half up (banker's rounding would give 3.12)
        (0, 5, "0.00"),
        (5, 5, "100.00"),
        (1, 8, "12.50"),
    ],
)
def test_certification_index(on_time: int, due: int, expected: str) -> None:
    assert str(certification_index(on_time, due)) == expected


def test_nothing_due_gives_no_index() -> None:
    assert certification_index(0, 0) is None
    assert Tally().index is None


@pytest.mark.parametrize(("on_time", "due"), [(-1, 5), (1, -1), (6, 5)])
def test_inconsistent_counts_are_refused(on_time: int, due: int) -> None:
    with pytest.raises(ValueError, match=rf"^inconsistent counts: on_time={on_time}, due={due}$"):
        certification_index(on_time, due)


def test_tally_counts_only_what_is_overdue() -> None:
    t = Tally()
    t.add(DeadlineStatus.ON_TIME, overdue=True)
    t.add(DeadlineStatus.ON_TIME, overdue=True)
    t.add(DeadlineStatus.LATE, overdue=True)
    t.add(DeadlineStatus.MISSING, overdue=True)
    t.add(DeadlineStatus.ON_TIME, overdue=False)  # deadline not over: pending, out of both terms
    assert (t.due, t.on_time, t.late, t.missing, t.pending) == (4, 2, 1, 1, 1)
    assert t.index == D("50.00")  # 2 / 4
    t.add(DeadlineStatus.LATE, overdue=True)
    t.add(DeadlineStatus.MISSING, overdue=True)
    t.add(DeadlineStatus.PENDING, overdue=False)
    assert (t.due, t.on_time, t.late, t.missing, t.pending) == (6, 2, 2, 2, 2)
    assert t.index == D("33.33")  # 2 / 6
    other = Tally(due=5, on_time=1, late=2, missing=2, pending=3)
    t.merge(other)
    assert (t.due, t.on_time, t.late, t.missing, t.pending) == (11, 3, 4, 4, 5)


JAN, FEB, MAR = Period(2014, 1), Period(2014, 2), Period(2014, 3)
DEC_2013 = Period(2013, 12)


def deadline(period: Period) -> datetime:
    return datetime(period.year, period.month, 28, 3, 0, tzinfo=UTC)


def ob(unit: str, item: str, period: Period, registered: timedelta | None) -> Obligation:
    """`registered` is relative to the deadline (negative = before it), None = not registered."""
    dl = deadline(period)
    return Obligation(unit, item, period, dl, None if registered is None else dl + registered)


EARLY, LATE = timedelta(days=-3), timedelta(hours=5)
JUST_BEFORE, AT = timedelta(microseconds=-1), timedelta(0)


def report() -> ComplianceReport:
    return compliance(
        [
            # A, January: 3 on time, 1 late → 3 / 4
            ob("A", "i1", JAN, EARLY),
            ob("A", "i2", JAN, JUST_BEFORE),
            ob("A", "i3", JAN, EARLY),
            ob("A", "i4", JAN, AT),  # at the (exclusive) deadline instant: late
            # A, February: 1 on time, 1 missing → 1 / 2
            ob("A", "i1", FEB, EARLY),
            ob("A", "i2", FEB, None),
            # A, March: deadline not over yet → pending
            ob("A", "i1", MAR, None),
            # A, December 2013: another year
            ob("A", "i1", DEC_2013, None),
            # B, January: 2 on time
            ob("B", "i1", JAN, EARLY),
            ob("B", "i2", JAN, LATE - LATE),  # exactly at the deadline: late
        ],
        now=deadline(MAR) - timedelta(seconds=1),
    )


def test_monthly_tallies() -> None:
    r = report()
    jan = r.month("A", JAN)
    assert (jan.due, jan.on_time, jan.late, jan.missing, jan.index) == (4, 3, 1, 0, D("75.00"))
    feb = r.month("A", FEB)
    assert (feb.due, feb.on_time, feb.missing, feb.index) == (2, 1, 1, D("50.00"))
    mar = r.month("A", MAR)
    assert (mar.due, mar.pending, mar.index) == (0, 1, None)
    assert r.month("C", JAN) == Tally()
    assert r.month("B", JAN).index == D("50.00")  # 1 on time, 1 late
    assert r.units() == ["A", "B"]
    assert r.periods() == [DEC_2013, JAN, FEB, MAR]


def test_year_to_date_pools_the_counts() -> None:
    r = report()
    # A through February: (3 + 1) / (4 + 2) = 66.67 — not the mean of 75.00 and 50.00 (62.50)
    assert r.year_to_date("A", FEB).index == D("66.67")
    assert r.year_to_date("A", JAN).index == D("75.00")
    # March is pending and December 2013 is another year: through March is still 4 / 6
    ytd = r.year_to_date("A", MAR)
    assert (ytd.due, ytd.on_time, ytd.pending) == (6, 4, 1)
    # every unit through January: (3 + 1) / (4 + 2) = 66.67
    assert r.year_to_date(None, JAN).index == D("66.67")
    assert r.year_to_date("A", DEC_2013).due == 1  # only its own year
    # B's entries come after A's: skipping A's must not stop the scan
    assert (r.year_to_date("B", JAN).due, r.year_to_date("B", FEB).on_time) == (2, 1)


def test_unit_totals() -> None:
    r = report()
    a = r.unit_total("A")
    assert (a.due, a.on_time, a.missing, a.pending) == (7, 4, 2, 1)  # December 2013 counts here
    everyone = r.unit_total(None)
    assert (everyone.due, everyone.on_time) == (9, 5)


def test_the_deadline_instant_itself_is_overdue() -> None:
    period = JAN
    at = compliance([ob("A", "x", period, None)], now=deadline(period))
    assert (at.month("A", period).due, at.month("A", period).missing) == (1, 1)
    before = compliance([ob("A", "x", period, None)], now=deadline(period) - timedelta(microseconds=1))
    assert (before.month("A", period).due, before.month("A", period).pending) == (0, 1)

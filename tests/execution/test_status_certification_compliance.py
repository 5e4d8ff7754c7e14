"""Status transitions, the certification state machine and the certification index (by hand)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from execution.domain.certification import CertificationAction as A
from execution.domain.certification import CertificationState as S
from execution.domain.certification import transition
from execution.domain.compliance import Obligation, certification_index, compliance
from execution.domain.errors import IllegalTransition
from execution.domain.periods import Period
from execution.domain.status import DeadlineStatus, deadline_instant, deadline_status

LISBON = ZoneInfo("Europe/Lisbon")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_deadline_instant_is_local_midnight_after_the_due_day() -> None:
    # 16 June 2026 in Lisbon is summer time (UTC+1): the day ends at 2026-06-16T23:00Z.
    assert deadline_instant(date(2026, 6, 16), LISBON) == utc(2026, 6, 16, 23)
    # 18 March 2014 in São Paulo (summer time ended 16 Feb 2014, UTC-3): ends 2014-03-19T03:00Z.
    assert deadline_instant(date(2014, 3, 18), SAO_PAULO) == utc(2014, 3, 19, 3)


def test_pending_then_missing_then_late() -> None:
    deadline = utc(2026, 6, 16, 23)
    # Nothing registered, before the deadline → pending; at/after it → missing.
    assert deadline_status(deadline, None, utc(2026, 6, 16, 22, 59, 59)) is DeadlineStatus.PENDING
    assert deadline_status(deadline, None, deadline) is DeadlineStatus.MISSING
    # Registered one second before the end of the due day → on time, whatever "now" is.
    on_time = deadline - timedelta(seconds=1)
    assert deadline_status(deadline, on_time, utc(2027, 1, 1)) is DeadlineStatus.ON_TIME
    # Registered exactly at local midnight → late; a missing item becomes late when registered.
    assert deadline_status(deadline, deadline, deadline) is DeadlineStatus.LATE
    assert deadline_status(deadline, utc(2026, 7, 1), utc(2026, 7, 2)) is DeadlineStatus.LATE
    with pytest.raises(ValueError):
        deadline_status(deadline, None, datetime(2026, 6, 1))  # naive timestamps are refused


def test_certification_workflow() -> None:
    t = transition(None, A.SUBMIT)
    assert (t.before, t.after) == (None, S.SUBMITTED)
    assert transition(S.SUBMITTED, A.CERTIFY).after is S.CERTIFIED
    rejected = transition(S.SUBMITTED, A.REJECT, "  valor sem evidência ")
    assert rejected.after is S.REJECTED
    assert rejected.reason == "valor sem evidência"
    assert transition(S.REJECTED, A.SUBMIT).after is S.SUBMITTED  # resubmit
    assert transition(S.CERTIFIED, A.REJECT, "reaberto").after is S.REJECTED  # certifier reopens
    changed = transition(S.CERTIFIED, A.SUBMIT)  # a new value of a certified one goes back for certification
    assert (changed.before, changed.after) == (S.CERTIFIED, S.SUBMITTED)


@pytest.mark.parametrize(
    ("state", "action", "reason"),
    [
        (S.SUBMITTED, A.REJECT, None),  # a rejection needs a reason
        (S.SUBMITTED, A.REJECT, "   "),
        (S.CERTIFIED, A.CERTIFY, None),
        (S.REJECTED, A.CERTIFY, None),  # must be resubmitted first
        (S.REJECTED, A.REJECT, "again"),
        (None, A.CERTIFY, None),
        (None, A.REJECT, "x"),
    ],
)
def test_illegal_transitions(state: S | None, action: A, reason: str | None) -> None:
    with pytest.raises(IllegalTransition):
        transition(state, action, reason)


def test_certification_index_rounds_half_up() -> None:
    assert certification_index(3, 4) == Decimal("75.00")
    assert certification_index(2, 3) == Decimal("66.67")  # 66.666… → 66.67
    # 1/32 × 100 = 3.125 exactly: half up gives 3.13 (banker's rounding would give 3.12).
    assert certification_index(1, 32) == Decimal("3.13")
    assert certification_index(0, 5) == Decimal("0.00")
    assert certification_index(0, 0) is None
    with pytest.raises(ValueError):
        certification_index(5, 4)


def _ob(unit: str, item: str, month: int, registered: datetime | None) -> Obligation:
    # Deadline of period 2014-<month>: fixed here to the 15th of the next month, 03:00Z.
    return Obligation(unit, item, Period(2014, month), utc(2014, month + 1, 15, 3), registered)


def test_monthly_and_year_to_date_index() -> None:
    # Team DS owes 4 items a month. As of 2014-04-01 (March's deadline 15 April not yet over):
    #   January: I1 I2 I3 on time, P1 missing        → due 4, on time 3 → 75.00
    #   February: I1 I2 on time, I3 late, P1 missing  → due 4, on time 2 → 50.00
    #   March: nothing yet and I1 early               → pending 4, due 0 → no index
    #   YTD through March: (3 + 2) / (4 + 4) × 100 = 62.50 (pooled, not the mean of months).
    early = utc(2014, 1, 10)
    obligations = [
        _ob("DS", "I1", 1, early),
        _ob("DS", "I2", 1, early),
        _ob("DS", "I3", 1, early),
        _ob("DS", "P1", 1, None),
        _ob("DS", "I1", 2, utc(2014, 3, 1)),
        _ob("DS", "I2", 2, utc(2014, 3, 15, 2, 59)),
        _ob("DS", "I3", 2, utc(2014, 3, 15, 3)),
        _ob("DS", "P1", 2, None),
        _ob("DS", "I1", 3, utc(2014, 3, 31)),
        _ob("DS", "I2", 3, None),
        _ob("DS", "I3", 3, None),
        _ob("DS", "P1", 3, None),
        # Another team keeps its own index: January 1 of 1 on time → 100.00.
        _ob("PROC", "X1", 1, early),
    ]
    report = compliance(obligations, now=utc(2014, 4, 1))
    jan, feb, mar = (report.month("DS", Period(2014, m)) for m in (1, 2, 3))
    assert (jan.due, jan.on_time, jan.late, jan.missing, jan.index) == (4, 3, 0, 1, Decimal("75.00"))
    assert (feb.due, feb.on_time, feb.late, feb.missing, feb.index) == (4, 2, 1, 1, Decimal("50.00"))
    assert (mar.due, mar.pending, mar.index) == (0, 4, None)
    assert report.year_to_date("DS", Period(2014, 3)).index == Decimal("62.50")
    assert report.month("PROC", Period(2014, 1)).index == Decimal("100.00")
    # Whole plan YTD: (5 + 1) / (8 + 1) × 100 = 66.666… → 66.67.
    assert report.year_to_date(None, Period(2014, 3)).index == Decimal("66.67")
    assert report.units() == ["DS", "PROC"]
    # After March's deadline the three unregistered March items turn missing: due 4, on time 1.
    later = compliance(obligations, now=utc(2014, 4, 16))
    assert later.month("DS", Period(2014, 3)).index == Decimal("25.00")

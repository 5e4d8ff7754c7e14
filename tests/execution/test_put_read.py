"""A PUT's one read (db/registration_rows.py: the plan's settings and closures, the registration, its period's
lock, the item's bounds and certified history in one UNION ALL) answers what the separate reads answer, on
PostgreSQL and SQLite: with everything present, with nothing, and with the history cut at its window."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from execution_support import IPSM, Service

from execution.db.models import OrganisationClosure, PeriodLock, PlanRegistrationSettings, Registration
from execution.db.registration_rows import plan_context_and_write_state, write_state
from execution.db.repositories import plan_context
from execution.db.value_checks import ItemValueBounds

AT = datetime(2014, 3, 1, 12, tzinfo=UTC)


def _registration(item: str, period: str, value: str, certification: str, **extra: Any) -> Registration:
    return Registration(
        plan_id=IPSM,
        item_code=item,
        period=period,
        item_kind="indicator",
        unit_code="DS",
        version=1,
        payload={"value": value},
        certification=certification,
        first_registered_at=AT,
        first_registered_by="ana",
        updated_at=AT,
        updated_by="ana",
        warnings=[],
        **extra,
    )


async def _both(svc: Service, org: str | None, item: str, period: str, window: int) -> tuple[Any, Any]:
    async with svc.app.state.db.sessionmaker() as session:
        together = await plan_context_and_write_state(session, IPSM, org, item, period, history_window=window)
        apart = (
            await plan_context(session, IPSM, org),
            await write_state(session, IPSM, item, period, history_window=window),
        )
    return together, apart


async def test_the_one_read_equals_the_separate_reads(svc: Service) -> None:
    empty, apart = await _both(svc, "ipsm", "DS-I1", "2014-06", 12)
    assert empty == apart
    context, state = empty
    assert (context.settings, context.closures) == (None, [])
    assert (state.registration, state.locked, state.bounds, state.history) == (None, False, None, [])

    async with svc.app.state.db.sessionmaker() as session, session.begin():
        session.add(
            PlanRegistrationSettings(
                plan_id=IPSM,
                closing_month=3,
                holiday_categories=["national"],
                openings=["2014-03-08"],
                timezone="America/Sao_Paulo",
                certifier_independence="registration",
                updated_at=AT,
                updated_by="paulo",
            )
        )
        for day, name in ((date(2014, 4, 18), "Sexta-feira Santa"), (date(2014, 3, 18), "Ponto facultativo")):
            session.add(
                OrganisationClosure(organisation_code="ipsm", day=day, name=name, created_at=AT, created_by="p")
            )
        session.add(
            OrganisationClosure(
                organisation_code="other", day=date(2014, 3, 19), name="x", created_at=AT, created_by="p"
            )
        )
        session.add(PeriodLock(plan_id=IPSM, period="2014-06", reason="evaluated", locked_at=AT, locked_by="p"))
        session.add(PeriodLock(plan_id=IPSM, period="2014-05", reason="evaluated", locked_at=AT, locked_by="p"))
        session.add(
            ItemValueBounds(
                plan_id=IPSM, item_code="DS-I1", min_value="1", max_value=None, updated_at=AT, updated_by="p"
            )
        )
        for month, certification in ((1, "certified"), (2, "certified"), (3, "submitted"), (4, "certified")):
            session.add(_registration("DS-I1", f"2014-0{month}", str(month), certification))
        session.add(_registration("DS-I2", "2014-05", "9", "certified"))
        session.add(_registration("DS-I1", "2014-07", "7", "certified"))
        session.add(
            _registration(
                "DS-I1", "2014-06", "6", "submitted", justification="why", certified_version=2, rejection_reason=None
            )
        )

    full, apart = await _both(svc, "ipsm", "DS-I1", "2014-06", 12)
    assert full == apart
    context, state = full
    assert context.settings is not None
    assert (context.settings.closing_month, context.settings.certifier_independence) == (3, "registration")
    assert context.settings.openings == ["2014-03-08"]
    assert context.closures == [(date(2014, 3, 18), "Ponto facultativo"), (date(2014, 4, 18), "Sexta-feira Santa")]
    reg = state.registration
    assert reg is not None
    assert (reg.item_code, reg.period, reg.payload, reg.justification, reg.certified_version) == (
        "DS-I1",
        "2014-06",
        {"value": "6"},
        "why",
        2,
    )
    assert reg.first_registered_at == AT  # aware UTC on both backends
    assert (state.locked, state.bounds) == (True, ("1", None))
    assert state.history == [{"value": "4"}, {"value": "2"}, {"value": "1"}]  # certified, earlier, newest first

    cut, apart = await _both(svc, "ipsm", "DS-I1", "2014-06", 2)
    assert cut == apart
    assert cut[1].history == [{"value": "4"}, {"value": "2"}]

    # Another period, item and no organisation: nothing of the above leaks in.
    other, apart = await _both(svc, None, "DS-I3", "2014-08", 12)
    assert other == apart
    assert (other[0].closures, other[1].registration, other[1].locked, other[1].bounds, other[1].history) == (
        [],
        None,
        False,
        None,
        [],
    )

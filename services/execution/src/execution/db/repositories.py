"""Queries of the execution service. Repositories only add and flush; the request commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import Select, Table, bindparam, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from execution.db.models import (
    LockException,
    OrganisationClosure,
    PeriodLock,
    PlanRegistrationSettings,
    Registration,
    RegistrationVersion,
)
from metas_kit.pagination import PageParams, PageResult, paginate


async def get_registration(session: AsyncSession, plan_id: str, item_code: str, period: str) -> Registration | None:
    stmt = select(Registration).where(
        Registration.plan_id == plan_id,
        Registration.item_code == item_code,
        Registration.period == period,
    )
    return (await session.scalars(stmt)).one_or_none()


@dataclass(frozen=True, slots=True)
class RegistrationFilter:
    unit_code: str | None = None
    item_code: str | None = None
    period: str | None = None
    period_from: str | None = None
    period_to: str | None = None
    certification: str | None = None


def _filtered(plan_id: str, f: RegistrationFilter) -> Select[Registration]:
    stmt = select(Registration).where(Registration.plan_id == plan_id)
    if f.unit_code:
        stmt = stmt.where(Registration.unit_code == f.unit_code)
    if f.item_code:
        stmt = stmt.where(Registration.item_code == f.item_code)
    if f.period:
        stmt = stmt.where(Registration.period == f.period)
    if f.period_from:
        stmt = stmt.where(Registration.period >= f.period_from)
    if f.period_to:
        stmt = stmt.where(Registration.period <= f.period_to)
    if f.certification:
        stmt = stmt.where(Registration.certification == f.certification)
    return stmt


async def page_registrations(
    session: AsyncSession, plan_id: str, f: RegistrationFilter, page: PageParams, *, units: frozenset[str] | None
) -> PageResult[Registration]:
    """A keyset page ordered by (period, item_code) — unique within a plan; ``units`` (when not None) restricts
    the rows to the units the caller may see."""
    stmt = _filtered(plan_id, f)
    if units is not None:
        stmt = stmt.where(Registration.unit_code.in_(sorted(units)))
    page_result: PageResult[Registration] = await paginate(
        session, stmt, [Registration.period, Registration.item_code], page
    )
    return page_result


async def all_registrations(session: AsyncSession, plan_id: str, period_to: str | None = None) -> list[Registration]:
    return list((await session.scalars(_filtered(plan_id, RegistrationFilter(period_to=period_to)))).all())


async def first_registrations(
    session: AsyncSession, plan_id: str, period_to: str | None = None
) -> dict[tuple[str, str], datetime]:
    """(item_code, period) → when it was first registered: all the compliance arithmetic needs."""
    stmt = select(Registration.item_code, Registration.period, Registration.first_registered_at).where(
        Registration.plan_id == plan_id
    )
    if period_to:
        stmt = stmt.where(Registration.period <= period_to)
    return {(item, period): at for item, period, at in (await session.execute(stmt)).all()}


async def plans_with_registrations(session: AsyncSession) -> list[str]:
    rows = await session.scalars(select(Registration.plan_id).distinct())
    return sorted(rows.all())


async def versions_of(session: AsyncSession, registration_id: int) -> list[RegistrationVersion]:
    stmt = (
        select(RegistrationVersion)
        .where(RegistrationVersion.registration_id == registration_id)
        .order_by(RegistrationVersion.number)
    )
    return list((await session.scalars(stmt)).all())


async def submitters_of(session: AsyncSession, registration_id: int) -> list[str]:
    """Who submitted each version of a registration, oldest first (certify/reject versions excluded)."""
    stmt = (
        select(RegistrationVersion.created_by)
        .where(RegistrationVersion.registration_id == registration_id, RegistrationVersion.action == "submit")
        .order_by(RegistrationVersion.number)
    )
    return list((await session.scalars(stmt)).all())


@dataclass(frozen=True, slots=True)
class PlanContext:
    """What execution keeps of a plan beside planning's document: its settings row (None: defaults) and the
    closures of its organisation, oldest first."""

    settings: PlanSettingsRow | None
    closures: list[tuple[date, str]]


@dataclass(frozen=True, slots=True)
class PlanSettingsRow:
    catch_up_through: str | None
    closing_month: int | None
    holiday_categories: list[str] | None
    openings: list[str] | None
    timezone: str | None
    certifier_independence: str | None


_SETTINGS = cast(Table, PlanRegistrationSettings.__table__)
_CLOSURES = cast(Table, OrganisationClosure.__table__)
# One row always (the anchor), the settings joined when they exist, one row per closure of the organisation:
# the settings and the closures in one round trip instead of two.
_ANCHOR = select(literal(1).label("one")).subquery("anchor")
_PLAN_CONTEXT = (
    select(
        _SETTINGS.c.plan_id,
        _SETTINGS.c.catch_up_through,
        _SETTINGS.c.closing_month,
        _SETTINGS.c.holiday_categories,
        _SETTINGS.c.openings,
        _SETTINGS.c.timezone,
        _SETTINGS.c.certifier_independence,
        _CLOSURES.c.day,
        _CLOSURES.c.name,
    )
    .select_from(
        _ANCHOR.outerjoin(_SETTINGS, _SETTINGS.c.plan_id == bindparam("plan_id")).outerjoin(
            _CLOSURES, _CLOSURES.c.organisation_code == bindparam("organisation_code")
        )
    )
    .order_by(_CLOSURES.c.day)
)


async def plan_context(session: AsyncSession, plan_id: str, organisation_code: str | None) -> PlanContext:
    """The plan's settings and its organisation's closures (none without an organisation), in one query."""
    rows = (await session.execute(_PLAN_CONTEXT, {"plan_id": plan_id, "organisation_code": organisation_code})).all()
    first = rows[0]
    settings = None
    if first.plan_id is not None:
        settings = PlanSettingsRow(
            first.catch_up_through,
            first.closing_month,
            first.holiday_categories,
            first.openings,
            first.timezone,
            first.certifier_independence,
        )
    return PlanContext(settings, [(r.day, r.name) for r in rows if r.day is not None])


async def get_plan_settings(session: AsyncSession, plan_id: str) -> PlanRegistrationSettings | None:
    return await session.get(PlanRegistrationSettings, plan_id)


def add(session: AsyncSession, row: object) -> None:
    session.add(row)


async def flush(session: AsyncSession) -> None:
    await session.flush()


async def delete(session: AsyncSession, row: object) -> None:
    await session.delete(row)


# Locks and lock exceptions


async def get_lock(session: AsyncSession, plan_id: str, period: str) -> PeriodLock | None:
    stmt = select(PeriodLock).where(PeriodLock.plan_id == plan_id, PeriodLock.period == period)
    return (await session.scalars(stmt)).one_or_none()


async def locked_periods(session: AsyncSession, plan_id: str) -> list[PeriodLock]:
    stmt = select(PeriodLock).where(PeriodLock.plan_id == plan_id).order_by(PeriodLock.period)
    return list((await session.scalars(stmt)).all())


async def exceptions_of(
    session: AsyncSession, plan_id: str, period: str, *, include_revoked: bool = False
) -> list[LockException]:
    stmt = select(LockException).where(LockException.plan_id == plan_id, LockException.period == period)
    if not include_revoked:
        stmt = stmt.where(LockException.revoked_at.is_(None))
    return list((await session.scalars(stmt.order_by(LockException.id))).all())


def exception_covers(exc: LockException, item_code: str, unit_code: str, at: datetime) -> bool:
    if exc.revoked_at is not None or at >= exc.until:
        return False
    if exc.item_code is not None and exc.item_code != item_code:
        return False
    return exc.unit_code is None or exc.unit_code == unit_code


async def get_exception(session: AsyncSession, exception_id: int) -> LockException | None:
    return await session.get(LockException, exception_id)


# Organisation closures


async def closures_of(session: AsyncSession, organisation_code: str) -> list[OrganisationClosure]:
    stmt = (
        select(OrganisationClosure)
        .where(OrganisationClosure.organisation_code == organisation_code)
        .order_by(OrganisationClosure.day)
    )
    return list((await session.scalars(stmt)).all())


async def get_closure(session: AsyncSession, organisation_code: str, day: date) -> OrganisationClosure | None:
    stmt = select(OrganisationClosure).where(
        OrganisationClosure.organisation_code == organisation_code, OrganisationClosure.day == day
    )
    return (await session.scalars(stmt)).one_or_none()

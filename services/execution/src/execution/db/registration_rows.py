"""One registration's single writes as Core statements: the state a write needs read in one query, then the
version-guarded UPDATE (or the INSERT), the version row — no ORM unit of work on the hot PUT.

The registration's row is a plain ``RegistrationRow`` (no ORM object is loaded, so none can go stale after the
Core UPDATE). The UPDATE is the one the bulk import runs for each row (``bulk._UPDATE``): ``WHERE id = ? AND
version = <version read>``, so of two writers holding the same ETag only one matches a row; the other's 0 rows
is the caller's 412 (as ``version_id_col`` did for the ORM).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Row,
    Select,
    Table,
    and_,
    bindparam,
    cast,
    insert,
    literal,
    literal_column,
    null,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from execution.db.bulk import _UPDATE, REGISTRATION, VERSION
from execution.db.models import OrganisationClosure, PeriodLock, PlanRegistrationSettings
from execution.db.repositories import PlanContext, PlanSettingsRow
from execution.db.value_checks import ItemValueBounds

_LOCK: Table = PeriodLock.__table__  # type: ignore[assignment]
_BOUNDS: Table = ItemValueBounds.__table__  # type: ignore[assignment]
_SETTINGS: Table = PlanRegistrationSettings.__table__  # type: ignore[assignment]
_CLOSURES: Table = OrganisationClosure.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class RegistrationRow:
    """The current state of one registration (the columns of ``registration``)."""

    id: int
    plan_id: str
    item_code: str
    period: str
    item_kind: str
    unit_code: str
    version: int
    payload: dict[str, Any]
    certification: str
    rejection_reason: str | None
    certified_by: str | None
    certified_at: datetime | None
    first_registered_at: datetime
    first_registered_by: str
    updated_at: datetime
    updated_by: str
    justification: str | None
    warnings: list[dict[str, Any]] | None
    certified_version: int | None
    changed_since_certified: bool


_FIELDS = tuple(f.name for f in fields(RegistrationRow))
_COLUMNS = [REGISTRATION.c[name] for name in _FIELDS]


def _row(values: Row[Any, *tuple[Any, ...]]) -> RegistrationRow | None:
    if values.id is None:
        return None
    return RegistrationRow(*(values[i] for i in range(len(_FIELDS))))


@dataclass(frozen=True, slots=True)
class WriteState:
    """What a single write of (plan, item, period) reads before writing: the registration (None: not yet
    registered), whether the period is locked, and — for an indicator — the item's bounds (None: none set) and
    the payloads of its certified registrations before the period, newest first."""

    registration: RegistrationRow | None
    locked: bool
    bounds: tuple[str | None, str | None] | None
    history: list[dict[str, Any]]


_KEY = and_(
    REGISTRATION.c.plan_id == bindparam("plan_id"),
    REGISTRATION.c.item_code == bindparam("item_code"),
    REGISTRATION.c.period == bindparam("period"),
)
# One row always (the anchor); the registration and the lock joined when they exist.
_ANCHOR = select(literal(1).label("one")).subquery("anchor")
_BASE = _ANCHOR.outerjoin(REGISTRATION, _KEY).outerjoin(
    _LOCK, and_(_LOCK.c.plan_id == bindparam("plan_id"), _LOCK.c.period == bindparam("period"))
)
_STATE = select(*_COLUMNS, _LOCK.c.id.label("lock_id")).select_from(_BASE)

# For an indicator, also the bounds and the certified history (one row per past value, newest first).
_EARLIER = REGISTRATION.alias("earlier")
_HISTORY = (
    select(_EARLIER.c.period.label("h_period"), _EARLIER.c.payload.label("h_payload"))
    .where(
        _EARLIER.c.plan_id == bindparam("plan_id"),
        _EARLIER.c.item_code == bindparam("item_code"),
        _EARLIER.c.period < bindparam("period"),
        _EARLIER.c.certification == "certified",
    )
    .order_by(_EARLIER.c.period.desc())
    .limit(bindparam("window"))
    .subquery("history")
)
_STATE_WITH_CHECKS = (
    select(
        *_COLUMNS,
        _LOCK.c.id.label("lock_id"),
        _BOUNDS.c.plan_id.label("bounds_plan_id"),
        _BOUNDS.c.min_value,
        _BOUNDS.c.max_value,
        _HISTORY.c.h_payload,
    )
    .select_from(
        _BASE.outerjoin(
            _BOUNDS, and_(_BOUNDS.c.plan_id == bindparam("plan_id"), _BOUNDS.c.item_code == bindparam("item_code"))
        ).outerjoin(_HISTORY, true())
    )
    .order_by(_HISTORY.c.h_period.desc())
)


async def write_state(
    session: AsyncSession, plan_id: str, item_code: str, period: str, *, history_window: int | None
) -> WriteState:
    """The state of one write in one query; ``history_window`` (an indicator's) also reads the bounds and that
    many certified values before the period (None: neither)."""
    params = {"plan_id": plan_id, "item_code": item_code, "period": period}
    if history_window is None:
        first = (await session.execute(_STATE, params)).one()
        return WriteState(_row(first), first.lock_id is not None, None, [])
    rows = (await session.execute(_STATE_WITH_CHECKS, {**params, "window": history_window})).all()
    first = rows[0]
    bounds = (first.min_value, first.max_value) if first.bounds_plan_id is not None else None
    history = [dict(r.h_payload) for r in rows if r.h_payload is not None]
    return WriteState(_row(first), first.lock_id is not None, bounds, history)


_BY_KEY = select(*_COLUMNS).where(_KEY)


async def registration_row(session: AsyncSession, plan_id: str, item_code: str, period: str) -> RegistrationRow | None:
    found = (await session.execute(_BY_KEY, {"plan_id": plan_id, "item_code": item_code, "period": period})).first()
    return RegistrationRow(*found) if found is not None else None


async def update_registration(
    session: AsyncSession,
    current: RegistrationRow,
    *,
    payload: dict[str, Any],
    justification: str | None,
    warnings: list[dict[str, Any]],
    certification: str,
    at: datetime,
    by: str,
) -> bool:
    """A new current value of ``current`` as version ``current.version + 1``; False when the row's version
    moved since it was read (another writer got there first), and then nothing was written."""
    result = await session.execute(
        _UPDATE,
        {
            "b_id": current.id,
            "b_version": current.version,
            "b_new_version": current.version + 1,
            "b_payload": payload,
            "b_justification": justification,
            "b_warnings": warnings,
            "b_certification": certification,
            "b_at": at,
            "b_by": by,
        },
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


_INSERT = insert(REGISTRATION).returning(REGISTRATION.c.id)


async def insert_registration(session: AsyncSession, values: dict[str, Any]) -> int:
    """A new registration (``values``: every column but ``id``); its id. A concurrent create of the same
    (plan, item, period) raises IntegrityError (the unique key)."""
    return int((await session.execute(_INSERT, values)).scalar_one())


_INSERT_VERSION = insert(VERSION)


async def insert_version(session: AsyncSession, values: dict[str, Any]) -> None:
    """Append one immutable version row (``values``: every column but ``id``)."""
    await session.execute(_INSERT_VERSION, values)


# ---- a PUT's one read: the plan's context and the write's state together ----------------------------------------
# A PUT loads its plan (the settings and the organisation's closures) and then the write's state; both are known
# from the path and planning's tree, so they are one statement: a UNION ALL of the single row (settings,
# registration, lock, bounds: LEFT JOINs on an anchor row), the closures (one row each) and the certified history
# (one row each). Every branch has every column, NULL where it does not apply, cast to the column's type so both
# backends type the union alike.
_SETTINGS_COLUMNS = ("catch_up_through", "closing_month", "holiday_categories", "openings", "timezone")
_ONE = [
    _SETTINGS.c.plan_id.label("settings_plan_id"),
    *(_SETTINGS.c[name] for name in _SETTINGS_COLUMNS),
    _SETTINGS.c.certifier_independence,
    *_COLUMNS,
    _LOCK.c.id.label("lock_id"),
    _BOUNDS.c.plan_id.label("bounds_plan_id"),
    _BOUNDS.c.min_value,
    _BOUNDS.c.max_value,
]
_MANY = [
    _CLOSURES.c.day.label("closure_day"),
    _CLOSURES.c.name.label("closure_name"),
    _HISTORY.c.h_period,
    _HISTORY.c.h_payload,
]


def _branch(kind: int, present: dict[str, Any]) -> Select[Any]:
    """One member of the union: ``present`` columns by label, every other one a typed NULL."""
    columns: list[Any] = [literal_column(str(kind), Integer).label("kind")]
    for column in (*_ONE, *_MANY):
        value = present.get(column.name)
        columns.append(value if value is not None else cast(null(), column.type).label(column.name))
    return select(*columns)


_FIRST = _branch(0, {c.name: c for c in _ONE}).select_from(
    _BASE.outerjoin(_SETTINGS, _SETTINGS.c.plan_id == bindparam("plan_id")).outerjoin(
        _BOUNDS, and_(_BOUNDS.c.plan_id == bindparam("plan_id"), _BOUNDS.c.item_code == bindparam("item_code"))
    )
)
_CLOSURE_ROWS = _branch(1, {"closure_day": _CLOSURES.c.day, "closure_name": _CLOSURES.c.name}).where(
    _CLOSURES.c.organisation_code == bindparam("organisation_code")
)
_HISTORY_ROWS = _branch(2, {"h_period": _HISTORY.c.h_period, "h_payload": _HISTORY.c.h_payload}).select_from(_HISTORY)
_UNION = union_all(_FIRST, _CLOSURE_ROWS, _HISTORY_ROWS).subquery("put_read")
_CONTEXT_AND_STATE = select(_UNION).order_by(_UNION.c.kind, _UNION.c.closure_day, _UNION.c.h_period.desc())


async def plan_context_and_write_state(
    session: AsyncSession,
    plan_id: str,
    organisation_code: str | None,
    item_code: str,
    period: str,
    *,
    history_window: int,
) -> tuple[PlanContext, WriteState]:
    """``repositories.plan_context`` and ``write_state`` (with the bounds and ``history_window`` certified
    values, whatever the item's kind: it is not known before the plan is) in one round trip."""
    params = {
        "plan_id": plan_id,
        "organisation_code": organisation_code,
        "item_code": item_code,
        "period": period,
        "window": history_window,
    }
    rows = (await session.execute(_CONTEXT_AND_STATE, params)).all()
    first = rows[0]
    one = first._mapping
    settings = None
    if first.settings_plan_id is not None:
        settings = PlanSettingsRow(
            catch_up_through=first.catch_up_through,
            closing_month=first.closing_month,
            holiday_categories=first.holiday_categories,
            openings=first.openings,
            timezone=first.timezone,
            certifier_independence=first.certifier_independence,
        )
    closures = [(r.closure_day, r.closure_name) for r in rows if r.kind == 1]
    history = [dict(r.h_payload) for r in rows if r.kind == 2]
    bounds = (first.min_value, first.max_value) if first.bounds_plan_id is not None else None
    registration = None
    if first.id is not None:
        registration = RegistrationRow(*(one[name] for name in _FIELDS))
    return PlanContext(settings, closures), WriteState(registration, first.lock_id is not None, bounds, history)

"""Set-based writes of the bulk import: a few statements per import, not a few per row.

No ORM objects: one SELECT of the current rows, one INSERT ... RETURNING of the new registrations,
one UPDATE of the existing ones (each under its version check) and one INSERT of every version row.
On PostgreSQL each write is ONE statement whatever the row count, its values sent as arrays and
expanded by ``unnest`` (close to COPY, and unlike COPY still an ordinary statement: constraint
violations surface as SQLAlchemy's IntegrityError, hence a 409); elsewhere (SQLite) SQLAlchemy Core
executemany / multi-row VALUES on the mapped tables. Repositories only execute; the request commits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from execution.db.models import Registration, RegistrationVersion

REGISTRATION = cast(Table, Registration.__table__)
VERSION = cast(Table, RegistrationVersion.__table__)


class StaleRows(Exception):
    """Some rows changed between the read and the write (their version moved)."""


@dataclass(frozen=True, slots=True)
class CurrentRow:
    """What a new version of an existing registration needs to know about it."""

    id: int
    version: int
    certification: str


async def current_rows(
    session: AsyncSession, plan_id: str, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], CurrentRow]:
    """The current registrations among (item_code, period) ``keys``, in one query.

    Not locked: the UPDATE re-checks each version read here and counts the rows it matched, so a write
    that slipped in between fails the import (optimistic, as a single write's If-Match).
    """
    if not keys:
        return {}
    t = REGISTRATION.c
    wanted = set(keys)
    stmt = select(t.id, t.item_code, t.period, t.version, t.certification).where(
        t.plan_id == plan_id,
        t.period.in_(sorted({p for _, p in wanted})),
        t.item_code.in_(sorted({i for i, _ in wanted})),
    )
    found: dict[tuple[str, str], CurrentRow] = {}
    for row_id, item_code, period, version, certification in (await session.execute(stmt)).all():
        if (item_code, period) in wanted:
            found[(item_code, period)] = CurrentRow(row_id, version, certification)
    return found


def _postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _columns(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> dict[str, list[Any]]:
    """Row dicts → one list per column (the arrays ``unnest`` takes); JSON values serialised as the JSON type does."""
    out: dict[str, list[Any]] = {name: [row[name] for row in rows] for name in names}
    for name in ("payload", "b_payload", "warnings", "b_warnings"):
        if name in out:
            out[name] = [json.dumps(v) for v in out[name]]
    return out


# Column → PostgreSQL array type of its values in the unnest statements.
_PG_TYPES = {
    "plan_id": "text",
    "item_code": "text",
    "period": "text",
    "item_kind": "text",
    "unit_code": "text",
    "version": "int",
    "payload": "json",
    "certification": "text",
    "rejection_reason": "text",
    "certified_by": "text",
    "certified_at": "timestamptz",
    "first_registered_at": "timestamptz",
    "first_registered_by": "text",
    "updated_at": "timestamptz",
    "updated_by": "text",
    "registration_id": "bigint",
    "number": "int",
    "action": "text",
    "reason": "text",
    "created_at": "timestamptz",
    "created_by": "text",
    "request_id": "text",
    "justification": "text",
    "warnings": "json",
    "certified_version": "int",
    "changed_since_certified": "boolean",
}


def _unnest_insert(table: str, names: Sequence[str], returning: str = "") -> str:
    arrays = ", ".join(f"CAST(:{n} AS {'text' if _PG_TYPES[n] == 'json' else _PG_TYPES[n]}[])" for n in names)
    values = ", ".join(f"CAST(u.{n} AS json)" if _PG_TYPES[n] == "json" else f"u.{n}" for n in names)
    cols = ", ".join(names)
    return f"INSERT INTO {table} ({cols}) SELECT {values} FROM unnest({arrays}) AS u({cols}) {returning}"


_REGISTRATION_COLUMNS = tuple(c.name for c in REGISTRATION.columns if c.name != "id")
_VERSION_COLUMNS = tuple(c.name for c in VERSION.columns if c.name != "id")


async def current_values(
    session: AsyncSession, plan_id: str, period_to: str
) -> dict[tuple[str, str], tuple[int, dict[str, Any], str, datetime, datetime]]:
    """(item_code, period) → (version, payload, certification, first_registered_at, updated_at) up to a
    period: the scoring snapshot's one query, plain rows (no ORM objects)."""
    t = REGISTRATION.c
    stmt = select(
        t.item_code, t.period, t.version, t.payload, t.certification, t.first_registered_at, t.updated_at
    ).where(t.plan_id == plan_id, t.period <= period_to)
    return {(row[0], row[1]): tuple(row[2:]) for row in (await session.execute(stmt)).all()}


async def insert_registrations(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Insert new current rows (version 1); (item_code, period) → new id."""
    if not rows:
        return {}
    if _postgresql(session):
        sql = _unnest_insert("registration", _REGISTRATION_COLUMNS, "RETURNING id, item_code, period")
        result = await session.execute(text(sql), _columns(rows, _REGISTRATION_COLUMNS))
    else:
        t = REGISTRATION.c
        result = await session.execute(insert(REGISTRATION).returning(t.id, t.item_code, t.period), list(rows))
    return {(item_code, period): row_id for row_id, item_code, period in result.all()}


_UPDATE = (
    update(REGISTRATION)
    .where(REGISTRATION.c.id == bindparam("b_id"), REGISTRATION.c.version == bindparam("b_version"))
    .values(
        version=bindparam("b_new_version"),
        payload=bindparam("b_payload"),
        justification=bindparam("b_justification"),
        warnings=bindparam("b_warnings"),
        # A value submitted after a certification (over the certified value, or after a reject) is flagged for the
        # certifier; certified_version keeps the last certify version.
        changed_since_certified=REGISTRATION.c.certified_version.is_not(None),
        certification=bindparam("b_certification"),
        rejection_reason=None,
        certified_at=None,
        certified_by=None,
        updated_at=bindparam("b_at"),
        updated_by=bindparam("b_by"),
    )
)


_UPDATE_KEYS = (
    "b_id",
    "b_version",
    "b_new_version",
    "b_payload",
    "b_justification",
    "b_warnings",
    "b_certification",
    "b_at",
    "b_by",
)
_PG_UPDATE = """
UPDATE registration AS r
SET version = u.new_version, payload = CAST(u.payload AS json), justification = u.justification,
    warnings = CAST(u.warnings AS json), changed_since_certified = (r.certified_version IS NOT NULL),
    certification = u.certification, rejection_reason = NULL, certified_at = NULL, certified_by = NULL,
    updated_at = u.moment, updated_by = u.actor
FROM unnest(CAST(:b_id AS bigint[]), CAST(:b_version AS int[]), CAST(:b_new_version AS int[]),
            CAST(:b_payload AS text[]), CAST(:b_justification AS text[]), CAST(:b_warnings AS text[]),
            CAST(:b_certification AS text[]), CAST(:b_at AS timestamptz[]), CAST(:b_by AS text[]))
     AS u(id, version, new_version, payload, justification, warnings, certification, moment, actor)
WHERE r.id = u.id AND r.version = u.version
RETURNING r.id
"""


async def update_registrations(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """New current values of existing rows, each ``WHERE version = <version read>``.

    Keys of each row: b_id, b_version, b_new_version, b_payload, b_justification, b_warnings, b_certification,
    b_at, b_by.
    """
    if not rows:
        return
    if _postgresql(session):
        matched = len((await session.execute(text(_PG_UPDATE), _columns(rows, _UPDATE_KEYS))).all())
    else:
        result = await session.execute(_UPDATE, list(rows))
        if not session.get_bind().dialect.supports_sane_multi_rowcount:
            return  # not the case of SQLite; the version rows' unique (registration, number) still guards
        matched = result.rowcount  # type: ignore[attr-defined]
    if matched != len(rows):
        raise StaleRows(f"{len(rows) - matched} registration(s) changed meanwhile")


async def insert_versions(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Append the immutable version rows (who, when, why, request id)."""
    if not rows:
        return
    if _postgresql(session):
        await session.execute(
            text(_unnest_insert("registration_version", _VERSION_COLUMNS)), _columns(rows, _VERSION_COLUMNS)
        )
    else:
        await session.execute(insert(VERSION), list(rows))

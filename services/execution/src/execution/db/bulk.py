"""Set-based writes of the bulk import: a few statements per import, not a few per row.

SQLAlchemy Core on the mapped tables (same column types: JSON, UTC timestamps), no ORM objects:
one SELECT of the current rows, one multi-row INSERT ... RETURNING of the new registrations, one
executemany UPDATE of the existing ones (each under its version check) and one multi-row INSERT of
every version row. Repositories only execute; the request commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
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
    """The current registrations among (item_code, period) ``keys``, in one query, locked for update.

    The lock (PostgreSQL; SQLite's writer already holds the database) keeps a concurrent single write
    from slipping between this read and the import's UPDATE.
    """
    if not keys:
        return {}
    t = REGISTRATION.c
    wanted = set(keys)
    stmt = (
        select(t.id, t.item_code, t.period, t.version, t.certification)
        .where(
            t.plan_id == plan_id,
            t.period.in_(sorted({p for _, p in wanted})),
            t.item_code.in_(sorted({i for i, _ in wanted})),
        )
        .with_for_update()
    )
    found: dict[tuple[str, str], CurrentRow] = {}
    for row_id, item_code, period, version, certification in (await session.execute(stmt)).all():
        if (item_code, period) in wanted:
            found[(item_code, period)] = CurrentRow(row_id, version, certification)
    return found


async def insert_registrations(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Insert new current rows (version 1); (item_code, period) → new id."""
    if not rows:
        return {}
    t = REGISTRATION.c
    result = await session.execute(insert(REGISTRATION).returning(t.id, t.item_code, t.period), list(rows))
    return {(item_code, period): row_id for row_id, item_code, period in result.all()}


_UPDATE = (
    update(REGISTRATION)
    .where(REGISTRATION.c.id == bindparam("b_id"), REGISTRATION.c.version == bindparam("b_version"))
    .values(
        version=bindparam("b_new_version"),
        payload=bindparam("b_payload"),
        certification=bindparam("b_certification"),
        rejection_reason=None,
        certified_at=None,
        certified_by=None,
        updated_at=bindparam("b_at"),
        updated_by=bindparam("b_by"),
    )
)


async def update_registrations(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """New current values of existing rows, each ``WHERE version = <version read>``.

    Keys of each row: b_id, b_version, b_new_version, b_payload, b_certification, b_at, b_by.
    """
    if not rows:
        return
    result = await session.execute(_UPDATE, list(rows))
    dialect = session.get_bind().dialect
    if dialect.supports_sane_multi_rowcount and result.rowcount != len(rows):  # type: ignore[attr-defined]
        raise StaleRows(f"{len(rows) - result.rowcount} registration(s) changed meanwhile")  # type: ignore[attr-defined]


async def insert_versions(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Append the immutable version rows (who, when, why, request id)."""
    if rows:
        await session.execute(insert(VERSION), list(rows))

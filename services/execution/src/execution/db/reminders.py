"""Reminder digests sent (or being sent) and the people who muted a plan's digests.

Each digest row is CLAIMED before its mail is sent: the first replica to insert the row for a key owns it (the
unique key makes every other insert fail), so two replicas never send the same digest. A claim whose sender
died, or a failed send, is taken over after ``retry_after`` by a compare-and-set UPDATE (only one replica's
UPDATE matches the old state). Plain INSERT and UPDATE ... WHERE: the same on PostgreSQL and SQLite.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from execution.db.base import Base
from execution.db.types import BigId, UTCDateTime
from metas_kit.pagination import PageParams, PageResult, paginate

CLAIMED, SENT, FAILED = "claimed", "sent", "failed"


class ReminderDigest(Base):
    __tablename__ = "reminder_digest"
    __table_args__ = (UniqueConstraint("digest_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    digest_key: Mapped[str] = mapped_column(String(400))  # kind:plan:due date:username
    kind: Mapped[str] = mapped_column(String(20))
    plan_id: Mapped[str] = mapped_column(String(100), index=True)
    due_date: Mapped[date] = mapped_column(Date)
    username: Mapped[str] = mapped_column(String(200), index=True)
    email: Mapped[str] = mapped_column(String(320))
    locale: Mapped[str] = mapped_column(String(10))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer)
    claimed_by: Mapped[str] = mapped_column(String(200))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class ReminderMute(Base):
    """A person who asked not to receive a plan's digests."""

    __tablename__ = "reminder_mute"

    username: Mapped[str] = mapped_column(String(200), primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


def digest_key(kind: str, plan_id: str, due: date, username: str) -> str:
    return f"{kind}:{plan_id}:{due.isoformat()}:{username}"


async def claim(
    maker: async_sessionmaker[AsyncSession],
    row: ReminderDigest,
    *,
    now: datetime,
    retry_after: timedelta,
    max_attempts: int,
) -> ReminderDigest | None:
    """The claimed row when this replica may send the digest now; None when another has it, it was sent, or it
    failed too often. Each step commits on its own so the claim is visible to the other replicas at once."""
    try:
        async with maker() as session, session.begin():
            session.add(row)
        return row
    except IntegrityError:
        pass
    async with maker() as session, session.begin():
        found = (
            await session.scalars(select(ReminderDigest).where(ReminderDigest.digest_key == row.digest_key))
        ).one_or_none()
        if found is None or found.status == SENT or found.attempts >= max_attempts:
            return None
        if found.claimed_at > now - retry_after:
            return None  # claimed or failed recently: its sender may still be at it, or will retry later
        taken = await session.execute(
            update(ReminderDigest)
            .where(
                ReminderDigest.id == found.id,
                ReminderDigest.status == found.status,
                ReminderDigest.claimed_at == found.claimed_at,
                ReminderDigest.claimed_by == found.claimed_by,
            )
            .values(
                status=CLAIMED,
                claimed_by=row.claimed_by,
                claimed_at=now,
                items=row.items,
                email=row.email,
                locale=row.locale,
            )
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
    async with maker() as session:
        return await session.get(ReminderDigest, found.id)


async def finish(maker: async_sessionmaker[AsyncSession], digest_id: int, *, at: datetime, error: str | None) -> None:
    async with maker() as session, session.begin():
        row = await session.get(ReminderDigest, digest_id)
        if row is None:
            return
        row.attempts += 1
        if error is None:
            row.status, row.sent_at, row.error = SENT, at, None
        else:
            row.status, row.error = FAILED, error[:2000]


async def muted_usernames(session: AsyncSession, plan_id: str) -> set[str]:
    rows = await session.scalars(select(ReminderMute.username).where(ReminderMute.plan_id == plan_id))
    return set(rows.all())


async def mutes_of(session: AsyncSession, username: str) -> list[ReminderMute]:
    stmt = select(ReminderMute).where(ReminderMute.username == username).order_by(ReminderMute.plan_id)
    return list((await session.scalars(stmt)).all())


async def get_mute(session: AsyncSession, username: str, plan_id: str) -> ReminderMute | None:
    return await session.get(ReminderMute, (username, plan_id))


async def digests_of(session: AsyncSession, plan_id: str, *, page: PageParams) -> PageResult[ReminderDigest]:
    stmt = select(ReminderDigest).where(ReminderDigest.plan_id == plan_id)
    return await paginate(session, stmt, [ReminderDigest.id], page)

"""The unlock_request table and its queries (module functions taking the session first)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from execution.db.base import Base
from execution.db.types import BigId, UTCDateTime
from metas_kit.pagination import PageParams, PageResult, paginate

PENDING_MARK = "pending"


class UnlockRequest(Base):
    """A request to reopen (plan, period) for one item or one unit.

    ``open_mark`` is "pending" while undecided and NULL afterwards: with the unique constraint over it, two
    pending requests for the same scope cannot both exist, even when sent at the same instant (NULLs never
    collide, so decided requests do not block a new one). ``version`` makes two concurrent decisions collide.
    """

    __tablename__ = "unlock_request"
    __table_args__ = (
        UniqueConstraint("plan_id", "period", "scope_key", "open_mark"),
        Index("ix_unlock_request_plan_status", "plan_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(7))
    item_code: Mapped[str | None] = mapped_column(String(100))
    unit_code: Mapped[str] = mapped_column(String(100))
    scope_key: Mapped[str] = mapped_column(String(110))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    open_mark: Mapped[str | None] = mapped_column(String(10))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    lock_exception_id: Mapped[int | None] = mapped_column(ForeignKey("lock_exception.id"))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declared name


async def get_unlock_request(session: AsyncSession, plan_id: str, request_id: int) -> UnlockRequest | None:
    row = await session.get(UnlockRequest, request_id)
    return row if row is not None and row.plan_id == plan_id else None


async def pending_for(session: AsyncSession, plan_id: str, period: str, scope_key: str) -> UnlockRequest | None:
    stmt = select(UnlockRequest).where(
        UnlockRequest.plan_id == plan_id,
        UnlockRequest.period == period,
        UnlockRequest.scope_key == scope_key,
        UnlockRequest.open_mark == PENDING_MARK,
    )
    return (await session.scalars(stmt)).one_or_none()


async def page_unlock_requests(
    session: AsyncSession,
    plan_id: str,
    *,
    status: str | None,
    period: str | None,
    units: frozenset[str] | None,
    page: PageParams,
) -> PageResult[UnlockRequest]:
    """Oldest first (the planner's queue order); ``units`` None = every unit."""
    stmt = select(UnlockRequest).where(UnlockRequest.plan_id == plan_id)
    if status:
        stmt = stmt.where(UnlockRequest.status == status)
    if period:
        stmt = stmt.where(UnlockRequest.period == period)
    if units is not None:
        stmt = stmt.where(UnlockRequest.unit_code.in_(sorted(units)))
    return await paginate(session, stmt, [UnlockRequest.id], page)

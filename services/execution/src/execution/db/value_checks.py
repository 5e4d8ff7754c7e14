"""Value checks' storage: the bounds a planner sets per item, and an item's past certified values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from execution.db.base import Base
from execution.db.models import Registration
from execution.db.types import UTCDateTime


class ItemValueBounds(Base):
    """The expected range of an item's values: a value outside it is registered with a warning, not refused."""

    __tablename__ = "item_value_bounds"

    plan_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(100), primary_key=True)
    min_value: Mapped[str | None] = mapped_column(String(40))  # decimal text as sent (metas_kit.numbers)
    max_value: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))


async def get_bounds(session: AsyncSession, plan_id: str, item_code: str) -> ItemValueBounds | None:
    return await session.get(ItemValueBounds, (plan_id, item_code))


async def bounds_of(session: AsyncSession, plan_id: str) -> list[ItemValueBounds]:
    stmt = select(ItemValueBounds).where(ItemValueBounds.plan_id == plan_id).order_by(ItemValueBounds.item_code)
    return list((await session.scalars(stmt)).all())


async def certified_payloads_before(
    session: AsyncSession, plan_id: str, item_code: str, period: str, limit: int
) -> list[dict[str, Any]]:
    """The payloads of the item's certified registrations of periods before ``period``, newest first."""
    stmt = (
        select(Registration.payload)
        .where(
            Registration.plan_id == plan_id,
            Registration.item_code == item_code,
            Registration.period < period,
            Registration.certification == "certified",
        )
        .order_by(Registration.period.desc())
        .limit(limit)
    )
    return [dict(p) for p in (await session.scalars(stmt)).all()]


async def certified_payloads_of(
    session: AsyncSession, plan_id: str, item_codes: list[str]
) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """item_code → (period, payload) of its certified registrations, newest first: one query for an import."""
    if not item_codes:
        return {}
    stmt = (
        select(Registration.item_code, Registration.period, Registration.payload)
        .where(
            Registration.plan_id == plan_id,
            Registration.item_code.in_(sorted(set(item_codes))),
            Registration.certification == "certified",
        )
        .order_by(Registration.item_code, Registration.period.desc())
    )
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for item_code, period, payload in (await session.execute(stmt)).all():
        out.setdefault(item_code, []).append((period, dict(payload)))
    return out

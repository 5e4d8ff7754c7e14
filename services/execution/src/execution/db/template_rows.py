"""Reads of the registration template: the current registrations of one unit for one period."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from execution.db.models import Registration


async def unit_period_registrations(
    session: AsyncSession, plan_id: str, unit_code: str, period: str
) -> dict[str, Registration]:
    """The current registration of each item of ``unit_code`` for ``period``, by item code."""
    stmt = select(Registration).where(
        Registration.plan_id == plan_id, Registration.unit_code == unit_code, Registration.period == period
    )
    return {r.item_code: r for r in (await session.scalars(stmt)).all()}

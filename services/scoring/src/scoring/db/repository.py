"""Evaluation runs: add (never update), get, list by creation order."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.db.models import EvaluationRun


async def next_seq(session: AsyncSession) -> int:
    current = await session.scalar(select(func.max(EvaluationRun.seq)))
    return int(current or 0) + 1


async def add(session: AsyncSession, run: EvaluationRun) -> None:
    session.add(run)
    await session.flush()


async def get(session: AsyncSession, run_id: str) -> EvaluationRun | None:
    return await session.get(EvaluationRun, run_id)


async def page(
    session: AsyncSession, *, limit: int, before_seq: int | None, plan_id: str | None
) -> list[EvaluationRun]:
    stmt = select(EvaluationRun).order_by(EvaluationRun.seq.desc()).limit(limit + 1)
    if plan_id:
        stmt = stmt.where(EvaluationRun.plan_id == plan_id)
    if before_seq is not None:
        stmt = stmt.where(EvaluationRun.seq < before_seq)
    return list((await session.scalars(stmt)).all())


async def latest_per_plan(session: AsyncSession) -> list[EvaluationRun]:
    newest = select(EvaluationRun.plan_id, func.max(EvaluationRun.seq).label("seq")).group_by(EvaluationRun.plan_id)
    sub = newest.subquery()
    stmt = select(EvaluationRun).join(sub, EvaluationRun.seq == sub.c.seq)
    return list((await session.scalars(stmt)).all())

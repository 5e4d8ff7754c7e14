"""Evaluation runs: add (never update), get, list by creation order; the published final per plan version."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import desc, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from metas_kit.pagination import PageParams, PageResult, paginate
from scoring.db.models import EvaluationRun, FinalEvaluation


async def next_seq(session: AsyncSession) -> int:
    current = await session.scalar(select(func.max(EvaluationRun.seq)))
    return int(current or 0) + 1


async def add(session: AsyncSession, run: EvaluationRun) -> None:
    session.add(run)
    await session.flush()


async def get(session: AsyncSession, run_id: str) -> EvaluationRun | None:
    return await session.get(EvaluationRun, run_id)


async def page(
    session: AsyncSession,
    params: PageParams,
    *,
    plan_id: str | None,
    kind: str | None = None,
    organisations: Collection[str] | None = None,
) -> PageResult[EvaluationRun]:
    """Newest first. ``organisations`` None: every run; otherwise only the runs of those organisations."""
    stmt = select(EvaluationRun)
    if plan_id:
        stmt = stmt.where(EvaluationRun.plan_id == plan_id)
    if kind:
        stmt = stmt.where(EvaluationRun.kind == kind)
    if organisations is not None:
        stmt = stmt.where(EvaluationRun.organisation_code.in_(sorted(organisations)))
    return await paginate(session, stmt, [desc(EvaluationRun.seq)], params)


async def latest_per_plan(session: AsyncSession) -> list[EvaluationRun]:
    newest = select(EvaluationRun.plan_id, func.max(EvaluationRun.seq).label("seq")).group_by(EvaluationRun.plan_id)
    sub = newest.subquery()
    stmt = select(EvaluationRun).join(sub, EvaluationRun.seq == sub.c.seq)
    return list((await session.scalars(stmt)).all())


async def get_final(session: AsyncSession, plan_id: str, plan_version: int) -> FinalEvaluation | None:
    return await session.get(FinalEvaluation, (plan_id, plan_version))


async def publish_final(
    session: AsyncSession, *, plan_id: str, plan_version: int, evaluation_id: str, revision: int, at: datetime
) -> None:
    """Point the plan version at its (new) final evaluation; a concurrent first final fails on the primary key."""
    row = await get_final(session, plan_id, plan_version)
    if row is None:
        session.add(
            FinalEvaluation(
                plan_id=plan_id,
                plan_version=plan_version,
                evaluation_id=evaluation_id,
                revision=revision,
                updated_at=at,
            )
        )
    else:
        row.evaluation_id, row.revision, row.updated_at = evaluation_id, revision, at
    await session.flush()

"""Period locks (after evaluation), their exceptions, and organisation closures — each checked against the
organisation of the plan (or the organisation named in the path) and audited as ``entity.verb``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from execution.application.plans import LoadedPlan, clock, visible_plan, writable_plan
from execution.db import repositories as repo
from execution.db.models import LockException, OrganisationClosure, PeriodLock
from execution.domain.periods import Period
from metas_kit.auth import READ_ROLES, Principal
from metas_kit.errors import Forbidden, NotFound, ValidationFailed
from metas_kit.writes import WriteContext

LOCK_MANAGERS = frozenset({"planner", "certifier", "service"})
CALENDAR_KEEPERS = frozenset({"planner"})


# ---- locks ------------------------------------------------------------------------------------------------------
async def list_locks(app: FastAPI, session: AsyncSession, who: Principal, plan_id: str) -> list[PeriodLock]:
    await visible_plan(app, session, who, plan_id)
    return await repo.locked_periods(session, plan_id)


async def lock_period(ctx: WriteContext, app: FastAPI, plan_id: str, period: str, reason: str) -> PeriodLock:
    """Lock a period (idempotent: an existing lock is returned unchanged, nothing is audited)."""
    plan = await writable_plan(app, ctx.session, ctx.principal, plan_id, LOCK_MANAGERS)
    lock = await repo.get_lock(ctx.session, plan_id, period)
    if lock is not None:
        ctx.unchanged()
        return lock
    lock = PeriodLock(plan_id=plan_id, period=period, reason=reason, locked_at=clock(app), locked_by=ctx.principal.sub)
    repo.add(ctx.session, lock)
    await repo.flush(ctx.session)
    await ctx.audit(
        "lock", f"{plan_id}/{period}", "create", after={"reason": reason}, organisation=plan.organisation_code
    )
    return lock


async def unlock_period(ctx: WriteContext, app: FastAPI, plan_id: str, period: str) -> None:
    plan = await writable_plan(app, ctx.session, ctx.principal, plan_id, {"admin"})
    lock = await repo.get_lock(ctx.session, plan_id, period)
    if lock is None:
        raise NotFound(f"{period} of plan {plan_id!r} is not locked.")
    await repo.delete(ctx.session, lock)
    await ctx.audit(
        "lock", f"{plan_id}/{period}", "delete", before={"reason": lock.reason}, organisation=plan.organisation_code
    )


# ---- lock exceptions --------------------------------------------------------------------------------------------
def exception_limit(plan: LoadedPlan, now: datetime, max_days: int) -> datetime:
    """The latest ``until`` a lock exception may have: the end of the month in which the cycle's last write
    window closes (the cycle plus its closing month), or ``max_days`` from now when that is later (a period reopened
    after the cycle, e.g. on appeal)."""
    closes_at = plan.schedule.dates(plan.facts.last_period).closes_at
    after = Period.of(closes_at.astimezone(UTC).date()).next()
    return max(datetime(after.year, after.month, 1, tzinfo=UTC), now + timedelta(days=max_days))


async def list_exceptions(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, period: str
) -> list[LockException]:
    await visible_plan(app, session, who, plan_id)
    return await repo.exceptions_of(session, plan_id, period, include_revoked=True)


@dataclass(frozen=True, slots=True)
class ExceptionInput:
    item_code: str | None
    unit_code: str | None
    until: datetime
    reason: str


async def add_exception(
    ctx: WriteContext, app: FastAPI, plan_id: str, period: str, body: ExceptionInput, *, max_days: int
) -> LockException:
    plan = await writable_plan(app, ctx.session, ctx.principal, plan_id, LOCK_MANAGERS)
    now = clock(app)
    errors = []
    if body.item_code is not None and body.item_code not in plan.facts.items:
        errors.append({"path": "item_code", "message": f"{body.item_code!r} is not in the plan"})
    if body.unit_code is not None and body.unit_code not in plan.units:
        errors.append({"path": "unit_code", "message": f"{body.unit_code!r} owes no registration"})
    limit = exception_limit(plan, now, max_days)
    if body.until <= now:
        errors.append({"path": "until", "message": "until must be in the future"})
    elif body.until > limit:
        errors.append({"path": "until", "message": f"until must be no later than {limit.isoformat()}"})
    if errors:
        raise ValidationFailed(errors)
    row = LockException(
        plan_id=plan_id,
        period=period,
        item_code=body.item_code,
        unit_code=body.unit_code,
        until=body.until,
        reason=body.reason,
        created_at=now,
        created_by=ctx.principal.sub,
    )
    repo.add(ctx.session, row)
    await repo.flush(ctx.session)
    await ctx.audit(
        "lock_exception",
        row.id,
        "grant",
        after={
            "plan_id": plan_id,
            "period": period,
            "item_code": body.item_code,
            "unit_code": body.unit_code,
            "until": body.until.isoformat(),
            "reason": body.reason,
        },
        organisation=plan.organisation_code,
    )
    return row


async def revoke_exception(ctx: WriteContext, app: FastAPI, plan_id: str, period: str, exception_id: int) -> None:
    plan = await writable_plan(app, ctx.session, ctx.principal, plan_id, LOCK_MANAGERS)
    row = await repo.get_exception(ctx.session, exception_id)
    if row is None or row.plan_id != plan_id or row.period != period:
        raise NotFound(f"No lock exception {exception_id} for {plan_id}/{period}.")
    if row.revoked_at is not None:
        ctx.unchanged()
        return
    row.revoked_at = clock(app)
    await ctx.audit("lock_exception", row.id, "revoke", changes={"revoked": True}, organisation=plan.organisation_code)


# ---- closures ---------------------------------------------------------------------------------------------------
def _readable_org(who: Principal, org_code: str) -> None:
    if not who.can(READ_ROLES, org_code):
        raise NotFound(f"Organisation {org_code!r} not found.")


def _keeper(who: Principal, org_code: str) -> None:
    _readable_org(who, org_code)
    if not who.can(CALENDAR_KEEPERS, org_code):
        raise Forbidden(f"You may not change the calendar of {org_code!r}.")


async def list_closures(session: AsyncSession, who: Principal, org_code: str) -> list[OrganisationClosure]:
    _readable_org(who, org_code)
    return await repo.closures_of(session, org_code)


async def put_closure(ctx: WriteContext, app: FastAPI, org_code: str, day: date, name: str) -> OrganisationClosure:
    _keeper(ctx.principal, org_code)
    row = await repo.get_closure(ctx.session, org_code, day)
    if row is not None and row.name == name:
        ctx.unchanged()  # nothing changes: no write, no audit event
        return row
    before = {"name": row.name} if row else None
    if row is None:
        row = OrganisationClosure(
            organisation_code=org_code, day=day, name=name, created_at=clock(app), created_by=ctx.principal.sub
        )
        repo.add(ctx.session, row)
    else:
        row.name = name
    await repo.flush(ctx.session)
    await ctx.audit(
        "closure",
        f"{org_code}/{day.isoformat()}",
        "update" if before else "create",
        before=before,
        after={"name": name},
        organisation=org_code,
    )
    return row


async def delete_closure(ctx: WriteContext, org_code: str, day: date) -> None:
    _keeper(ctx.principal, org_code)
    row = await repo.get_closure(ctx.session, org_code, day)
    if row is None:
        raise NotFound(f"{org_code} has no closure on {day.isoformat()}.")
    await repo.delete(ctx.session, row)
    await ctx.audit(
        "closure", f"{org_code}/{day.isoformat()}", "delete", before={"name": row.name}, organisation=org_code
    )

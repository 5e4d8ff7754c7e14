"""Unlock requests: ask (registrar), list, grant with a lock exception or refuse (planner); all audited.

A request is only accepted for a period that is actually closed to the requester (locked after evaluation,
or its write window over) and not already reopened for that scope; granting creates an ordinary
``lock_exception`` row (the same one ``POST .../locks/{period}/exceptions`` creates, audited as
``lock_exception.create``), so the write path needs nothing new to honour it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from execution.application.access import organisation_of, visible_plan
from execution.application.locks import ExceptionInput, add_exception
from execution.application.plans import LoadedPlan, clock
from execution.db.repositories import exception_covers, exceptions_of, get_lock
from execution.db.unlock_requests import (
    PENDING_MARK,
    UnlockRequest,
    get_unlock_request,
    page_unlock_requests,
    pending_for,
)
from execution.domain.errors import InvalidPeriod
from execution.domain.periods import Period
from execution.domain.unlock_requests import AlreadyDecided, UnlockDecision, UnlockScope, UnlockStatus, decide
from metas_kit.auth import ALL, READ_ROLES, Principal
from metas_kit.errors import AppError, Conflict, Forbidden, NotFound, ValidationFailed
from metas_kit.pagination import PageParams, PageResult
from metas_kit.writes import WriteContext

# Who sees every request of a plan (the registrar sees those of the units it registers for).
QUEUE_READERS = frozenset(READ_ROLES - {"registrar"})


class PeriodOpen(AppError):
    status, type_slug, title = 409, "period-open", "Nothing to reopen"


class UnlockRequestDecided(Conflict):
    type_slug, title = "unlock-request-decided", "Unlock request already decided"


class DuplicateUnlockRequest(Conflict):
    type_slug, title = "duplicate-unlock-request", "A request for this scope is already pending"


def _scope(plan: LoadedPlan, item_code: str | None, unit_code: str | None) -> UnlockScope:
    items = plan.facts.items
    if item_code is not None:
        item = items.get(item_code)
        if item is None:
            raise ValidationFailed([{"path": "item_code", "message": f"{item_code!r} is not in the plan"}])
        if unit_code is not None and unit_code != item.unit_code:
            raise ValidationFailed(
                [{"path": "unit_code", "message": f"{item_code} belongs to unit {item.unit_code!r}, not {unit_code!r}"}]
            )
        return UnlockScope(unit_code=item.unit_code, item_code=item.code)
    if unit_code is None:
        raise ValidationFailed([{"path": "item_code", "message": "name the item or the unit to reopen"}])
    if all(i.unit_code != unit_code for i in items.values()):
        raise ValidationFailed([{"path": "unit_code", "message": f"{unit_code!r} owes no registration"}])
    return UnlockScope(unit_code=unit_code)


def _owed(plan: LoadedPlan, scope: UnlockScope, period_text: str) -> Period:
    try:
        period = Period.parse(period_text)
    except InvalidPeriod as exc:
        raise ValidationFailed([{"path": "period", "message": str(exc)}]) from exc
    owed = plan.schedule.owed_items(period) if plan.facts.first_period <= period <= plan.facts.last_period else ()
    if not any(i.code == scope.item_code or (scope.item_code is None and i.unit_code == scope.unit_code) for i in owed):
        what = scope.item_code or f"unit {scope.unit_code}"
        raise ValidationFailed([{"path": "period", "message": f"{what} owes no registration for {period}"}])
    return period


async def _closure(session: AsyncSession, plan: LoadedPlan, scope: UnlockScope, period: Period, now: datetime) -> str:
    """Why the period is closed for this scope ("locked" or "expired"); PeriodOpen when it is not."""
    locked = await get_lock(session, plan.facts.plan_id, str(period)) is not None
    expired = now >= plan.schedule.dates(period).closes_at
    if not (locked or expired):
        raise PeriodOpen(f"{period} is still open for writes: there is nothing to reopen.")
    for exc in await exceptions_of(session, plan.facts.plan_id, str(period)):
        if scope.item_code is not None:
            covered = exception_covers(exc, scope.item_code, scope.unit_code, now)
        else:  # a unit is reopened only by an exception for the whole unit (or the whole period)
            covered = exc.item_code is None and exception_covers(exc, "", scope.unit_code, now)
        if covered:
            raise PeriodOpen(
                f"{period} is already reopened for this scope until {exc.until.isoformat()}.",
                extra={"lock_exception_id": exc.id},
            )
    return "locked" if locked else "expired"


def _snapshot(row: UnlockRequest) -> dict[str, Any]:
    return {
        "period": row.period,
        "item_code": row.item_code,
        "unit_code": row.unit_code,
        "reason": row.reason,
        "status": row.status,
        "decision_reason": row.decision_reason,
        "lock_exception_id": row.lock_exception_id,
    }


async def _audit(ctx: WriteContext, plan: LoadedPlan, verb: str, row: UnlockRequest, before: Any) -> None:
    await ctx.audit(
        "unlock_request", row.id, verb, before=before, after=_snapshot(row), organisation=plan.organisation_code
    )


async def create_unlock_request(
    ctx: WriteContext,
    plan_id: str,
    *,
    period: str,
    item_code: str | None,
    unit_code: str | None,
    reason: str,
) -> UnlockRequest:
    app, session, who = ctx.request.app, ctx.session, ctx.principal
    plan = await visible_plan(app, session, who, plan_id)
    scope = _scope(plan, item_code, unit_code)
    if not who.can({"registrar"}, organisation_of(plan), scope.unit_code):
        raise Forbidden(f"You may not register for unit {scope.unit_code!r}.")
    owed = _owed(plan, scope, period)
    now = clock(app)
    await _closure(session, plan, scope, owed, now)
    existing = await pending_for(session, plan_id, str(owed), scope.key)
    if existing is not None:
        raise DuplicateUnlockRequest(
            f"Request {existing.id} for this scope and period is still pending.", extra={"id": existing.id}
        )
    row = UnlockRequest(
        plan_id=plan_id,
        period=str(owed),
        item_code=scope.item_code,
        unit_code=scope.unit_code,
        scope_key=scope.key,
        reason=reason,
        status=UnlockStatus.PENDING.value,
        open_mark=PENDING_MARK,
        requested_at=now,
        requested_by=who.sub,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent twin won the unique (plan, period, scope, pending) slot
        raise DuplicateUnlockRequest("A request for this scope and period was made concurrently.") from exc
    await _audit(ctx, plan, "create", row, None)
    return row


async def list_unlock_requests(
    app: FastAPI,
    session: AsyncSession,
    who: Principal,
    plan_id: str,
    *,
    status: UnlockStatus | None,
    period: str | None,
    page: PageParams,
) -> PageResult[UnlockRequest]:
    plan = await visible_plan(app, session, who, plan_id)
    org = organisation_of(plan)
    units: frozenset[str] | None = None
    if not who.can(QUEUE_READERS, org):
        scope = who.units_for({"registrar"}, org)
        units = None if scope is ALL else frozenset(scope)
    return await page_unlock_requests(
        session, plan_id, status=status.value if status else None, period=period, units=units, page=page
    )


async def get_visible_unlock_request(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, request_id: int
) -> UnlockRequest:
    plan = await visible_plan(app, session, who, plan_id)
    row = await get_unlock_request(session, plan_id, request_id)
    org = organisation_of(plan)
    if row is None or not (who.can(QUEUE_READERS, org) or who.can({"registrar"}, org, row.unit_code)):
        raise NotFound(f"No unlock request {request_id} in plan {plan_id!r}.")
    return row


async def _decide(
    ctx: WriteContext, plan_id: str, request_id: int, decision: UnlockDecision
) -> tuple[LoadedPlan, UnlockRequest, dict[str, Any], datetime]:
    app, session, who = ctx.request.app, ctx.session, ctx.principal
    plan = await visible_plan(app, session, who, plan_id)
    row = await get_unlock_request(session, plan_id, request_id)
    if row is None:
        raise NotFound(f"No unlock request {request_id} in plan {plan_id!r}.")
    if not who.can({"planner"}, organisation_of(plan)):
        raise Forbidden("Only a planner of the plan's organisation decides unlock requests.")
    before = _snapshot(row)
    try:
        row.status = decide(UnlockStatus(row.status), decision).value
    except AlreadyDecided as exc:
        raise UnlockRequestDecided(f"Unlock request {row.id}: {exc}.", extra={"status": row.status}) from exc
    now = clock(app)
    row.open_mark = None
    row.decided_by = who.sub
    row.decided_at = now
    return plan, row, before, now


async def _flush_decision(session: AsyncSession, row_id: int) -> None:
    try:
        await session.flush()
    except StaleDataError as exc:  # another planner decided it between our read and our write
        raise UnlockRequestDecided(f"Unlock request {row_id} was decided concurrently; read it again.") from exc


async def grant_unlock_request(
    ctx: WriteContext,
    plan_id: str,
    request_id: int,
    *,
    until: datetime,
    note: str | None,
    max_days: int,
) -> UnlockRequest:
    """Decides the request, then reopens its scope through the lock-exception flow itself (its bounds on
    ``until`` — future, at most the cycle's closing month or ``max_days`` from now — and its audit
    ``lock_exception.grant``): a failure there undoes the decision too (one transaction)."""
    plan, row, before, _now = await _decide(ctx, plan_id, request_id, UnlockDecision.GRANT)
    row.decision_reason = note
    await _flush_decision(ctx.session, row.id)  # the decision first: of two concurrent deciders one stops here
    exception = await add_exception(
        ctx,
        ctx.request.app,
        plan_id,
        row.period,
        ExceptionInput(
            item_code=row.item_code,
            unit_code=row.unit_code,
            until=until,
            reason=f"Unlock request {row.id}: {row.reason}",
        ),
        max_days=max_days,
    )
    row.lock_exception_id = exception.id
    await ctx.session.flush()
    await _audit(ctx, plan, "grant", row, before)
    return row


async def refuse_unlock_request(
    ctx: WriteContext,
    plan_id: str,
    request_id: int,
    *,
    reason: str,
) -> UnlockRequest:
    plan, row, before, _now = await _decide(ctx, plan_id, request_id, UnlockDecision.REFUSE)
    row.decision_reason = reason
    await _flush_decision(ctx.session, row.id)
    await _audit(ctx, plan, "refuse", row, before)
    return row

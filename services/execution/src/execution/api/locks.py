"""Period locks (after evaluation), their exceptions, and organisation closures."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from execution.api.registrations import PeriodPath, PlanId
from execution.api.schemas import (
    CODE_PATTERN,
    ClosureBody,
    ClosureOut,
    LockBody,
    LockExceptionBody,
    LockExceptionOut,
    LockOut,
)
from execution.db.base import AuditEvent, IdempotencyRecord
from execution.db.models import LockException, OrganisationClosure, PeriodLock
from execution.db.repositories import (
    closures_of,
    exceptions_of,
    get_closure,
    get_exception,
    get_lock,
    locked_periods,
)
from execution.plans import clock, load_plan
from metas_kit.audit import record_audit
from metas_kit.auth import Admin, Principal, Reader, require_roles
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES, NotFound, ValidationFailed
from metas_kit.idempotency import remember, replay

LockManager = Annotated[Principal, Depends(require_roles("planner", "certifier", "service"))]
CalendarKeeper = Annotated[Principal, Depends(require_roles("planner"))]
OrgCode = Annotated[str, Path(max_length=100, pattern=CODE_PATTERN)]
ExceptionId = Annotated[int, Path(ge=1, le=2**63 - 1)]  # a BIGINT key

router = APIRouter(tags=["locks"])


@router.get(
    "/v1/plans/{plan_id}/locks",
    summary="Locked periods of a plan",
    response_model=list[LockOut],
    responses=PROBLEM_RESPONSES,
)
async def list_locks(plan_id: PlanId, session: SessionDep, _who: Reader) -> list[LockOut]:
    return [LockOut.model_validate(lock) for lock in await locked_periods(session, plan_id)]


@router.put(
    "/v1/plans/{plan_id}/locks/{period}",
    summary="Lock a period after evaluation (idempotent)",
    response_model=LockOut,
    responses=PROBLEM_RESPONSES,
)
async def lock_period(
    plan_id: PlanId,
    period: PeriodPath,
    body: LockBody,
    request: Request,
    session: SessionDep,
    principal: LockManager,
) -> LockOut:
    await load_plan(request, session, plan_id)  # 404 for a plan planning does not know
    lock = await get_lock(session, plan_id, period)
    if lock is None:
        lock = PeriodLock(
            plan_id=plan_id,
            period=period,
            reason=body.reason,
            locked_at=clock(request.app),
            locked_by=principal.sub,
        )
        session.add(lock)
        await session.flush()
        await record_audit(
            session,
            AuditEvent,
            principal,
            action="period.lock",
            entity_type="period_lock",
            entity_id=f"{plan_id}/{period}",
            after={"reason": body.reason},
        )
    return LockOut.model_validate(lock)


@router.delete(
    "/v1/plans/{plan_id}/locks/{period}",
    summary="Unlock a period",
    status_code=204,
    responses=PROBLEM_RESPONSES,
)
async def unlock_period(plan_id: PlanId, period: PeriodPath, session: SessionDep, principal: Admin) -> Response:
    lock = await get_lock(session, plan_id, period)
    if lock is None:
        raise NotFound(f"{period} of plan {plan_id!r} is not locked.")
    await session.delete(lock)
    await record_audit(
        session,
        AuditEvent,
        principal,
        action="period.unlock",
        entity_type="period_lock",
        entity_id=f"{plan_id}/{period}",
        before={"reason": lock.reason},
    )
    return Response(status_code=204)


@router.get(
    "/v1/plans/{plan_id}/locks/{period}/exceptions",
    summary="Lock exceptions of a period",
    response_model=list[LockExceptionOut],
    responses=PROBLEM_RESPONSES,
)
async def list_exceptions(
    plan_id: PlanId, period: PeriodPath, session: SessionDep, _who: Reader
) -> list[LockExceptionOut]:
    rows = await exceptions_of(session, plan_id, period, include_revoked=True)
    return [LockExceptionOut.model_validate(r) for r in rows]


@router.post(
    "/v1/plans/{plan_id}/locks/{period}/exceptions",
    summary="Allow writes to an item, a unit or the whole period despite a lock or an expired window",
    response_model=LockExceptionOut,
    status_code=201,
    responses=PROBLEM_RESPONSES,
)
async def add_exception(
    plan_id: PlanId,
    period: PeriodPath,
    body: LockExceptionBody,
    request: Request,
    session: SessionDep,
    principal: LockManager,
) -> Response:
    raw = body.model_dump(mode="json")
    replayed = await replay(session, IdempotencyRecord, request, principal, raw)
    if replayed is not None:
        return replayed
    loaded = await load_plan(request, session, plan_id)
    now = clock(request.app)
    errors = []
    if body.item_code is not None and body.item_code not in loaded.facts.items:
        errors.append({"path": "item_code", "message": f"{body.item_code!r} is not in the plan"})
    units = {i.unit_code for i in loaded.facts.items.values()}
    if body.unit_code is not None and body.unit_code not in units:
        errors.append({"path": "unit_code", "message": f"{body.unit_code!r} owes no registration"})
    if body.until <= now:
        errors.append({"path": "until", "message": "until must be in the future"})
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
        created_by=principal.sub,
    )
    session.add(row)
    await session.flush()
    await record_audit(
        session,
        AuditEvent,
        principal,
        action="lock_exception.create",
        entity_type="lock_exception",
        entity_id=str(row.id),
        after=raw,
    )
    out = LockExceptionOut.model_validate(row).model_dump(mode="json")
    remember(session, IdempotencyRecord, request, principal, raw, status_code=201, body=out)
    return JSONResponse(out, status_code=201)


@router.delete(
    "/v1/plans/{plan_id}/locks/{period}/exceptions/{exception_id}",
    summary="Revoke a lock exception",
    status_code=204,
    responses=PROBLEM_RESPONSES,
)
async def revoke_exception(
    plan_id: PlanId,
    period: PeriodPath,
    exception_id: ExceptionId,
    request: Request,
    session: SessionDep,
    principal: LockManager,
) -> Response:
    row = await get_exception(session, exception_id)
    if row is None or row.plan_id != plan_id or row.period != period:
        raise NotFound(f"No lock exception {exception_id} for {plan_id}/{period}.")
    if row.revoked_at is None:
        row.revoked_at = clock(request.app)
        await record_audit(
            session,
            AuditEvent,
            principal,
            action="lock_exception.revoke",
            entity_type="lock_exception",
            entity_id=str(row.id),
            changes={"revoked": True},
        )
    return Response(status_code=204)


@router.get(
    "/v1/organisations/{org_code}/closures",
    summary="The organisation's own closures (municipal holidays, pontos facultativos)",
    response_model=list[ClosureOut],
    tags=["calendars"],
    responses=PROBLEM_RESPONSES,
)
async def list_closures(org_code: OrgCode, session: SessionDep, _who: Reader) -> list[ClosureOut]:
    return [ClosureOut.model_validate(c) for c in await closures_of(session, org_code)]


@router.put(
    "/v1/organisations/{org_code}/closures/{day}",
    summary="Declare (or rename) a closure day",
    response_model=ClosureOut,
    tags=["calendars"],
    responses=PROBLEM_RESPONSES,
)
async def put_closure(
    org_code: OrgCode,
    day: date,
    body: ClosureBody,
    request: Request,
    session: SessionDep,
    principal: CalendarKeeper,
) -> ClosureOut:
    row = await get_closure(session, org_code, day)
    if row is not None and row.name == body.name:
        return ClosureOut.model_validate(row)  # nothing changes: no write, no audit event (as for locks)
    before = {"name": row.name} if row else None
    if row is None:
        row = OrganisationClosure(
            organisation_code=org_code,
            day=day,
            name=body.name,
            created_at=clock(request.app),
            created_by=principal.sub,
        )
        session.add(row)
    else:
        row.name = body.name
    await session.flush()
    await record_audit(
        session,
        AuditEvent,
        principal,
        action="closure.put",
        entity_type="closure",
        entity_id=f"{org_code}/{day.isoformat()}",
        before=before,
        after={"name": body.name},
    )
    return ClosureOut.model_validate(row)


@router.delete(
    "/v1/organisations/{org_code}/closures/{day}",
    summary="Remove a closure day",
    status_code=204,
    tags=["calendars"],
    responses=PROBLEM_RESPONSES,
)
async def delete_closure(org_code: OrgCode, day: date, session: SessionDep, principal: CalendarKeeper) -> Response:
    row = await get_closure(session, org_code, day)
    if row is None:
        raise NotFound(f"{org_code} has no closure on {day.isoformat()}.")
    await session.delete(row)
    await record_audit(
        session,
        AuditEvent,
        principal,
        action="closure.delete",
        entity_type="closure",
        entity_id=f"{org_code}/{day.isoformat()}",
        before={"name": row.name},
    )
    return Response(status_code=204)

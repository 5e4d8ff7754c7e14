"""Period locks (after evaluation), their exceptions, and organisation closures."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

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
from execution.application import locks as locks_app
from metas_kit.auth import Admin, Planner, PlannerCertifierOrService, Reader
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES
from metas_kit.writes import Write

OrgCode = Annotated[str, Path(max_length=100, pattern=CODE_PATTERN)]
ExceptionId = Annotated[int, Path(ge=1, le=2**63 - 1)]  # a BIGINT key

router = APIRouter(tags=["locks"])


def _no_content(result: Any) -> Response:
    """204 without a body, also when the envelope replays an earlier answer (a JSON response of null)."""
    replayed = isinstance(result, Response) and result.headers.get("idempotent-replayed") == "true"
    return Response(status_code=204, headers={"Idempotent-Replayed": "true"} if replayed else None)


@router.get(
    "/v1/plans/{plan_id}/locks",
    summary="Locked periods of a plan",
    response_model=list[LockOut],
    responses=PROBLEM_RESPONSES,
)
async def list_locks(plan_id: PlanId, request: Request, session: SessionDep, who: Reader) -> list[LockOut]:
    return [LockOut.model_validate(lock) for lock in await locks_app.list_locks(request.app, session, who, plan_id)]


@router.put(
    "/v1/plans/{plan_id}/locks/{period}",
    summary="Lock a period after evaluation (idempotent)",
    response_model=LockOut,
    responses=PROBLEM_RESPONSES,
)
async def lock_period(
    plan_id: PlanId, period: PeriodPath, body: LockBody, request: Request, write: Write, _who: PlannerCertifierOrService
) -> Any:
    async def apply(ctx: Any) -> LockOut:
        return LockOut.model_validate(await locks_app.lock_period(ctx, request.app, plan_id, period, body.reason))

    return await write(apply, payload=body)


@router.delete(
    "/v1/plans/{plan_id}/locks/{period}",
    summary="Unlock a period",
    status_code=204,
    response_class=Response,
    response_model=None,
    responses=PROBLEM_RESPONSES,
)
async def unlock_period(plan_id: PlanId, period: PeriodPath, request: Request, write: Write, _who: Admin) -> Response:
    async def apply(ctx: Any) -> None:
        await locks_app.unlock_period(ctx, request.app, plan_id, period)

    return _no_content(await write(apply, payload=None, status_code=204))


@router.get(
    "/v1/plans/{plan_id}/locks/{period}/exceptions",
    summary="Lock exceptions of a period",
    response_model=list[LockExceptionOut],
    responses=PROBLEM_RESPONSES,
)
async def list_exceptions(
    plan_id: PlanId, period: PeriodPath, request: Request, session: SessionDep, who: Reader
) -> list[LockExceptionOut]:
    rows = await locks_app.list_exceptions(request.app, session, who, plan_id, period)
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
    write: Write,
    _who: PlannerCertifierOrService,
) -> Any:
    data = locks_app.ExceptionInput(body.item_code, body.unit_code, body.until, body.reason)
    max_days = request.app.state.settings.lock_exception_max_days

    async def apply(ctx: Any) -> LockExceptionOut:
        row = await locks_app.add_exception(ctx, request.app, plan_id, period, data, max_days=max_days)
        return LockExceptionOut.model_validate(row)

    return await write(apply, payload=body, status_code=201)


@router.delete(
    "/v1/plans/{plan_id}/locks/{period}/exceptions/{exception_id}",
    summary="Revoke a lock exception",
    status_code=204,
    response_class=Response,
    response_model=None,
    responses=PROBLEM_RESPONSES,
)
async def revoke_exception(
    plan_id: PlanId,
    period: PeriodPath,
    exception_id: ExceptionId,
    request: Request,
    write: Write,
    _who: PlannerCertifierOrService,
) -> Response:
    async def apply(ctx: Any) -> None:
        await locks_app.revoke_exception(ctx, request.app, plan_id, period, exception_id)

    return _no_content(await write(apply, payload=None, status_code=204))


@router.get(
    "/v1/organisations/{org_code}/closures",
    summary="The organisation's own closures (municipal holidays, pontos facultativos)",
    response_model=list[ClosureOut],
    tags=["calendars"],
    responses=PROBLEM_RESPONSES,
)
async def list_closures(org_code: OrgCode, session: SessionDep, who: Reader) -> list[ClosureOut]:
    return [ClosureOut.model_validate(c) for c in await locks_app.list_closures(session, who, org_code)]


@router.put(
    "/v1/organisations/{org_code}/closures/{day}",
    summary="Declare (or rename) a closure day",
    response_model=ClosureOut,
    tags=["calendars"],
    responses=PROBLEM_RESPONSES,
)
async def put_closure(
    org_code: OrgCode, day: date, body: ClosureBody, request: Request, write: Write, _who: Planner
) -> Any:
    async def apply(ctx: Any) -> ClosureOut:
        return ClosureOut.model_validate(await locks_app.put_closure(ctx, request.app, org_code, day, body.name))

    return await write(apply, payload=body)


@router.delete(
    "/v1/organisations/{org_code}/closures/{day}",
    summary="Remove a closure day",
    status_code=204,
    response_class=Response,
    response_model=None,
    tags=["calendars"],
    responses=PROBLEM_RESPONSES,
)
async def delete_closure(org_code: OrgCode, day: date, write: Write, _who: Planner) -> Response:
    async def apply(ctx: Any) -> None:
        await locks_app.delete_closure(ctx, org_code, day)

    return _no_content(await write(apply, payload=None, status_code=204))

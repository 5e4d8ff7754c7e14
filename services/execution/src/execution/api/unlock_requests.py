"""Unlock requests: a registrar asks to reopen a closed period for an item or a unit; a planner decides."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from execution.api.registrations import PlanId
from execution.api.schemas import CODE_PATTERN, PERIOD_PATTERN
from execution.application.unlock_requests import (
    create_unlock_request,
    get_visible_unlock_request,
    grant_unlock_request,
    list_unlock_requests,
    refuse_unlock_request,
)
from execution.domain.unlock_requests import UnlockStatus
from metas_kit.auth import Planner, Reader, Registrar
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES
from metas_kit.pagination import PageDep
from metas_kit.writes import Write

RequestId = Annotated[int, Path(ge=1, le=2**63 - 1)]  # a BIGINT key

router = APIRouter(prefix="/v1/plans/{plan_id}/unlock-requests", tags=["unlock requests"])


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnlockRequestBody(_Closed):
    period: str = Field(pattern=PERIOD_PATTERN, examples=["2014-03"])
    item_code: str | None = Field(None, max_length=100, pattern=CODE_PATTERN, description="The item to reopen.")
    unit_code: str | None = Field(
        None, max_length=100, pattern=CODE_PATTERN, description="The unit to reopen (every item of it)."
    )
    reason: str = Field(min_length=1, max_length=2000, description="Why the registrar needs the period reopened.")


class GrantBody(_Closed):
    until: AwareDatetime = Field(description="When the lock exception created by the grant ends.")
    note: str | None = Field(None, max_length=2000)


class RefuseBody(_Closed):
    reason: str = Field(min_length=1, max_length=2000)


class UnlockRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    plan_id: str
    period: str
    item_code: str | None
    unit_code: str
    reason: str
    status: UnlockStatus
    requested_at: datetime
    requested_by: str
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None
    lock_exception_id: int | None


class UnlockRequestPage(BaseModel):
    items: list[UnlockRequestOut]
    next_cursor: str | None


@router.post(
    "",
    summary="Ask a planner to reopen a locked or expired period for an item or a unit",
    response_model=UnlockRequestOut,
    status_code=201,
    responses=PROBLEM_RESPONSES,
)
async def ask(plan_id: PlanId, body: UnlockRequestBody, write: Write, _who: Registrar) -> Any:
    return await write(
        lambda ctx: create_unlock_request(
            ctx, plan_id, period=body.period, item_code=body.item_code, unit_code=body.unit_code, reason=body.reason
        ),
        payload=body,
        status_code=201,
    )


@router.get(
    "",
    summary="Unlock requests of a plan, oldest first (a registrar sees those of its units)",
    response_model=UnlockRequestPage,
    responses=PROBLEM_RESPONSES,
)
async def list_requests(
    plan_id: PlanId,
    request: Request,
    session: SessionDep,
    who: Reader,
    page: PageDep,
    status: UnlockStatus | None = None,
    period: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None,
) -> UnlockRequestPage:
    found = await list_unlock_requests(request.app, session, who, plan_id, status=status, period=period, page=page)
    items = [UnlockRequestOut.model_validate(r) for r in found.items]
    return UnlockRequestPage(items=items, next_cursor=found.next_cursor)


@router.get("/{request_id}", summary="One unlock request", response_model=UnlockRequestOut, responses=PROBLEM_RESPONSES)
async def get_request(
    plan_id: PlanId, request_id: RequestId, request: Request, session: SessionDep, who: Reader
) -> UnlockRequestOut:
    return UnlockRequestOut.model_validate(
        await get_visible_unlock_request(request.app, session, who, plan_id, request_id)
    )


@router.post(
    "/{request_id}:grant",
    summary="Grant: reopen the scope until a given instant (creates a lock exception)",
    response_model=UnlockRequestOut,
    responses=PROBLEM_RESPONSES,
)
async def grant(
    plan_id: PlanId, request_id: RequestId, body: GrantBody, request: Request, write: Write, _who: Planner
) -> Any:
    max_days = request.app.state.settings.lock_exception_max_days
    return await write(
        lambda ctx: grant_unlock_request(ctx, plan_id, request_id, until=body.until, note=body.note, max_days=max_days),
        payload=body,
    )


@router.post(
    "/{request_id}:refuse",
    summary="Refuse, with the reason the registrar will read",
    response_model=UnlockRequestOut,
    responses=PROBLEM_RESPONSES,
)
async def refuse(plan_id: PlanId, request_id: RequestId, body: RefuseBody, write: Write, _who: Planner) -> Any:
    return await write(lambda ctx: refuse_unlock_request(ctx, plan_id, request_id, reason=body.reason), payload=body)

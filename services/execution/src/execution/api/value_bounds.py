"""The expected bounds of an indicator's values, set by planners: a value outside them is registered with a
warning (docs/api/execution.md, "Warnings")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from execution.api.registrations import PlanId
from execution.api.schemas import CODE_PATTERN, ValueBoundsBody, ValueBoundsOut
from execution.application.value_checks import delete_bounds, list_bounds, put_bounds
from metas_kit.auth import Planner, Reader
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES
from metas_kit.writes import Write

BOUNDS = "/v1/plans/{plan_id}/value-bounds"
BoundsItem = Annotated[str, Path(max_length=100, pattern=CODE_PATTERN)]
router = APIRouter(tags=["registrations"])


@router.get(
    BOUNDS,
    summary="Indicators with expected value bounds",
    response_model=list[ValueBoundsOut],
    responses=PROBLEM_RESPONSES,
)
async def bounds(plan_id: PlanId, request: Request, session: SessionDep, who: Reader) -> list[ValueBoundsOut]:
    return [ValueBoundsOut.model_validate(r) for r in await list_bounds(request.app, session, who, plan_id)]


@router.put(
    BOUNDS + "/{item_code}",
    summary="Set the expected bounds of an indicator's values (outside: a warning, not a refusal)",
    response_model=ValueBoundsOut,
    responses=PROBLEM_RESPONSES,
)
async def set_bounds(plan_id: PlanId, item_code: BoundsItem, body: ValueBoundsBody, write: Write, _who: Planner) -> Any:
    async def apply(ctx: Any) -> ValueBoundsOut:
        row = await put_bounds(ctx, plan_id, item_code, min_value=body.min, max_value=body.max)
        return ValueBoundsOut.model_validate(row)

    return await write(apply, payload=body)


@router.delete(
    BOUNDS + "/{item_code}", summary="Remove an indicator's bounds", status_code=204, responses=PROBLEM_RESPONSES
)
async def remove_bounds(plan_id: PlanId, item_code: BoundsItem, write: Write, _who: Planner) -> None:
    await write(lambda ctx: delete_bounds(ctx, plan_id, item_code), payload=None, status_code=204)

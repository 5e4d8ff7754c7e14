"""The expected bounds of an indicator's values, set by planners: a value outside them is registered with a
warning (docs/api/execution.md, "Warnings")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from execution.api.registrations import PlanId
from execution.api.schemas import CODE_PATTERN, ValueBoundsBody, ValueBoundsOut
from execution.application.value_checks import (
    bounds_etag,
    current_bounds_etag,
    delete_bounds,
    list_bounds,
    put_bounds,
)
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
    rows = await list_bounds(request.app, session, who, plan_id)
    return [ValueBoundsOut.model_validate({**_fields(r), "etag": bounds_etag(r)}) for r in rows]


def _fields(row: Any) -> dict[str, Any]:
    return {k: getattr(row, k) for k in ("item_code", "min_value", "max_value", "updated_at", "updated_by")}


@router.put(
    BOUNDS + "/{item_code}",
    summary="Set the expected bounds of an indicator's values (outside: a warning, not a refusal); If-Match optional",
    response_model=ValueBoundsOut,
    responses=PROBLEM_RESPONSES,
)
async def set_bounds(plan_id: PlanId, item_code: BoundsItem, body: ValueBoundsBody, write: Write, _who: Planner) -> Any:
    async def apply(ctx: Any) -> ValueBoundsOut:
        row = await put_bounds(ctx, plan_id, item_code, min_value=body.min, max_value=body.max)
        return ValueBoundsOut.model_validate({**_fields(row), "etag": bounds_etag(row)})

    async def etag_now() -> str | None:
        return await current_bounds_etag(write.session, plan_id, item_code)

    return await write(apply, payload=body, current_etag=etag_now, etag=lambda out: out.etag)


@router.delete(
    BOUNDS + "/{item_code}", summary="Remove an indicator's bounds", status_code=204, responses=PROBLEM_RESPONSES
)
async def remove_bounds(plan_id: PlanId, item_code: BoundsItem, write: Write, _who: Planner) -> None:
    async def etag_now() -> str | None:
        return await current_bounds_etag(write.session, plan_id, item_code)

    await write(
        lambda ctx: delete_bounds(ctx, plan_id, item_code), payload=None, status_code=204, current_etag=etag_now
    )

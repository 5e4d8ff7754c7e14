"""Links from sub-investments to planning initiatives (checked against planning when made)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, StringConstraints

from budget.api.common import PlanningDep, StateDep, bodiless
from budget.application import links
from metas_kit.auth import BudgetOfficer, Reader
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES
from metas_kit.timestamps import UtcDateTime
from metas_kit.writes import Write, WriteContext

router = APIRouter(prefix="/v1/budget", tags=["budget-links"], responses=PROBLEM_RESPONSES)

CODE = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
# Planning's identifier formats (docs/api/planning.md): planning refuses any other plan id or item code, so
# they are a 422 here rather than an upstream refusal reported as 502.
PLAN_ID = r"^[a-z0-9][a-z0-9-]*$"
ID_MAX_LENGTH = 64
PlanId = Annotated[str, StringConstraints(max_length=ID_MAX_LENGTH, pattern=PLAN_ID)]
InitiativeCode = Annotated[str, StringConstraints(max_length=ID_MAX_LENGTH, pattern=CODE)]
PlanIdFilter = Annotated[str | None, Query(max_length=ID_MAX_LENGTH, pattern=PLAN_ID)]


class LinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_id: PlanId
    initiative_code: InitiativeCode


class LinkRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    subinvestment: str
    plan_id: str
    initiative_code: str
    initiative_name: str | None
    created_at: UtcDateTime


class LinkPage(BaseModel):
    items: list[LinkRead]
    next_cursor: str | None


@router.get("/initiative-links", summary="Every sub-investment → initiative link")
async def list_links(session: SessionDep, who: Reader, state: StateDep, plan_id: PlanIdFilter = None) -> LinkPage:
    rows = await links.list_all(session, state, who, plan_id=plan_id)
    return LinkPage(items=[LinkRead.model_validate(r) for r in rows], next_cursor=None)


@router.get("/subinvestments/{code}/initiatives", summary="Initiatives linked to a sub-investment")
async def list_sub_links(code: str, session: SessionDep, who: Reader, state: StateDep) -> LinkPage:
    rows = await links.list_of(session, state, who, code)
    return LinkPage(items=[LinkRead.model_validate(r) for r in rows], next_cursor=None)


@router.post(
    "/subinvestments/{code}/initiatives",
    status_code=201,
    response_model=LinkRead,
    responses={200: {"model": LinkRead, "description": "Already linked (nothing changed)"}},
    summary="Link a planning initiative (the initiative must exist in planning)",
)
async def create_link(
    code: str, body: LinkCreate, write: Write, who: BudgetOfficer, state: StateDep, planning: PlanningDep
) -> Any:
    created: list[bool] = []

    async def apply(ctx: WriteContext) -> LinkRead:
        row, made = await links.create(
            ctx, state, planning, code, plan_id=body.plan_id, initiative_code=body.initiative_code
        )
        created.append(made)
        return LinkRead.model_validate(row)

    # linking twice changes nothing: 200 with the existing link
    return await write(apply, payload=body, status_code=lambda _out: 201 if created[0] else 200)


@router.delete(
    "/subinvestments/{code}/initiatives/{plan_id}/{initiative_code}", status_code=204, response_class=Response
)
async def delete_link(
    code: str,
    plan_id: Annotated[str, Path(max_length=ID_MAX_LENGTH, pattern=PLAN_ID)],
    initiative_code: Annotated[str, Path(max_length=ID_MAX_LENGTH, pattern=CODE)],
    write: Write,
    who: BudgetOfficer,
    state: StateDep,
) -> Response:
    async def apply(ctx: WriteContext) -> None:
        await links.delete(ctx, state, code, plan_id=plan_id, initiative_code=initiative_code)

    replayed = await write(apply, payload={"link": [code, plan_id, initiative_code]}, status_code=204)
    headers = replayed.headers if isinstance(replayed, Response) else write.response.headers
    return Response(status_code=204, headers=bodiless(headers))

"""Links from sub-investments to planning initiatives (checked against planning when made)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StringConstraints

from budget.api.common import BudgetWriter, ContextDep, field_error
from budget.clients.planning import PlanningClient
from budget.db import models as m
from budget.db import repositories as repo
from metas_kit.audit import record_audit
from metas_kit.auth import Reader
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES, NotFound
from metas_kit.http import make_client

router = APIRouter(prefix="/v1/budget", tags=["budget-links"], responses=PROBLEM_RESPONSES)

CODE = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
# Planning's identifier formats (docs/api/planning.md): planning refuses any other plan id or item code, so
# they are a 422 here rather than an upstream refusal reported as 502.
PLAN_ID = r"^[a-z0-9][a-z0-9-]*$"
ID_MAX_LENGTH = 64
PlanId = Annotated[str, StringConstraints(max_length=ID_MAX_LENGTH, pattern=PLAN_ID)]
InitiativeCode = Annotated[str, StringConstraints(max_length=ID_MAX_LENGTH, pattern=CODE)]
PlanIdFilter = Annotated[str | None, Query(max_length=ID_MAX_LENGTH, pattern=PLAN_ID)]


def planning_client(request: Request) -> PlanningClient:
    """One pooled client per app, created on the first link request (never at import or start)."""
    client: PlanningClient | None = getattr(request.app.state, "planning_client", None)
    if client is None:
        settings = request.app.state.settings
        http = make_client(
            settings.planning_url,
            timeout=settings.upstream_timeout_seconds,
            service_name="budget",
            jwt_secret=request.app.state.jwt_secret,
        )
        client = PlanningClient(http)
        request.app.state.planning_client = client
    return client


PlanningDep = Annotated[PlanningClient, Depends(planning_client)]


class LinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_id: PlanId
    initiative_code: InitiativeCode


def _link(r: m.InitiativeLink) -> dict[str, Any]:
    return {
        "subinvestment": r.subinvestment,
        "plan_id": r.plan_id,
        "initiative_code": r.initiative_code,
        "initiative_name": r.initiative_name,
        "created_at": r.created_at.isoformat(),
    }


def _sub_code(ctx: ContextDep, code: str) -> str:
    sub = ctx.structure.subinvestment_code(code)
    if sub is None:
        raise NotFound(f"Sub-investment {code!r} does not exist.")
    return sub


@router.get("/initiative-links", summary="Every sub-investment → initiative link")
async def list_links(session: SessionDep, _who: Reader, plan_id: PlanIdFilter = None) -> dict[str, Any]:
    rows = [r for r in await repo.links_of(session) if plan_id is None or r.plan_id == plan_id]
    return {"items": [_link(r) for r in rows], "next_cursor": None}


@router.get("/subinvestments/{code}/initiatives", summary="Initiatives linked to a sub-investment")
async def list_sub_links(code: str, session: SessionDep, ctx: ContextDep, _who: Reader) -> dict[str, Any]:
    rows = await repo.links_of(session, _sub_code(ctx, code))
    return {"items": [_link(r) for r in rows], "next_cursor": None}


@router.post(
    "/subinvestments/{code}/initiatives",
    status_code=201,
    summary="Link a planning initiative (the initiative must exist in planning)",
)
async def create_link(
    code: str, body: LinkCreate, who: BudgetWriter, session: SessionDep, ctx: ContextDep, planning: PlanningDep
) -> Response:
    sub = _sub_code(ctx, code)
    existing = await repo.find_link(session, sub, body.plan_id, body.initiative_code)
    if existing is not None:
        return JSONResponse(_link(existing), status_code=200)  # linking twice is a no-op
    initiative = await planning.initiative(body.plan_id, body.initiative_code)
    if initiative is None:
        raise field_error(
            "initiative_code", f"Planning has no initiative {body.initiative_code!r} in plan {body.plan_id!r}."
        )
    name = initiative.get("name")
    row = m.InitiativeLink(
        investment_code=repo.INVESTMENT,
        subinvestment=sub,
        plan_id=body.plan_id,
        initiative_code=body.initiative_code,
        initiative_name=str(name)[:500] if name else None,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    out = _link(row)
    await record_audit(
        session,
        m.AuditEvent,
        who,
        action="create",
        entity_type="initiative_link",
        entity_id=f"{sub}:{body.plan_id}:{body.initiative_code}",
        after=out,
    )
    return JSONResponse(out, status_code=201)


@router.delete("/subinvestments/{code}/initiatives/{plan_id}/{initiative_code}", status_code=204)
async def delete_link(
    code: str,
    plan_id: Annotated[str, Path(max_length=ID_MAX_LENGTH, pattern=PLAN_ID)],
    initiative_code: Annotated[str, Path(max_length=ID_MAX_LENGTH, pattern=CODE)],
    who: BudgetWriter,
    session: SessionDep,
    ctx: ContextDep,
) -> Response:
    sub = _sub_code(ctx, code)
    row = await repo.find_link(session, sub, plan_id, initiative_code)
    if row is None:
        raise NotFound("No such link.")
    before = _link(row)
    await session.delete(row)
    await session.flush()
    await record_audit(
        session,
        m.AuditEvent,
        who,
        action="delete",
        entity_type="initiative_link",
        entity_id=f"{sub}:{plan_id}:{initiative_code}",
        before=before,
    )
    return Response(status_code=204)

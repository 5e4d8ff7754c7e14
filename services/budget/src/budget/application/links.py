"""Links from sub-investments to planning initiatives: checked against planning (with the service's identity)
when made, audited in the request's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from budget.application.amounts import WRITERS, field_error
from budget.application.context import BudgetContext, load
from budget.application.scope import BudgetState, require_budget
from budget.db import models as m
from budget.db import repositories as repo
from metas_clients.planning import PlanningClient
from metas_kit.auth import Principal
from metas_kit.errors import NotFound
from metas_kit.writes import WriteContext

ENTITY = "initiative_link"


def snapshot(row: m.InitiativeLink) -> dict[str, str | None]:
    return {
        "subinvestment": row.subinvestment,
        "plan_id": row.plan_id,
        "initiative_code": row.initiative_code,
        "initiative_name": row.initiative_name,
    }


def _sub_code(ctx: BudgetContext, code: str) -> str:
    sub = ctx.structure.subinvestment_code(code)
    if sub is None:
        raise NotFound(f"Sub-investment {code!r} does not exist.")
    return sub


async def list_all(
    session: AsyncSession, state: BudgetState, who: Principal, *, plan_id: str | None
) -> list[m.InitiativeLink]:
    require_budget(who, state)
    return [r for r in await repo.links_of(session) if plan_id is None or r.plan_id == plan_id]


async def list_of(session: AsyncSession, state: BudgetState, who: Principal, code: str) -> Sequence[m.InitiativeLink]:
    require_budget(who, state)
    ctx = await load(session, state.cache)
    return await repo.links_of(session, _sub_code(ctx, code))


async def create(
    write: WriteContext,
    state: BudgetState,
    planning: PlanningClient,
    code: str,
    *,
    plan_id: str,
    initiative_code: str,
) -> tuple[m.InitiativeLink, bool]:
    """(the link, whether it was made now): linking twice is a no-op."""
    session = write.session
    require_budget(write.principal, state, WRITERS)
    ctx = await load(session, state.cache)
    sub = _sub_code(ctx, code)
    existing = await repo.find_link(session, sub, plan_id, initiative_code)
    if existing is not None:
        write.unchanged()
        return existing, False
    # Planning is read with the service's identity, which sees every organisation: the link is refused unless
    # the plan belongs to the budget's organisation, so nothing the user asks crosses organisations.
    try:
        plan = await planning.plan(plan_id)
    except NotFound:
        plan = None
    initiative = None
    if plan is not None and plan.organisation_code == state.organisation:
        initiative = await planning.initiative(plan_id, initiative_code)
    if initiative is None:
        raise field_error("initiative_code", f"Planning has no initiative {initiative_code!r} in plan {plan_id!r}.")
    name = initiative.get("name")
    row = await repo.add_link(
        session,
        m.InitiativeLink(
            investment_code=repo.INVESTMENT,
            subinvestment=sub,
            plan_id=plan_id,
            initiative_code=initiative_code,
            initiative_name=str(name)[:500] if name else None,
        ),
    )
    await write.audit(
        ENTITY, f"{sub}:{plan_id}:{initiative_code}", "create", after=snapshot(row), organisation=state.organisation
    )
    return row, True


async def delete(write: WriteContext, state: BudgetState, code: str, *, plan_id: str, initiative_code: str) -> None:
    session = write.session
    require_budget(write.principal, state, WRITERS)
    ctx = await load(session, state.cache)
    sub = _sub_code(ctx, code)
    row = await repo.find_link(session, sub, plan_id, initiative_code)
    if row is None:
        raise NotFound("No such link.")
    before = snapshot(row)
    await repo.delete_row(session, row)
    await write.audit(
        ENTITY, f"{sub}:{plan_id}:{initiative_code}", "delete", before=before, organisation=state.organisation
    )

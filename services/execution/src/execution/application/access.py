"""Plan access shared by the application modules: a plan is visible to a caller holding a read grant for its
organisation; anything else is answered as if it did not exist."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from execution.application.plans import LoadedPlan, load_plan_for_app
from metas_kit.auth import ANY_ORG, READ_ROLES, Principal
from metas_kit.errors import NotFound


def organisation_of(plan: LoadedPlan) -> str:
    """A plan without an organisation is reachable only with installation-wide grants."""
    return plan.organisation_code or ANY_ORG


async def visible_plan(app: FastAPI, session: AsyncSession, who: Principal, plan_id: str) -> LoadedPlan:
    plan = await load_plan_for_app(app, session, plan_id)
    if not who.can(READ_ROLES, organisation_of(plan)):
        raise NotFound(f"Plan {plan_id!r} not found.")  # another organisation's plan is not disclosed
    return plan

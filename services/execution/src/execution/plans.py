"""Plan schedules built from planning's tree (cached by ETag) and the organisation's closures."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession

from execution.clients.planning import CachedTree, PlanningClient
from execution.db.repositories import closures_of
from execution.domain.calendars import Closure
from execution.domain.errors import ExecutionDomainError
from execution.domain.registrations import PlanFacts
from execution.domain.schedule import PlanSchedule
from metas_kit.errors import UpstreamError

Clock = Callable[[], datetime]

_SCHEDULES: OrderedDict[tuple[str, str | None, tuple[Closure, ...]], PlanSchedule] = OrderedDict()
_MAX_SCHEDULES = 64


@dataclass(frozen=True, slots=True)
class LoadedPlan:
    schedule: PlanSchedule
    tree: CachedTree
    organisation_code: str | None

    @property
    def facts(self) -> PlanFacts:
        return self.schedule.facts


def planning_client(app: FastAPI) -> PlanningClient:
    client: PlanningClient = app.state.planning
    return client


def clock(app: FastAPI) -> datetime:
    """Now, in UTC; tests may replace ``app.state.clock`` to move time."""
    fn: Clock | None = getattr(app.state, "clock", None)
    return fn() if fn is not None else datetime.now(UTC)


async def load_plan_for_app(app: FastAPI, session: AsyncSession, plan_id: str) -> LoadedPlan:
    tree = await planning_client(app).tree(plan_id)
    org = tree.document.get("organisation") or {}
    org_code = str(org["code"]) if org.get("code") else None
    extra: tuple[Closure, ...] = ()
    if org_code:
        extra = tuple(Closure(c.day, c.name) for c in await closures_of(session, org_code))
    key = (plan_id, tree.etag, extra)
    schedule = _SCHEDULES.get(key)
    if schedule is None:
        try:
            facts = PlanFacts.from_tree(tree.document)
            schedule = PlanSchedule(facts, extra)
        except (ExecutionDomainError, KeyError, TypeError, ValueError) as exc:
            raise UpstreamError(f"The plan document of {plan_id!r} cannot be used: {exc}") from exc
        _SCHEDULES[key] = schedule
        while len(_SCHEDULES) > _MAX_SCHEDULES:
            _SCHEDULES.popitem(last=False)
    else:
        _SCHEDULES.move_to_end(key)
    return LoadedPlan(schedule=schedule, tree=tree, organisation_code=org_code)


async def load_plan(request: Request, session: AsyncSession, plan_id: str) -> LoadedPlan:
    return await load_plan_for_app(request.app, session, plan_id)

"""Plan schedules built from planning's tree (cached by ETag) and the organisation's closures."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession

from execution.clients.planning import CachedTree, PlanningClient
from execution.db.models import PlanRegistrationSettings
from execution.db.repositories import closures_of
from execution.domain.calendars import Closure
from execution.domain.errors import ExecutionDomainError
from execution.domain.periods import Period
from execution.domain.registrations import PlanFacts, PlanOverrides
from execution.domain.schedule import PlanSchedule
from metas_kit.errors import UpstreamError

Clock = Callable[[], datetime]

_Key = tuple[str, str | None, tuple[Closure, ...], PlanOverrides | None]
_SCHEDULES: OrderedDict[_Key, PlanSchedule] = OrderedDict()
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


def overrides_of(row: PlanRegistrationSettings | None) -> PlanOverrides | None:
    if row is None:
        return None
    return PlanOverrides(
        catch_up_through=Period.parse(row.catch_up_through) if row.catch_up_through else None,
        closing_month=row.closing_month,
        categories=tuple(row.holiday_categories) if row.holiday_categories is not None else None,
        openings=tuple(date.fromisoformat(d) for d in row.openings or ()),
        timezone=row.timezone,
    )


async def load_plan_for_app(app: FastAPI, session: AsyncSession, plan_id: str) -> LoadedPlan:
    tree = await planning_client(app).tree(plan_id)
    org = tree.document.get("organisation") or {}
    org_code = str(org["code"]) if org.get("code") else None
    extra: tuple[Closure, ...] = ()
    if org_code:
        extra = tuple(Closure(c.day, c.name) for c in await closures_of(session, org_code))
    overrides = overrides_of(await session.get(PlanRegistrationSettings, plan_id))
    key = (plan_id, tree.etag, extra, overrides)
    schedule = _SCHEDULES.get(key)
    if schedule is None:
        try:
            facts = PlanFacts.from_tree(tree.document)
            if overrides is not None:
                facts = overrides.apply(facts)
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

"""Plans as the application sees them: the schedule built from planning's tree (cached on ``app.state`` by the
tree's ETag and the organisation's closures), the plan's organisation, and who may see or write what in it.

A plan's organisation comes from planning's plan document (``organisation.code``); every read and write checks
it against the caller's grants (docs/architecture.md, "Tenancy"): another organisation's plan is a 404, so its
existence does not leak; a visible plan the caller may not write is a 403.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from execution.db.repositories import PlanContext, PlanSettingsRow, plan_context
from execution.domain.calendars import Closure
from execution.domain.errors import ExecutionDomainError
from execution.domain.periods import Period
from execution.domain.registrations import PlanFacts, PlanOverrides
from execution.domain.schedule import PlanSchedule
from metas_clients.planning import PlanningClient, PlanTree
from metas_kit.auth import ALL, ANY_ORG, READ_ROLES, Principal, Scope
from metas_kit.errors import Forbidden, NotFound, UpstreamError

Clock = Callable[[], datetime]
# Reads the plan's settings and its organisation's closures (given the organisation's code, None without one).
ContextReader = Callable[[str | None], Awaitable[PlanContext]]

_Key = tuple[str, str | None, tuple[Closure, ...], PlanOverrides | None]
MAX_SCHEDULES = 64


@dataclass(frozen=True, slots=True)
class LoadedPlan:
    schedule: PlanSchedule
    tree: PlanTree
    organisation_code: str | None
    # The plan's certifier independence setting (None: the default), read with the calendar's settings.
    certifier_independence: str | None = None

    @property
    def facts(self) -> PlanFacts:
        return self.schedule.facts

    @property
    def organisation(self) -> str:
        """The organisation grants are checked against; a plan without one is reachable only with
        installation-wide grants."""
        return self.organisation_code or ANY_ORG

    @property
    def units(self) -> frozenset[str]:
        return frozenset(i.unit_code for i in self.facts.items.values())


def planning_client(app: FastAPI) -> PlanningClient:
    client: PlanningClient = app.state.planning
    return client


def clock(app: FastAPI) -> datetime:
    """Now, in UTC; tests may replace ``app.state.clock`` to move time."""
    fn: Clock | None = getattr(app.state, "clock", None)
    return fn() if fn is not None else datetime.now(UTC)


def _schedules(app: FastAPI) -> OrderedDict[_Key, PlanSchedule]:
    cache: OrderedDict[_Key, PlanSchedule] | None = getattr(app.state, "schedules", None)
    if cache is None:
        cache = app.state.schedules = OrderedDict()
    return cache


def overrides_of(row: PlanSettingsRow | None) -> PlanOverrides | None:
    if row is None:
        return None
    return PlanOverrides(
        catch_up_through=Period.parse(row.catch_up_through) if row.catch_up_through else None,
        closing_month=row.closing_month,
        categories=tuple(row.holiday_categories) if row.holiday_categories is not None else None,
        openings=tuple(date.fromisoformat(d) for d in row.openings or ()),
        timezone=row.timezone,
    )


# A request often needs its plan twice (a write's precondition, then the write): what was loaded in a session is
# reused until the session next flushes (a write of closures or settings in between is then seen).
_SESSION_PLANS = "execution.loaded_plans"


@event.listens_for(Session, "after_flush")
def _forget_loaded_plans(session: Session, _context: object) -> None:
    session.info.pop(_SESSION_PLANS, None)


async def load_plan_for_app(
    app: FastAPI, session: AsyncSession, plan_id: str, *, read_context: ContextReader | None = None
) -> LoadedPlan:
    """The plan's schedule, without any access check (the metrics refresh and the checks below use it).
    ``read_context`` replaces the read of the settings and closures when the plan is not loaded in this session
    yet (a caller that reads more in the same round trip)."""
    loaded: dict[str, LoadedPlan] = session.info.setdefault(_SESSION_PLANS, {})
    found = loaded.get(plan_id)
    if found is None:
        found = loaded[plan_id] = await _load_plan(app, session, plan_id, read_context)
    return found


async def _load_plan(
    app: FastAPI, session: AsyncSession, plan_id: str, read_context: ContextReader | None
) -> LoadedPlan:
    tree = await planning_client(app).tree(plan_id)
    org = tree.document.get("organisation") or {}
    org_code = str(org["code"]) if isinstance(org, dict) and org.get("code") else None
    if read_context is None:
        context = await plan_context(session, plan_id, org_code)
    else:
        context = await read_context(org_code)
    extra = tuple(Closure(day, name) for day, name in context.closures)
    overrides = overrides_of(context.settings)
    key = (plan_id, tree.etag, extra, overrides)
    cache = _schedules(app)
    schedule = cache.get(key)
    if schedule is None:
        try:
            facts = PlanFacts.from_tree(tree.document)
            if overrides is not None:
                facts = overrides.apply(facts)
            schedule = PlanSchedule(facts, extra)
        except (ExecutionDomainError, KeyError, TypeError, ValueError) as exc:
            raise UpstreamError(f"The plan document of {plan_id!r} cannot be used: {exc}") from exc
        cache[key] = schedule
        while len(cache) > MAX_SCHEDULES:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    independence = context.settings.certifier_independence if context.settings else None
    return LoadedPlan(schedule=schedule, tree=tree, organisation_code=org_code, certifier_independence=independence)


async def visible_plan(
    app: FastAPI,
    session: AsyncSession,
    who: Principal,
    plan_id: str,
    roles: Iterable[str] = READ_ROLES,
    *,
    read_context: ContextReader | None = None,
) -> LoadedPlan:
    """The plan if ``who`` holds one of ``roles`` (a read role by default) in its organisation, else 404."""
    plan = await load_plan_for_app(app, session, plan_id, read_context=read_context)
    if not who.can(frozenset(roles), plan.organisation):
        raise NotFound(f"Plan {plan_id!r} not found.")  # another organisation's plan is not disclosed
    return plan


async def writable_plan(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, roles: Iterable[str]
) -> LoadedPlan:
    """The plan if ``who`` may act on it with one of ``roles``: 404 when it is not visible at all, 403 when it is
    visible but the caller holds none of the roles in its organisation."""
    plan = await visible_plan(app, session, who, plan_id)
    if not who.can(frozenset(roles), plan.organisation):
        raise Forbidden(f"You may not do this in plan {plan_id!r}.")
    return plan


def visible_units(who: Principal, plan: LoadedPlan) -> Scope:
    """The units of ``plan`` whose rows ``who`` may read: every unit for an organisation-wide reader, else the
    units of the caller's unit-scoped grants in the plan's organisation."""
    return who.units_for(READ_ROLES, plan.organisation)


def unit_visible(scope: Scope, unit: str) -> bool:
    return scope is ALL or unit in scope

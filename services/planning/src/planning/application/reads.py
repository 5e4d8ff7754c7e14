"""Reads of plans, versions and items, and the guard every use case starts with: a plan, its versions and its
items belong to the plan's organisation, and only a grant for that organisation (or an installation-wide one)
sees them. Another organisation's plan is a 404, exactly as a plan that does not exist, so ids do not leak."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from metas_kit.auth import READ_ROLES, Principal, Scope
from metas_kit.db import Executor
from metas_kit.errors import Conflict, Forbidden, NotFound
from metas_kit.pagination import PageParams, PageResult
from planning.db import repositories as repo
from planning.db.models import Organisation, Plan, PlanItem, PlanVersion
from planning.db.repositories import DRAFT
from planning.domain.items import kinds_of

PLANNERS = frozenset({"planner"})


def readable_orgs(who: Principal) -> Scope:
    return who.orgs_for(READ_ROLES)


async def visible_plan(session: AsyncSession, who: Principal, plan_id: str, *, for_update: bool = False) -> Plan:
    """The plan when the caller may read its organisation, else 404 (whether or not it exists)."""
    plan = await repo.get_plan(session, plan_id, for_update=for_update)
    if plan is None or not who.can(READ_ROLES, plan.organisation_code):
        raise NotFound(f"No plan {plan_id!r}.")
    return plan


async def plan_for_planning(session: AsyncSession, who: Principal, plan_id: str) -> Plan:
    """The plan, locked for the write (PostgreSQL), when the caller plans for its organisation: 404 when they
    cannot see it, 403 when they see it without planning for it."""
    plan = await visible_plan(session, who, plan_id, for_update=True)
    if not who.can(PLANNERS, plan.organisation_code):
        raise Forbidden(f"Planning plans of {plan.organisation_code!r} needs the planner role for it.")
    return plan


async def get_version_or_404(session: AsyncSession, plan_id: str, number: int) -> PlanVersion:
    version = await repo.get_version(session, plan_id, number)
    if version is None:
        raise NotFound(f"Plan {plan_id!r} has no version {number}.")
    return version


async def draft_to_edit(session: AsyncSession, plan_id: str, number: int | None) -> PlanVersion:
    """The draft an edit applies to: version ``number``, else the latest draft (409 when it is not a draft)."""
    if number is None:
        draft = await repo.latest_draft(session, plan_id)
        if draft is None:
            raise Conflict(f"Plan {plan_id!r} has no draft version; revise the approved version first.")
        return draft
    version = await get_version_or_404(session, plan_id, number)
    if version.status != DRAFT:
        raise Conflict(f"Version {number} of {plan_id!r} is {version.status}; only drafts can change.")
    return version


# ---- current ETags for the write envelope's preconditions (checked before the write; 404 for what the
# caller cannot see, so a precondition never tells another organisation's ETag) ------------------------------


async def draft_etag(session: AsyncSession, who: Principal, plan_id: str, number: int | None) -> str:
    await visible_plan(session, who, plan_id)
    return (await draft_to_edit(session, plan_id, number)).etag


async def version_etag_of(session: AsyncSession, who: Principal, plan_id: str, number: int) -> str:
    await visible_plan(session, who, plan_id)
    return (await get_version_or_404(session, plan_id, number)).etag


async def import_etag(session: AsyncSession, who: Principal, data: Any) -> str | None:
    """The ETag of the latest version of the plan a document names, when the caller sees that plan."""
    plan_id = data.get("plan", {}).get("id") if isinstance(data, dict) else None
    if not isinstance(plan_id, str) or len(plan_id) > 64:
        return None
    plan = await repo.get_plan(session, plan_id)
    if plan is None or not who.can(READ_ROLES, plan.organisation_code):
        return None
    latest = await repo.get_version(session, plan_id, plan.latest_version)
    return None if latest is None else latest.etag


async def tree_version(session: AsyncSession, who: Principal, plan_id: str, number: int | None) -> PlanVersion:
    """The version a reader gets: the one asked for, else the approved one, else the latest draft."""
    plan = await visible_plan(session, who, plan_id)
    if number is None:
        number = plan.current_version or plan.latest_version
    return await get_version_or_404(session, plan_id, number)


async def list_organisations(session: AsyncSession, who: Principal, page: PageParams) -> PageResult[Organisation]:
    return await repo.list_organisations(session, page, among=readable_orgs(who))


async def get_organisation(session: AsyncSession, who: Principal, code: str) -> Organisation:
    row = await repo.get_organisation(session, code)
    if row is None or not who.can(READ_ROLES, code):
        raise NotFound(f"No organisation {code!r}.")
    return row


async def list_plans(
    session: AsyncSession,
    who: Principal,
    page: PageParams,
    *,
    framework: str | None,
    cycle_year: int | None,
    organisation: str | None,
) -> PageResult[Plan]:
    return await repo.list_plans(
        session,
        page,
        framework=framework,
        cycle_year=cycle_year,
        organisation=organisation,
        among=readable_orgs(who),
    )


async def get_plan(db: Executor, who: Principal, plan_id: str) -> Any:
    """The plan's fields (a row with the attributes of ``Plan``) when the caller may read it, else 404."""
    row = await repo.plan_row(db, plan_id)
    if row is None or not who.can(READ_ROLES, row.organisation_code):
        raise NotFound(f"No plan {plan_id!r}.")
    return row


@dataclass(frozen=True, slots=True)
class VersionHead:
    """What answers a conditional read without loading the document."""

    number: int
    etag: str
    status: str


@dataclass(frozen=True, slots=True)
class ServedTree:
    """The version a tree read serves: its head and, unless only the head was asked for, its document."""

    head: VersionHead
    document: dict[str, Any] | None


async def served_tree(db: Executor, who: Principal, plan_id: str, number: int | None, *, document: bool) -> ServedTree:
    """What a tree read needs in one query (organisation, head, document). What the caller may not see, a plan
    or a version that does not exist get the refusals of ``tree_version`` (404, the same details)."""
    row = await repo.served_version(db, plan_id, number, document=document)
    if row is None or not who.can(READ_ROLES, row.organisation_code):
        plan = await repo.plan_row(db, plan_id)
        if plan is None or not who.can(READ_ROLES, plan.organisation_code):
            raise NotFound(f"No plan {plan_id!r}.")
        wanted = number if number is not None else plan.current_version or plan.latest_version
        raise NotFound(f"Plan {plan_id!r} has no version {wanted}.")
    return ServedTree(VersionHead(row.number, row.etag, row.status), row.document if document else None)


async def read_version(session: AsyncSession, who: Principal, plan_id: str, number: int | None) -> PlanVersion:
    """The version asked for, else the approved one, else the latest draft."""
    return await tree_version(session, who, plan_id, number)


async def list_versions(session: AsyncSession, who: Principal, plan_id: str) -> list[PlanVersion]:
    await visible_plan(session, who, plan_id)
    return await repo.list_versions(session, plan_id)


async def get_version(session: AsyncSession, who: Principal, plan_id: str, number: int) -> PlanVersion:
    await visible_plan(session, who, plan_id)
    return await get_version_or_404(session, plan_id, number)


@dataclass(frozen=True, slots=True)
class ItemFilter:
    unit_code: str | None = None
    objective_code: str | None = None
    indicator_code: str | None = None
    level: str | None = None


def _kinds(collection: str, level: str | None) -> tuple[str, ...]:
    if collection == "objectives" and level is not None:
        return (f"{level}_objective",)
    return kinds_of(collection)


def item_body(collection: str, item: PlanItem) -> dict[str, Any]:
    """An item as served: objectives carry their kind (strategic or operational), other items do not."""
    return {"kind": item.kind, **item.data} if collection == "objectives" else item.data


async def list_items(
    session: AsyncSession,
    who: Principal,
    plan_id: str,
    collection: str,
    page: PageParams,
    *,
    number: int | None,
    filters: ItemFilter,
) -> tuple[PlanVersion, PageResult[PlanItem]]:
    version = await tree_version(session, who, plan_id, number)
    items = await repo.list_items(
        session,
        plan_id,
        version.number,
        _kinds(collection, filters.level),
        page,
        unit_code=filters.unit_code,
        objective_code=filters.objective_code,
        indicator_code=filters.indicator_code,
    )
    return version, items


async def get_item(
    session: AsyncSession, who: Principal, plan_id: str, collection: str, code: str, *, number: int | None
) -> tuple[PlanVersion, PlanItem]:
    version = await tree_version(session, who, plan_id, number)
    item = await repo.get_item(session, plan_id, version.number, kinds_of(collection), code)
    if item is None:
        raise NotFound(f"No {collection[:-1]} {code!r} in version {version.number} of {plan_id!r}.")
    return version, item

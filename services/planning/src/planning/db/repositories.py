"""Repositories of the planning service: they add, flush and query; the request's session commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from metas_kit.auth import ALL, Scope
from metas_kit.db import Executor, utcnow
from metas_kit.pagination import PageParams, PageResult, paginate
from planning.db.models import Organisation, Plan, PlanItem, PlanVersion
from planning.domain.items import index_items

DRAFT, APPROVED, SUPERSEDED = "draft", "approved", "superseded"


# --- organisations ---------------------------------------------------------------------------


async def get_organisation(session: AsyncSession, code: str) -> Organisation | None:
    return await session.get(Organisation, code)


async def list_organisations(session: AsyncSession, page: PageParams, *, among: Scope = ALL) -> PageResult[Any]:
    """A page of organisations by code, only those in ``among`` (the caller's organisations)."""
    stmt = select(Organisation)
    if among is not ALL:
        stmt = stmt.where(Organisation.code.in_(sorted(among)))
    return await paginate(session, stmt, [Organisation.code], page)


async def upsert_organisation(
    session: AsyncSession, data: dict[str, Any]
) -> tuple[Organisation, dict[str, Any] | None]:
    """(row, previous values if it changed); a new organisation gives previous == {}."""
    org = await get_organisation(session, data["code"])
    values = {"name": data["name"], "acronym": data.get("acronym"), "country": data["country"]}
    if org is None:
        org = Organisation(code=data["code"], **values)
        session.add(org)
        await session.flush()
        return org, {}
    before = {"name": org.name, "acronym": org.acronym, "country": org.country}
    if before == values:
        return org, None
    for key, value in values.items():
        setattr(org, key, value)
    await session.flush()
    return org, before


# --- plans -----------------------------------------------------------------------------------


async def get_plan(session: AsyncSession, plan_id: str, *, for_update: bool = False) -> Plan | None:
    stmt = select(Plan).where(Plan.id == plan_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def list_plans(
    session: AsyncSession,
    page: PageParams,
    *,
    framework: str | None = None,
    cycle_year: int | None = None,
    organisation: str | None = None,
    among: Scope = ALL,
) -> PageResult[Any]:
    """A page of plans by id, only those of the organisations in ``among`` (the caller's): no page or cursor
    shows another organisation's plan."""
    stmt = select(Plan)
    if among is not ALL:
        stmt = stmt.where(Plan.organisation_code.in_(sorted(among)))
    if framework:
        stmt = stmt.where(Plan.framework == framework)
    if cycle_year is not None:
        stmt = stmt.where(Plan.cycle_year == cycle_year)
    if organisation:
        stmt = stmt.where(Plan.organisation_code == organisation)
    return await paginate(session, stmt, [Plan.id], page)


async def add_plan(session: AsyncSession, plan: Plan) -> Plan:
    session.add(plan)
    await session.flush()
    return plan


# --- versions --------------------------------------------------------------------------------


async def get_version(session: AsyncSession, plan_id: str, number: int) -> PlanVersion | None:
    return await session.get(PlanVersion, (plan_id, number))


_PLAN = Plan.__table__.c
_VERSION = PlanVersion.__table__.c
_PLAN_FIELDS = ("id", "organisation_code", "framework", "cycle_year", "title", "current_version", "latest_version")


# The hot reads' statements are built once (values bound per call): building a select and its cache key per
# request cost more than a tenth of a conditional tree read.
_PLAN_ROW = select(*(_PLAN[name] for name in _PLAN_FIELDS)).where(_PLAN.id == bindparam("plan_id"))


def _served(document: bool) -> Any:
    wanted = func.coalesce(bindparam("number", type_=Integer), _PLAN.current_version, _PLAN.latest_version)
    columns = [_PLAN.organisation_code, _VERSION.number, _VERSION.etag, _VERSION.status]
    if document:
        columns.append(_VERSION.document)
    return (
        select(*columns)
        .select_from(Plan.__table__)
        .join(PlanVersion.__table__, (_VERSION.plan_id == _PLAN.id) & (_VERSION.number == wanted))
        .where(_PLAN.id == bindparam("plan_id"))
    )


_SERVED = {False: _served(False), True: _served(True)}


async def plan_row(db: Executor, plan_id: str) -> Any | None:
    """The plan's fields as a plain row (no ORM object: a read that only serves them)."""
    return (await db.execute(_PLAN_ROW, {"plan_id": plan_id})).first()


async def served_version(db: Executor, plan_id: str, number: int | None, *, document: bool) -> Any | None:
    """In one query: the plan's organisation and the number, ETag and status of the version a reader gets (the
    one asked for, else the approved one, else the latest draft), with its document when ``document``. None
    when the plan or that version does not exist."""
    return (await db.execute(_SERVED[document], {"plan_id": plan_id, "number": number})).first()


async def list_versions(session: AsyncSession, plan_id: str) -> list[PlanVersion]:
    stmt = select(PlanVersion).where(PlanVersion.plan_id == plan_id).order_by(PlanVersion.number)
    return list((await session.scalars(stmt)).all())


async def latest_draft(session: AsyncSession, plan_id: str) -> PlanVersion | None:
    stmt = (
        select(PlanVersion)
        .where(PlanVersion.plan_id == plan_id, PlanVersion.status == DRAFT)
        .order_by(PlanVersion.number.desc())
        .limit(1)
    )
    return await session.scalar(stmt)


async def add_version(session: AsyncSession, version: PlanVersion) -> PlanVersion:
    session.add(version)
    await session.flush()
    await replace_items(session, version.plan_id, version.number, version.document)
    return version


def _draft_with_etag(plan_id: str, number: int, etag: str) -> tuple[Any, ...]:
    """The draft version still holding ``etag``: the WHERE of every conditional write of a version."""
    return (
        PlanVersion.plan_id == plan_id,
        PlanVersion.number == number,
        PlanVersion.status == DRAFT,
        PlanVersion.etag == etag,
    )


async def update_document_if_match(
    session: AsyncSession,
    plan_id: str,
    number: int,
    *,
    expected_etag: str,
    document: dict[str, Any],
    content_hash: str,
    etag: str,
    warnings: list[dict[str, Any]],
) -> bool:
    """Conditional write of a draft's document: False when someone else changed it first.

    The WHERE on the ETag makes the check and the write one statement, so two concurrent edits
    of the same representation cannot both succeed (PostgreSQL re-checks the WHERE after the
    row lock is released; SQLite serialises writers with BEGIN IMMEDIATE).
    """
    result = await session.execute(
        update(PlanVersion)
        .where(*_draft_with_etag(plan_id, number, expected_etag))
        .values(
            document=document,
            content_hash=content_hash,
            etag=etag,
            warnings=warnings,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    await replace_items(session, plan_id, number, document)
    return True


async def set_status_if_match(
    session: AsyncSession, plan_id: str, number: int, *, expected_etag: str, status: str, by: str
) -> bool:
    values: dict[str, Any] = {"status": status, "updated_at": utcnow()}
    if status == APPROVED:
        values |= {"approved_at": utcnow(), "approved_by": by}
    result = await session.execute(
        update(PlanVersion)
        .where(*_draft_with_etag(plan_id, number, expected_etag))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1


async def supersede(session: AsyncSession, plan_id: str, number: int) -> None:
    await session.execute(
        update(PlanVersion)
        .where(PlanVersion.plan_id == plan_id, PlanVersion.number == number)
        .values(status=SUPERSEDED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def refresh(session: AsyncSession, obj: Any) -> None:
    await session.refresh(obj)


# --- items -----------------------------------------------------------------------------------


async def replace_items(session: AsyncSession, plan_id: str, number: int, document: dict[str, Any]) -> None:
    await session.execute(delete(PlanItem).where(PlanItem.plan_id == plan_id, PlanItem.version == number))
    session.add_all(
        PlanItem(
            plan_id=plan_id,
            version=number,
            kind=row.kind,
            code=row.code,
            position=row.position,
            name=row.name,
            unit_code=row.unit_code,
            objective_code=row.objective_code,
            indicator_code=row.indicator_code,
            data=row.data,
        )
        for row in index_items(document)
    )
    await session.flush()


async def list_items(
    session: AsyncSession,
    plan_id: str,
    number: int,
    kinds: Sequence[str],
    page: PageParams,
    *,
    unit_code: str | None = None,
    objective_code: str | None = None,
    indicator_code: str | None = None,
) -> PageResult[Any]:
    """A page of a version's items in document order (``position`` is unique within a version)."""
    stmt = select(PlanItem).where(PlanItem.plan_id == plan_id, PlanItem.version == number, PlanItem.kind.in_(kinds))
    if unit_code:
        stmt = stmt.where(PlanItem.unit_code == unit_code)
    if objective_code:
        stmt = stmt.where(PlanItem.objective_code == objective_code)
    if indicator_code:
        stmt = stmt.where(PlanItem.indicator_code == indicator_code)
    return await paginate(session, stmt, [PlanItem.position], page)


async def get_item(
    session: AsyncSession, plan_id: str, number: int, kinds: Sequence[str], code: str
) -> PlanItem | None:
    stmt = select(PlanItem).where(
        PlanItem.plan_id == plan_id,
        PlanItem.version == number,
        PlanItem.kind.in_(kinds),
        PlanItem.code == code,
    )
    return await session.scalar(stmt)

"""Audit trail: every write records who, when, what changed and the request id, in the service's own DB."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, BigInteger, DateTime, Insert, Integer, String, Table, desc, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from metas_kit.auth import ALL, AUDIT_READERS, Auditor, Principal
from metas_kit.context import current_request_id
from metas_kit.db import SessionDep, utcnow
from metas_kit.errors import PROBLEM_RESPONSES
from metas_kit.pagination import PageDep, paginate
from metas_kit.timestamps import UtcDateTime


class AuditEventMixin:
    """Mix into the service's declarative Base: ``class AuditEvent(AuditEventMixin, Base): pass``."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(60), index=True)
    entity_id: Mapped[str] = mapped_column(String(200), index=True)
    request_id: Mapped[str | None] = mapped_column(String(128), index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)


class OrganisationAuditEventMixin(AuditEventMixin):
    """The audit table of a service whose data belongs to organisations: the organisation of what was written,
    so the audit trail shows an auditor only their organisations' events. (Accounts' events are
    installation-level and keep the plain mixin.)"""

    organisation_code: Mapped[str | None] = mapped_column(String(64), index=True)


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """Field-level change set {field: [old, new]}; whole values for creates and deletes."""
    if before is None:
        return {"created": after}
    if after is None:
        return {"deleted": before}
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


_INSERTS: dict[type[AuditEventMixin], Insert] = {}


def _insert_into(model: type[AuditEventMixin]) -> Insert:
    stmt = _INSERTS.get(model)
    if stmt is None:
        stmt = _INSERTS[model] = insert(cast(Table, cast(Any, model).__table__))
    return stmt


async def record_audit(
    session: AsyncSession,
    model: type[AuditEventMixin],
    principal: Principal,
    *,
    action: str,
    entity_type: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    changes: dict[str, Any] | None = None,
    organisation: str | None = None,
) -> None:
    """Inserts the audit row in the request's transaction: the write and its audit commit together or not at all.
    One Core INSERT now rather than an ORM object flushed at commit (no unit of work for a row nothing reads
    back); the session's pending objects are not flushed by it.

    ``organisation`` (the organisation the written entity belongs to) is stored when the service's AuditEvent
    declares an ``organisation_code`` column (see ``audit_router``); None marks an installation-level event.
    """
    values: dict[str, Any] = {
        "at": utcnow(),
        "actor": principal.sub,
        "roles": sorted(principal.roles),
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "request_id": current_request_id(),
        "changes": changes if changes is not None else diff(before, after),
    }
    if hasattr(model, "organisation_code"):
        values["organisation_code"] = organisation
    # A Core statement would flush the session's pending objects first (SQLAlchemy 2): they stay for the commit,
    # as they did when the audit row was one more pending object.
    with session.no_autoflush:
        await session.execute(_insert_into(model), values)


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: UtcDateTime  # RFC 3339 with an offset on both backends (SQLite reads back naive UTC)
    actor: str
    roles: list[str]
    action: str
    entity_type: str
    entity_id: str
    request_id: str | None
    changes: dict[str, Any]
    organisation_code: str | None = None


class AuditPage(BaseModel):
    items: list[AuditEventRead]
    next_cursor: str | None


def audit_router(model: type[AuditEventMixin] | None = None) -> APIRouter:
    """``GET /v1/audit``. Without ``model``, the service's audit table is the one given to
    ``metas_kit.writes.configure_writes`` (so the routers need not import the ORM)."""
    router = APIRouter(prefix="/v1/audit", tags=["audit"])

    @router.get("", summary="Audit trail of writes", response_model=AuditPage, responses=PROBLEM_RESPONSES)
    async def list_audit(
        request: Request,
        session: SessionDep,
        who: Auditor,
        page: PageDep,
        entity_type: Annotated[str | None, Query(max_length=60)] = None,
        entity_id: Annotated[str | None, Query(max_length=200)] = None,
        actor: Annotated[str | None, Query(max_length=200)] = None,
        request_id: Annotated[str | None, Query(max_length=128)] = None,
    ) -> AuditPage:
        table = model if model is not None else request.app.state.write_models.audit
        cols: Any = table
        stmt = select(table)
        # An auditor of some organisations sees their events only; installation-level events (no organisation)
        # and a service that records no organisation are for installation-wide auditors alone.
        scope = who.orgs_for(AUDIT_READERS)
        if scope is not ALL:
            if not hasattr(table, "organisation_code"):
                return AuditPage(items=[], next_cursor=None)
            stmt = stmt.where(cols.organisation_code.in_(sorted(scope)))
        if entity_type:
            stmt = stmt.where(cols.entity_type == entity_type)
        if entity_id:
            stmt = stmt.where(cols.entity_id == entity_id)
        if actor:
            stmt = stmt.where(cols.actor == actor)
        if request_id:
            stmt = stmt.where(cols.request_id == request_id)
        found = await paginate(session, stmt, [desc(cols.id)], page)
        return AuditPage(items=[AuditEventRead.model_validate(r) for r in found.items], next_cursor=found.next_cursor)

    return router

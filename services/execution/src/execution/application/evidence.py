"""Evidence files of a registration: add (the unit's registrar), list and download (readers of the plan's
organisation), delete (the registrar, never once a certification covered the file); the items that require
evidence (planner); and the guard that refuses to certify without it.

The file's row, its content (default store) and the audit event are written in the request's transaction: a
failure anywhere leaves nothing behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from execution.application.access import organisation_of, visible_plan
from execution.application.guards import WriteGuard, plan_item, refuse
from execution.application.plans import LoadedPlan, clock
from execution.clients.s3 import ObjectStoreError
from execution.db.evidence import (
    EvidenceFile,
    EvidenceRequirement,
    certified_versions,
    count_evidence,
    evidence_of,
    get_evidence,
    get_requirement,
    requirements_of,
)
from execution.db.evidence_store import EvidenceStore, store_for
from execution.db.models import Registration
from execution.db.repositories import get_registration
from execution.domain.certification import CertificationState
from execution.domain.errors import InvalidPeriod
from execution.domain.evidence import (
    ALLOWED_TYPES,
    BadName,
    EvidenceRefused,
    check_content,
    clean_name,
    frozen_by,
    media_type,
)
from execution.domain.periods import Period
from execution.settings import Settings
from metas_kit.auth import Principal
from metas_kit.context import current_request_id
from metas_kit.errors import AppError, Conflict, Forbidden, NotFound, UpstreamUnavailable, ValidationFailed
from metas_kit.writes import WriteContext


class UnsupportedEvidenceType(AppError):
    status, type_slug, title = 415, "unsupported-evidence-type", "This type of file is not accepted as evidence"


class EvidenceContentRefused(AppError):
    status, type_slug, title = 422, "evidence-refused", "Evidence refused"


class EvidenceFrozen(Conflict):
    type_slug, title = "evidence-frozen", "Evidence covered by a certification"


class RegistrationCertified(Conflict):
    type_slug, title = "registration-certified", "Registration certified"


class TooManyEvidenceFiles(Conflict):
    type_slug, title = "too-many-evidence-files", "Too many evidence files"


BodyReader = Callable[[int], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class Target:
    plan: LoadedPlan
    registration: Registration


def settings_of(app: FastAPI) -> Settings:
    settings: Settings = app.state.settings
    return settings


def store_of(app: FastAPI) -> EvidenceStore:
    made: EvidenceStore | None = getattr(app.state, "evidence_store", None)  # the S3 store, made at start-up
    return made if made is not None else store_for(settings_of(app).evidence_store)


async def _target(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, item_code: str, period: str
) -> Target:
    plan = await visible_plan(app, session, who, plan_id)
    item = plan_item(plan.schedule, item_code)
    try:
        canonical = str(Period.parse(period))
    except InvalidPeriod as exc:
        raise ValidationFailed([{"path": "period", "message": str(exc)}]) from exc
    reg = await get_registration(session, plan_id, item.code, canonical)
    if reg is None:
        raise NotFound(f"No registration of {item.code} for {canonical} in plan {plan_id!r}.")
    return Target(plan, reg)


def _require_registrar(who: Principal, target: Target) -> None:
    unit = target.registration.unit_code
    if not who.can({"registrar"}, organisation_of(target.plan), unit):
        raise Forbidden(f"Only a registrar of unit {unit!r} adds or removes its evidence.")


def _snapshot(row: EvidenceFile) -> dict[str, Any]:
    return {
        "name": row.name,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "version_number": row.version_number,
    }


def _entity_id(reg: Registration, evidence_id: int) -> str:
    return f"{reg.plan_id}/{reg.item_code}/{reg.period}/{evidence_id}"


def admissible_type(declared: str | None) -> str:
    """The declared media type, parameters dropped; 415 when evidence may not be of that type."""
    kind = media_type(declared)
    if kind not in ALLOWED_TYPES:
        raise UnsupportedEvidenceType(
            f"Evidence may not be declared {kind or '(no Content-Type)'!r}.",
            extra={"accepted": sorted(ALLOWED_TYPES)},
        )
    return kind


async def add_evidence(
    ctx: WriteContext,
    plan_id: str,
    item_code: str,
    period: str,
    *,
    name: str,
    declared_type: str | None,
    read_body: BodyReader,
) -> EvidenceFile:
    """``read_body(limit)`` reads the upload, refusing (413) past ``limit`` bytes: called only once the caller
    may add evidence here, the name and the declared type are acceptable, so a refused upload is never read."""
    app, session, who = ctx.request.app, ctx.session, ctx.principal
    target = await _target(app, session, who, plan_id, item_code, period)
    _require_registrar(who, target)
    reg = target.registration
    try:
        stored_name = clean_name(name)
    except BadName as exc:
        raise ValidationFailed([{"path": "name", "message": str(exc)}]) from exc
    kind = admissible_type(declared_type)
    content = await read_body(settings_of(app).evidence_max_bytes)
    try:
        served_type = check_content(content, kind)
    except EvidenceRefused as exc:
        raise EvidenceContentRefused(str(exc), extra={"reason": exc.refusal.value}) from exc
    if reg.certification == CertificationState.CERTIFIED.value:
        raise RegistrationCertified(
            f"{reg.item_code} for {reg.period} is certified: its evidence is final; a new version may add more."
        )
    item = target.plan.facts.items[reg.item_code]
    period_value = Period.parse(reg.period)
    now = clock(app)
    refusal = await WriteGuard(session, target.plan.schedule).refusal(item, period_value, now)
    if refusal is not None:
        raise refuse(refusal, target.plan.schedule, item, period_value)
    limit = settings_of(app).evidence_max_files
    if await count_evidence(session, reg.id) >= limit:
        raise TooManyEvidenceFiles(f"A registration carries at most {limit} evidence files.")
    store = store_of(app)
    row = EvidenceFile(
        registration_id=reg.id,
        version_number=reg.version,
        name=stored_name,
        content_type=served_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        store=store.name,
        store_key="",
        created_at=now,
        created_by=who.sub,
        request_id=current_request_id(),
    )
    session.add(row)
    await session.flush()
    try:
        # The S3 store writes the object now, before the row commits (db/evidence_store.py).
        row.store_key = await store.put(session, row, content)
    except ObjectStoreError as exc:
        raise UpstreamUnavailable(
            "The evidence store could not keep the file; nothing was stored. Try again later."
        ) from exc
    await ctx.audit(
        "evidence", _entity_id(reg, row.id), "create", after=_snapshot(row), organisation=target.plan.organisation_code
    )
    return row


async def list_evidence(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, item_code: str, period: str
) -> list[EvidenceFile]:
    target = await _target(app, session, who, plan_id, item_code, period)
    return await evidence_of(session, target.registration.id)


async def evidence_file(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, item_code: str, period: str, evidence_id: int
) -> EvidenceFile:
    target = await _target(app, session, who, plan_id, item_code, period)
    row = await get_evidence(session, target.registration.id, evidence_id)
    if row is None:
        raise NotFound(f"No evidence {evidence_id} on {item_code} for {period}.")
    return row


async def evidence_content(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, item_code: str, period: str, evidence_id: int
) -> tuple[EvidenceFile, bytes]:
    row = await evidence_file(app, session, who, plan_id, item_code, period, evidence_id)
    try:
        return row, await store_of(app).get(session, row)
    except ObjectStoreError as exc:
        raise UpstreamUnavailable("The evidence store could not be read; try again later.") from exc


async def delete_evidence(ctx: WriteContext, plan_id: str, item_code: str, period: str, evidence_id: int) -> None:
    app, session, who = ctx.request.app, ctx.session, ctx.principal
    target = await _target(app, session, who, plan_id, item_code, period)
    _require_registrar(who, target)
    reg = target.registration
    row = await get_evidence(session, reg.id, evidence_id)
    if row is None:
        raise NotFound(f"No evidence {evidence_id} on {item_code} for {period}.")
    frozen = frozen_by(row.version_number, await certified_versions(session, reg.id))
    if frozen is not None:
        raise EvidenceFrozen(
            f"Evidence {row.id} was certified with version {frozen.certified_version}; it is never deleted.",
            extra={"certified_version": frozen.certified_version},
        )
    await store_of(app).delete(session, row)
    await session.delete(row)
    await ctx.audit(
        "evidence", _entity_id(reg, row.id), "delete", before=_snapshot(row), organisation=target.plan.organisation_code
    )


# ---- items that require evidence ("fonte de comprovação") ---------------------------------------------------


async def list_requirements(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str
) -> list[EvidenceRequirement]:
    await visible_plan(app, session, who, plan_id)
    return await requirements_of(session, plan_id)


def requirement_etag(row: EvidenceRequirement) -> str:
    """A strong ETag of an item's evidence requirement, from what it asks for."""
    return f'"evidence-requirement-{row.item_code}-{hashlib.sha256(row.source.encode()).hexdigest()[:16]}"'


async def current_requirement_etag(session: AsyncSession, plan_id: str, item_code: str) -> str | None:
    row = await get_requirement(session, plan_id, item_code)
    return requirement_etag(row) if row is not None else None


async def put_requirement(ctx: WriteContext, plan_id: str, item_code: str, *, source: str) -> EvidenceRequirement:
    app, session, who = ctx.request.app, ctx.session, ctx.principal
    plan = await visible_plan(app, session, who, plan_id)
    if not who.can({"planner"}, organisation_of(plan)):
        raise Forbidden("Only a planner of the plan's organisation sets which items require evidence.")
    item = plan_item(plan.schedule, item_code)
    row = await get_requirement(session, plan_id, item.code)
    before = {"source": row.source} if row is not None else None
    if row is not None and row.source == source:
        ctx.unchanged()  # nothing changes: no write, no audit event
        return row
    now = clock(app)
    if row is None:
        row = EvidenceRequirement(
            plan_id=plan_id, item_code=item.code, source=source, updated_at=now, updated_by=who.sub
        )
        session.add(row)
    else:
        row.source, row.updated_at, row.updated_by = source, now, who.sub
    await session.flush()
    await ctx.audit(
        "evidence_requirement",
        f"{plan_id}/{item.code}",
        "put",
        before=before,
        after={"source": source},
        organisation=plan.organisation_code,
    )
    return row


async def delete_requirement(ctx: WriteContext, plan_id: str, item_code: str) -> None:
    app, session, who = ctx.request.app, ctx.session, ctx.principal
    plan = await visible_plan(app, session, who, plan_id)
    if not who.can({"planner"}, organisation_of(plan)):
        raise Forbidden("Only a planner of the plan's organisation sets which items require evidence.")
    row = await get_requirement(session, plan_id, item_code)
    if row is None:
        raise NotFound(f"Item {item_code!r} of plan {plan_id!r} requires no evidence.")
    await session.delete(row)
    await ctx.audit(
        "evidence_requirement",
        f"{plan_id}/{item_code}",
        "delete",
        before={"source": row.source},
        organisation=plan.organisation_code,
    )

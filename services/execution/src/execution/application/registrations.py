"""Registrations: new values (versions), certification and rejection, the bulk import, and the reads.

Every write runs inside the kit's write envelope (``metas_kit.writes``): these functions get its ``WriteContext``
(the transaction, the caller, the audit) and do the guards and the transaction's work; the envelope did the
replay and the preconditions before and remembers the answer after.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from execution.application.evidence_guard import require_evidence_to_certify
from execution.application.guards import (
    IMPORTERS,
    IllegalTransitionError,
    WriteGuard,
    may_register,
    owed_period,
    parse_period,
    plan_item,
    refuse,
    require_unit_writer,
)
from execution.application.plans import (
    LoadedPlan,
    clock,
    unit_visible,
    visible_plan,
    visible_units,
    writable_plan,
)
from execution.application.value_checks import history_rule, warnings_for, warnings_for_rows, warnings_from
from execution.db import repositories as repo
from execution.db.bulk import (
    CurrentRow,
    StaleRows,
    current_rows,
    current_values,
    insert_registrations,
    insert_versions,
    update_registrations,
)
from execution.db.models import Registration, RegistrationVersion
from execution.db.registration_rows import (
    RegistrationRow,
    WriteState,
    insert_registration,
    insert_version,
    plan_context_and_write_state,
    update_registration,
    write_state,
)
from execution.db.repositories import PlanContext, RegistrationFilter
from execution.domain.certification import (
    CertificationAction,
    CertificationState,
    certifier_conflict,
    independence_of,
    transition,
)
from execution.domain.errors import IllegalTransition, InvalidPeriod, InvalidRegistration
from execution.domain.justifications import needs_justification
from execution.domain.periods import Period
from execution.domain.registrations import ItemKind, PlanItem, normalise_payload
from execution.domain.status import deadline_status
from metas_kit.auth import ALL, Principal
from metas_kit.context import current_request_id
from metas_kit.errors import AppError, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from metas_kit.etag import version_etag
from metas_kit.pagination import PageParams
from metas_kit.writes import WriteContext

CERTIFIERS = frozenset({"certifier"})
__all__ = ["RegistrationFilter"]  # the list's filter, built by the router


class SelfCertification(AppError):
    status, type_slug, title = 403, "self-certification", "A registrant cannot certify their own registration"


class JustificationRequired(AppError):
    status, type_slug, title = 422, "justification-required", "A justification is required"


JUSTIFICATION_MESSAGE = "the value deviates from the target ({band}): say why in justification"


def _band_text(item: PlanItem) -> str:
    band = item.justification_band
    if band is None:
        return ""
    low = "" if band.min is None else f"at least {band.min}"
    high = "" if band.max is None else f"at most {band.max}"
    return " and ".join(t for t in (low, high) if t)


def justification_problem(item: PlanItem) -> JustificationRequired:
    band = item.justification_band
    message = JUSTIFICATION_MESSAGE.format(band=_band_text(item))
    return JustificationRequired(
        f"{item.code}: {message}.",
        extra={
            "errors": [{"path": "justification", "message": message, "type": "justification_required"}],
            "justification_band": band.as_json() if band else None,
        },
    )


def clean_justification(text: str | None) -> str | None:
    return (text or "").strip() or None


# A registration as the ORM loads it (reads, certification) or as the single writes read it (a plain row).
AnyRegistration = Registration | RegistrationRow


def registration_etag(reg: AnyRegistration) -> str:
    return version_etag("reg", reg.id, reg.version)


def representation(reg: AnyRegistration, plan: LoadedPlan, now: datetime) -> dict[str, Any]:
    dates = plan.schedule.dates(Period.parse(reg.period))
    item = plan.facts.items.get(reg.item_code)
    band = item.justification_band if item else None
    return {
        "plan_id": reg.plan_id,
        "item_code": reg.item_code,
        "item_kind": reg.item_kind,
        "unit_code": reg.unit_code,
        "period": reg.period,
        "version": reg.version,
        "payload": reg.payload,
        "certification": reg.certification,
        "rejection_reason": reg.rejection_reason,
        "certified_by": reg.certified_by,
        "certified_at": reg.certified_at,
        "first_registered_at": reg.first_registered_at,
        "updated_at": reg.updated_at,
        "updated_by": reg.updated_by,
        "due_date": dates.due_date.isoformat(),
        "deadline": dates.deadline,
        "status": deadline_status(dates.deadline, reg.first_registered_at, now).value,
        "justification": reg.justification,
        "justification_band": band.as_json() if band else None,
        "justification_required": needs_justification(band, reg.payload),
        "warnings": reg.warnings or [],
        "changed_since_certified": bool(reg.changed_since_certified),
        "certified_version": reg.certified_version,
        "etag": registration_etag(reg),
    }


def snapshot(reg: AnyRegistration) -> dict[str, Any]:
    return {
        "version": reg.version,
        "payload": reg.payload,
        "justification": reg.justification,
        "certification": reg.certification,
        "rejection_reason": reg.rejection_reason,
    }


def _entity_id(reg: AnyRegistration) -> str:
    return f"{reg.plan_id}/{reg.item_code}/{reg.period}"


async def _visible_registration(
    session: AsyncSession, who: Principal, plan: LoadedPlan, item_code: str, period: str
) -> Registration:
    reg = await repo.get_registration(session, plan.facts.plan_id, item_code, period)
    if reg is None or not unit_visible(visible_units(who, plan), reg.unit_code):
        raise NotFound(f"No registration of {item_code} for {period} in plan {plan.facts.plan_id!r}.")
    return reg


# ---- reads ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RegistrationRead:
    body: dict[str, Any]
    etag: str


async def read_registration(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, item_code: str, period: str
) -> RegistrationRead:
    plan = await visible_plan(app, session, who, plan_id)
    reg = await _visible_registration(session, who, plan, item_code, period)
    return RegistrationRead(representation(reg, plan, clock(app)), registration_etag(reg))


async def current_etag(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, item_code: str, period: str
) -> str | None:
    """The registration's ETag for the envelope's preconditions (None when it does not exist yet). A plan the
    caller may not see answers 404 here, before any precondition is compared."""
    plan = await visible_plan(app, session, who, plan_id)
    reg = await repo.get_registration(session, plan.facts.plan_id, item_code, period)
    if reg is not None and not unit_visible(visible_units(who, plan), reg.unit_code):
        raise Forbidden(f"You may not act on unit {reg.unit_code!r}.")  # the plan is visible, the unit is not
    return registration_etag(reg) if reg is not None else None


async def submit_etag(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, item_code: str, period: str
) -> str | None:
    """``current_etag`` for a new value (PUT): the same answers, and the same round trip reads what ``submit``
    checks next (the period's lock; the item's bounds and certified history), kept for it. When the plan is
    not loaded in this session yet (a PUT's first read), its settings and closures come in that round trip too."""
    states: list[WriteState] = []
    window = history_rule(app).window

    async def context_and_state(organisation_code: str | None) -> PlanContext:
        context, state = await plan_context_and_write_state(
            session, plan_id, organisation_code, item_code, period, history_window=window
        )
        states.append(state)
        return context

    plan = await visible_plan(app, session, who, plan_id, read_context=context_and_state)
    checked = True  # the bounds and the history were read
    if not states:  # the plan was loaded before, without this registration
        item = plan.facts.items.get(item_code)
        checked = item is not None and item.kind is ItemKind.INDICATOR
        states.append(
            await write_state(
                session, plan.facts.plan_id, item_code, period, history_window=window if checked else None
            )
        )
    state = states[0]
    reg = state.registration
    if reg is not None and not unit_visible(visible_units(who, plan), reg.unit_code):
        raise Forbidden(f"You may not act on unit {reg.unit_code!r}.")  # the plan is visible, the unit is not
    session.info.setdefault(_SESSION_WRITE_STATES, {})[(plan.facts.plan_id, item_code, period)] = (checked, state)
    return registration_etag(reg) if reg is not None else None


# The state the preconditions read, kept for the write that follows in the same transaction (until the session
# next flushes). The registration is not read again: a concurrent update is caught by the UPDATE's version
# guard. A registration that did not exist is read again: a concurrent create shows then.
_SESSION_WRITE_STATES = "execution.precondition_write_states"


@event.listens_for(Session, "after_flush")
def _forget_precondition_reads(session: Session, _context: object) -> None:
    session.info.pop(_SESSION_WRITE_STATES, None)


async def _state_for_write(
    app: FastAPI, session: AsyncSession, plan_id: str, item: PlanItem, period: str
) -> WriteState:
    """The write's state: the one the preconditions read when it holds what this item needs (an indicator's
    bounds and history), else read now."""
    indicator = item.kind is ItemKind.INDICATOR
    kept: dict[tuple[str, str, str], tuple[bool, WriteState]] = session.info.get(_SESSION_WRITE_STATES, {})
    found = kept.pop((plan_id, item.code, period), None)
    if found is not None and (found[0] or not indicator) and found[1].registration is not None:
        return found[1]
    window = history_rule(app).window if indicator else None
    return await write_state(session, plan_id, item.code, period, history_window=window)


@dataclass(frozen=True, slots=True)
class RegistrationsPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


async def list_registrations(
    app: FastAPI,
    session: AsyncSession,
    who: Principal,
    plan_id: str,
    flt: repo.RegistrationFilter,
    page: PageParams,
) -> RegistrationsPage:
    plan = await visible_plan(app, session, who, plan_id)
    scope = visible_units(who, plan)
    result = await repo.page_registrations(session, plan_id, flt, page, units=None if scope is ALL else scope)
    now = clock(app)
    return RegistrationsPage([representation(r, plan, now) for r in result.items], result.next_cursor)


@dataclass(frozen=True, slots=True)
class VersionHistory:
    current_version: int
    versions: list[RegistrationVersion]


async def history(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, item_code: str, period: str
) -> VersionHistory:
    plan = await visible_plan(app, session, who, plan_id)
    reg = await _visible_registration(session, who, plan, item_code, period)
    return VersionHistory(reg.version, await repo.versions_of(session, reg.id))


async def current_snapshot(
    app: FastAPI,
    session: AsyncSession,
    who: Principal,
    plan_id: str,
    *,
    period_to: str | None,
    unit_code: str | None,
    item_code: str | None,
) -> dict[str, Any]:
    """The current value of every owed (item, period) up to a period — what scoring reads (as ``service``)."""
    plan = await visible_plan(app, session, who, plan_id)
    scope = visible_units(who, plan)
    facts = plan.facts
    to = parse_period(period_to, "period_to") if period_to else facts.last_period
    now = clock(app)
    # One query of plain rows (no ORM objects); per-period values worked out once per period.
    regs = await current_values(session, plan_id, str(to))
    items: list[dict[str, Any]] = []
    for period in facts.periods():
        if period > to:
            break
        key = str(period)
        dates = plan.schedule.dates(period)
        due, deadline = dates.due_date.isoformat(), dates.deadline
        unregistered = deadline_status(deadline, None, now).value
        for item in plan.schedule.owed_items(period):
            if (unit_code and item.unit_code != unit_code) or (item_code and item.code != item_code):
                continue
            if not unit_visible(scope, item.unit_code):
                continue
            row: dict[str, Any] = {
                "item_code": item.code,
                "item_kind": item.kind.value,
                "unit_code": item.unit_code,
                "period": key,
                "due_date": due,
            }
            reg = regs.get((item.code, key))
            if reg is None:
                row.update(
                    registered=False,
                    version=None,
                    payload=None,
                    certification=None,
                    certified=False,
                    status=unregistered,
                    first_registered_at=None,
                    updated_at=None,
                )
            else:
                version, payload, certification, first_at, updated_at = reg
                row.update(
                    registered=True,
                    version=version,
                    payload=payload,
                    certification=certification,
                    certified=certification == CertificationState.CERTIFIED,
                    status=deadline_status(deadline, first_at, now).value,
                    first_registered_at=first_at,
                    updated_at=updated_at,
                )
            items.append(row)
    return {
        "plan_id": plan_id,
        "plan_version": plan.tree.version or facts.version,
        "period_to": str(to),
        "as_of": now,
        "items": items,
    }


# ---- the dry run of a write ------------------------------------------------------------------------------------
async def check(
    app: FastAPI,
    session: AsyncSession,
    who: Principal,
    plan_id: str,
    item_code: str,
    period_text: str,
    payload: dict[str, Any],
    justification: str | None,
) -> dict[str, Any]:
    """What a PUT of this body would say of the value, writing nothing: whether it needs a justification, the
    warnings it would get, and the payload's or the justification's errors (guards of the window, locks and
    certification are not run: the obligation's ``writable`` says those)."""
    plan = await visible_plan(app, session, who, plan_id)
    item = plan_item(plan.schedule, item_code)
    period = owed_period(plan.schedule, item, period_text)
    band = item.justification_band
    out: dict[str, Any] = {
        "justification_required": False,
        "justification_band": band.as_json() if band else None,
        "warnings": [],
        "errors": [],
    }
    try:
        canonical = normalise_payload(item, payload)
    except InvalidRegistration as exc:
        out["errors"].append(payload_problem(exc))
        return out
    out["justification_required"] = needs_justification(band, canonical)
    if out["justification_required"] and clean_justification(justification) is None:
        message = JUSTIFICATION_MESSAGE.format(band=_band_text(item))
        out["errors"].append({"path": "justification", "message": message, "type": "justification_required"})
    out["warnings"] = await warnings_for(session, app, plan, item, period, canonical)
    return out


# ---- single writes ---------------------------------------------------------------------------------------------
def _version(
    reg: Registration, number: int, action: str, reason: str | None, at: datetime, who: str
) -> RegistrationVersion:
    return RegistrationVersion(
        number=number,
        action=action,
        payload=reg.payload,
        certification=reg.certification,
        reason=reason,
        created_at=at,
        created_by=who,
        request_id=current_request_id(),
        justification=reg.justification,
        warnings=reg.warnings or [],
    )


STALE_WRITE = "Another writer changed this registration first; read it again and reapply your change."


async def _flush_update(session: AsyncSession) -> None:
    try:
        await repo.flush(session)
    except StaleDataError as exc:
        raise PreconditionFailed(STALE_WRITE) from exc


@dataclass(frozen=True, slots=True)
class Written:
    body: dict[str, Any]
    etag: str
    created: bool


async def submit(
    ctx: WriteContext,
    app: FastAPI,
    plan_id: str,
    item_code: str,
    period_text: str,
    payload: dict[str, Any],
    *,
    reason: str | None,
    expected_etag: str | None,
    justification: str | None = None,
) -> Written:
    """Register a new value: a new registration (version 1) or a new version of the current one.
    ``expected_etag`` is the state the envelope's preconditions were checked against (None: absent).

    Core statements, no ORM unit of work: one UPDATE guarded by the version read (or one INSERT), one INSERT of
    the version row; the audit row goes through the envelope."""
    session, who = ctx.session, ctx.principal
    plan = await visible_plan(app, session, who, plan_id)
    item = plan_item(plan.schedule, item_code)
    require_unit_writer(who, plan, item)
    period = owed_period(plan.schedule, item, period_text)
    state = await _state_for_write(app, session, plan.facts.plan_id, item, str(period))
    existing = state.registration
    if (registration_etag(existing) if existing else None) != expected_etag:
        # Another writer got in between the preconditions and this read: the caller's If-Match / If-None-Match
        # was checked against a state that no longer holds.
        raise PreconditionFailed(
            f"{item.code} for {period} was changed concurrently; read it again and send If-Match.",
            extra={"current_etag": registration_etag(existing)} if existing else None,
        )
    at = clock(app)
    state_before = CertificationState(existing.certification) if existing else None
    refusal = await WriteGuard(session, plan.schedule, locked={period: state.locked}).refusal(item, period, at)
    if refusal is not None:
        raise refuse(refusal, plan.schedule, item, period)
    step = transition(state_before, CertificationAction.SUBMIT)  # a certified value goes back for certification
    try:
        canonical = normalise_payload(item, payload)
    except InvalidRegistration as exc:
        raise ValidationFailed([payload_problem(exc)]) from exc
    justification = clean_justification(justification)
    if justification is None and needs_justification(item.justification_band, canonical):
        raise justification_problem(item)
    warnings = warnings_from(app, item, canonical, state.bounds, state.history)
    if existing is None:
        values: dict[str, Any] = {
            "plan_id": plan_id,
            "item_code": item.code,
            "period": str(period),
            "item_kind": item.kind.value,
            "unit_code": item.unit_code,
            "version": 1,
            "payload": canonical,
            "certification": step.after.value,
            "rejection_reason": None,
            "certified_by": None,
            "certified_at": None,
            "first_registered_at": at,
            "first_registered_by": who.sub,
            "updated_at": at,
            "updated_by": who.sub,
            "justification": justification,
            "warnings": warnings,
            "certified_version": None,
            "changed_since_certified": False,
        }
        try:
            reg = RegistrationRow(id=await insert_registration(session, values), **values)
        except IntegrityError as exc:
            raise PreconditionFailed(
                f"{item.code} for {period} was registered concurrently; read it and send If-Match."
            ) from exc
    else:
        # Every submission is a new version, even one that changes nothing else (same value, same user, same
        # instant). A value submitted after a certification (over the certified value, or after a reject) is
        # flagged for the certifier; certified_version keeps the number of the last certify version.
        reg = replace(
            existing,
            version=existing.version + 1,
            payload=canonical,
            justification=justification,
            warnings=warnings,
            certification=step.after.value,
            changed_since_certified=existing.certified_version is not None,
            rejection_reason=None,
            certified_at=None,
            certified_by=None,
            updated_at=at,
            updated_by=who.sub,
        )
        written = await update_registration(
            session,
            existing,
            payload=canonical,
            justification=justification,
            warnings=warnings,
            certification=reg.certification,
            at=at,
            by=who.sub,
        )
        if not written:
            raise PreconditionFailed(STALE_WRITE)
    await insert_version(
        session,
        {
            "registration_id": reg.id,
            "number": reg.version,
            "action": step.action.value,
            "payload": reg.payload,
            "certification": reg.certification,
            "reason": reason,
            "created_at": at,
            "created_by": who.sub,
            "request_id": current_request_id(),
            "justification": reg.justification,
            "warnings": reg.warnings or [],
        },
    )
    await ctx.audit(
        "registration",
        _entity_id(reg),
        "submit",
        before=snapshot(existing) if existing else None,
        after=snapshot(reg),
        organisation=plan.organisation_code,
    )
    ctx.headers["Location"] = f"/v1/plans/{plan_id}/registrations/{item_code}/{period}"
    return Written(representation(reg, plan, at), registration_etag(reg), existing is None)


async def decide(
    ctx: WriteContext,
    app: FastAPI,
    plan_id: str,
    item_code: str,
    period_text: str,
    action: CertificationAction,
    *,
    reason: str | None,
) -> Written:
    """Certify or reject a registration. A locked period refuses it too, unless an exception covers it; the
    person who registered the value may not decide on it (the plan's certifier independence)."""
    session, who = ctx.session, ctx.principal
    plan = await visible_plan(app, session, who, plan_id)
    item = plan_item(plan.schedule, item_code)
    reg = await _visible_registration(session, who, plan, item_code, str(parse_period(period_text)))
    if not who.can(CERTIFIERS, plan.organisation, item.unit_code):
        raise Forbidden(f"You may not certify registrations of plan {plan_id!r}.")
    rule = independence_of(plan.certifier_independence)
    if certifier_conflict(who.sub, await repo.submitters_of(session, reg.id), rule):
        raise SelfCertification(
            f"You registered this value, so another certifier must {action.value} it (segregation of duties).",
            extra={"certifier_independence": rule.value},
        )
    period = Period.parse(reg.period)
    try:
        step = transition(CertificationState(reg.certification), action, reason)
    except IllegalTransition as exc:
        raise IllegalTransitionError(str(exc), extra={"state": reg.certification, "action": action.value}) from exc
    at = clock(app)
    refusal = await WriteGuard(session, plan.schedule).refusal(item, period, at, check_window=False)
    if refusal is not None:
        raise refuse(refusal, plan.schedule, item, period)
    if action is CertificationAction.CERTIFY:
        await require_evidence_to_certify(session, reg)
    before = snapshot(reg)
    reg.certification = step.after.value
    if action is CertificationAction.CERTIFY:
        reg.certified_by, reg.certified_at, reg.rejection_reason = who.sub, at, None
        # The certify version's number: the UPDATE below moves the version counter by one.
        reg.certified_version, reg.changed_since_certified = reg.version + 1, False
    else:
        reg.certified_by, reg.certified_at, reg.rejection_reason = None, None, step.reason
    reg.updated_at = at
    reg.updated_by = who.sub
    await _flush_update(session)
    version = _version(reg, reg.version, action.value, step.reason, at, who.sub)
    version.registration_id = reg.id
    repo.add(session, version)
    await ctx.audit(
        "registration",
        _entity_id(reg),
        action.value,
        before=before,
        after=snapshot(reg),
        organisation=plan.organisation_code,
    )
    return Written(representation(reg, plan, at), registration_etag(reg), False)


def payload_problem(exc: InvalidRegistration) -> dict[str, str]:
    return {"path": exc.field, "message": str(exc), "type": "invalid_registration"}


# ---- the bulk import --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ImportRow:
    item_code: str
    period: str
    payload: dict[str, Any]
    registered_at: datetime | None
    reason: str | None
    justification: str | None = None


@dataclass(frozen=True, slots=True)
class _Valid:
    """An import row that passed validation, with its canonical payload."""

    index: int
    item: PlanItem
    period: Period
    key: tuple[str, str]
    payload: dict[str, Any]
    at: datetime
    reason: str | None
    justification: str | None
    warnings: list[dict[str, Any]] = field(default_factory=list)


def _row_error(index: int, path: str, message: str) -> dict[str, Any]:
    return {"row": index, "path": path, "message": message, "type": "import_row"}


def _detail(exc: Exception) -> str:
    return getattr(exc, "detail", None) or str(exc)


async def import_registrations(
    ctx: WriteContext, app: FastAPI, plan_id: str, rows_in: list[ImportRow], *, reason: str | None
) -> tuple[int, int]:
    """Validate every row, then write them all in a handful of set-based statements, or nothing (422 listing
    every bad row). Registrars import for the units they register for; ``registered_at`` (back-dating a value
    from another system) is for ``service`` and admins only."""
    session, who = ctx.session, ctx.principal
    plan = await writable_plan(app, session, who, plan_id, IMPORTERS)
    schedule = plan.schedule
    now = clock(app)
    system = who.can({"service"}, plan.organisation)
    errors: list[dict[str, Any]] = []
    forbidden: list[dict[str, Any]] = []
    rows: list[_Valid] = []
    first_row: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows_in):
        path = f"registrations[{index}]"
        item = schedule.facts.items.get(row.item_code)
        if item is None:
            errors.append(_row_error(index, f"{path}.item_code", f"unknown item {row.item_code!r}"))
            continue
        if not system and not may_register(who, plan, item.unit_code):
            forbidden.append(
                _row_error(index, f"{path}.item_code", f"you may not register for unit {item.unit_code!r}")
            )
            continue
        try:
            period = owed_period(schedule, item, row.period)
        except (InvalidPeriod, NotFound) as exc:
            errors.append(_row_error(index, f"{path}.period", _detail(exc)))
            continue
        key = (row.item_code, str(period))
        if key in first_row:
            errors.append(_row_error(index, path, f"{row.item_code} {period} repeats row {first_row[key]}"))
            continue
        first_row[key] = index
        if row.registered_at is not None:
            if not system:
                forbidden.append(
                    _row_error(index, f"{path}.registered_at", "only systems (service) may back-date a value")
                )
                continue
            if row.registered_at > now:
                errors.append(_row_error(index, f"{path}.registered_at", "registered_at is in the future"))
                continue
        try:
            canonical = normalise_payload(item, row.payload)
        except InvalidRegistration as exc:
            errors.append(_row_error(index, f"{path}.{exc.field}", str(exc)))
            continue
        justification = clean_justification(row.justification)
        if justification is None and needs_justification(item.justification_band, canonical):
            message = JUSTIFICATION_MESSAGE.format(band=_band_text(item))
            errors.append({**_row_error(index, f"{path}.justification", message), "type": "justification_required"})
            continue
        rows.append(
            _Valid(index, item, period, key, canonical, row.registered_at or now, row.reason or reason, justification)
        )
    if forbidden:
        why = "; ".join(dict.fromkeys(e["message"] for e in forbidden))
        raise Forbidden(
            f"{len(forbidden)} row(s) you may not write ({why}); nothing was imported.", extra={"errors": forbidden}
        )
    # One query for every current row the import touches (not one per row), locked until commit.
    existing = await current_rows(session, plan_id, [r.key for r in rows])
    guard = WriteGuard(session, schedule)
    if not errors:
        for r in rows:
            refusal = await guard.refusal(r.item, r.period, r.at)
            if refusal is not None:
                problem = refuse(refusal, schedule, r.item, r.period)
                errors.append(
                    {**_row_error(r.index, f"registrations[{r.index}]", problem.detail), "reason": refusal.value}
                )
    if errors:
        raise ValidationFailed(errors, f"{len(errors)} bad row(s); nothing was imported.")
    found = await warnings_for_rows(session, app, plan, [(r.item, r.period, r.payload) for r in rows])
    rows = [replace(r, warnings=w) for r, w in zip(rows, found, strict=True)]
    created, updated = await _write(session, plan_id, who, sorted(rows, key=lambda r: (r.at, r.index)), existing)
    await ctx.audit(
        "registration",
        plan_id,
        "import",
        changes={"created": created, "updated": updated, "reason": reason},
        organisation=plan.organisation_code,
    )
    return created, updated


async def _write(
    session: AsyncSession,
    plan_id: str,
    principal: Principal,
    rows: list[_Valid],
    existing: dict[tuple[str, str], CurrentRow],
) -> tuple[int, int]:
    """Apply validated rows in a handful of set-based statements: new rows (version 1) in one multi-row
    INSERT, new versions of existing rows in one executemany UPDATE (each under its version check), and
    every version row (action, who, when, why, request id) in one INSERT. Same rows as single writes."""
    who, request_id = principal.sub, current_request_id()
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    versions: list[tuple[_Valid, int | None, int, str]] = []  # row, id (None: new), number, certification
    for r in rows:
        current = existing.get(r.key)
        state = CertificationState(current.certification) if current else None
        after = transition(state, CertificationAction.SUBMIT).after.value  # certified goes back to submitted
        if current is None:
            new.append(
                {
                    "plan_id": plan_id,
                    "item_code": r.item.code,
                    "period": r.key[1],
                    "item_kind": r.item.kind.value,
                    "unit_code": r.item.unit_code,
                    "version": 1,
                    "payload": r.payload,
                    "justification": r.justification,
                    "warnings": r.warnings,
                    "certified_version": None,
                    "changed_since_certified": False,
                    "certification": after,
                    "rejection_reason": None,
                    "certified_by": None,
                    "certified_at": None,
                    "first_registered_at": r.at,
                    "first_registered_by": who,
                    "updated_at": r.at,
                    "updated_by": who,
                }
            )
            versions.append((r, None, 1, after))
        else:
            number = current.version + 1  # always a new version, even when nothing else differs
            changed.append(
                {
                    "b_id": current.id,
                    "b_version": current.version,
                    "b_new_version": number,
                    "b_payload": r.payload,
                    "b_justification": r.justification,
                    "b_warnings": r.warnings,
                    "b_certification": after,
                    "b_at": r.at,
                    "b_by": who,
                }
            )
            versions.append((r, current.id, number, after))
    ids = await insert_registrations(session, new)
    try:
        await update_registrations(session, changed)
    except StaleRows as exc:
        raise PreconditionFailed(
            f"Another writer changed registrations during the import ({exc}); nothing was imported."
        ) from exc
    await insert_versions(
        session,
        [
            {
                "registration_id": reg_id if reg_id is not None else ids[r.key],
                "number": number,
                "action": CertificationAction.SUBMIT.value,
                "payload": r.payload,
                "justification": r.justification,
                "warnings": r.warnings,
                "certification": certification,
                "reason": r.reason,
                "created_at": r.at,
                "created_by": who,
                "request_id": request_id,
            }
            for r, reg_id, number, certification in versions
        ],
    )
    return len(new), len(changed)

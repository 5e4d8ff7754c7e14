"""Registration writes: new values (versions), certification and rejection, with their guards.

Used by the single-write endpoints; the bulk import (api/registrations.py, db/bulk.py) writes set-based but
applies the same guards (WriteGuard, refuse, owed_period) and the same payload and certification rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from execution.application.evidence_guard import require_evidence_to_certify
from execution.db.base import AuditEvent
from execution.db.models import LockException, Registration, RegistrationVersion
from execution.db.repositories import exception_covers, exceptions_of, get_lock
from execution.domain.certification import CertificationAction, CertificationState, transition
from execution.domain.errors import IllegalTransition, InvalidRegistration
from execution.domain.periods import Period
from execution.domain.registrations import PlanItem, normalise_payload
from execution.domain.schedule import PlanSchedule, WriteRefusal, write_refusal
from execution.domain.status import deadline_status
from metas_kit.audit import record_audit
from metas_kit.auth import Principal
from metas_kit.context import current_request_id
from metas_kit.errors import AppError, Conflict, Forbidden, NotFound, PreconditionFailed
from metas_kit.etag import version_etag

_REFUSAL_TEXT = {
    WriteRefusal.EXPIRED: "the write window of {period} closed at the end of {closing}",
    WriteRefusal.LOCKED: "{period} is locked after evaluation",
    WriteRefusal.CERTIFIED: "the registration is certified; a certifier must reject it first",
}


class PeriodClosed(AppError):
    status, type_slug, title = 409, "period-closed", "Period closed for writes"


class IllegalTransitionError(Conflict):
    type_slug, title = "illegal-transition", "Illegal certification transition"


def registration_etag(reg: Registration) -> str:
    return version_etag("reg", reg.id, reg.version)


def plan_item(schedule: PlanSchedule, item_code: str) -> PlanItem:
    item = schedule.facts.items.get(item_code)
    if item is None:
        raise NotFound(f"Item {item_code!r} is not in plan {schedule.facts.plan_id!r}.")
    return item


def owed_period(schedule: PlanSchedule, item: PlanItem, period_text: str) -> Period:
    period = Period.parse(period_text)
    if not schedule.facts.owes(item, period):
        raise NotFound(
            f"Item {item.code!r} owes no registration for {period} "
            f"(plan cycle {schedule.facts.cycle_year}, periodicity {item.periodicity or 'monthly'})."
        )
    return period


def require_unit_writer(principal: Principal, item: PlanItem) -> None:
    if principal.roles & {"admin", "service"}:
        return
    if "registrar" in principal.roles and principal.may_write_unit(item.unit_code):
        return
    raise Forbidden(f"You may not register for unit {item.unit_code!r}.")


class WriteGuard:
    """Lock and exception look-ups for one request, cached per period (imports write many rows)."""

    def __init__(self, session: AsyncSession, schedule: PlanSchedule) -> None:
        self._session = session
        self._schedule = schedule
        self._locked: dict[Period, bool] = {}
        self._exceptions: dict[Period, list[LockException]] = {}

    async def _is_locked(self, period: Period) -> bool:
        if period not in self._locked:
            lock = await get_lock(self._session, self._schedule.facts.plan_id, str(period))
            self._locked[period] = lock is not None
        return self._locked[period]

    async def _excepted(self, item: PlanItem, period: Period, at: datetime) -> bool:
        if period not in self._exceptions:
            self._exceptions[period] = await exceptions_of(self._session, self._schedule.facts.plan_id, str(period))
        return any(exception_covers(e, item.code, item.unit_code, at) for e in self._exceptions[period])

    async def refusal(
        self,
        item: PlanItem,
        period: Period,
        at: datetime,
        *,
        certified: bool,
        check_window: bool = True,
    ) -> WriteRefusal | None:
        window_closed = check_window and at >= self._schedule.dates(period).closes_at
        locked = await self._is_locked(period)
        excepted = (locked or window_closed) and await self._excepted(item, period, at)
        return write_refusal(certified=certified, locked=locked, window_closed=window_closed, excepted=excepted)


def refuse(refusal: WriteRefusal, schedule: PlanSchedule, item: PlanItem, period: Period) -> PeriodClosed:
    dates = schedule.dates(period)
    text = _REFUSAL_TEXT[refusal].format(period=period, closing=dates.closing_date.isoformat())
    return PeriodClosed(
        f"Writing {item.code} for {period} is refused: {text}.",
        extra={"reason": refusal.value, "period": str(period), "item_code": item.code},
    )


def snapshot(reg: Registration) -> dict[str, Any]:
    return {
        "version": reg.version,
        "payload": reg.payload,
        "certification": reg.certification,
        "rejection_reason": reg.rejection_reason,
    }


@dataclass(frozen=True, slots=True)
class SubmitResult:
    registration: Registration
    created: bool


async def _flush_update(session: AsyncSession) -> None:
    try:
        await session.flush()
    except StaleDataError as exc:
        raise PreconditionFailed(
            "Another writer changed this registration first; read it again and reapply your change."
        ) from exc


async def submit(
    session: AsyncSession,
    schedule: PlanSchedule,
    principal: Principal,
    item: PlanItem,
    period: Period,
    payload: dict[str, Any],
    *,
    reason: str | None,
    at: datetime,
    existing: Registration | None,
) -> SubmitResult:
    """Register a new value: a new registration (version 1) or a new version of ``existing``."""
    state = CertificationState(existing.certification) if existing else None
    refusal = await WriteGuard(session, schedule).refusal(
        item, period, at, certified=state is CertificationState.CERTIFIED
    )
    if refusal is not None:
        raise refuse(refusal, schedule, item, period)
    step = transition(state, CertificationAction.SUBMIT)  # certified is refused above
    canonical = normalise_payload(item, payload)
    before = snapshot(existing) if existing else None
    if existing is None:
        reg = Registration(
            plan_id=schedule.facts.plan_id,
            item_code=item.code,
            period=str(period),
            item_kind=item.kind.value,
            unit_code=item.unit_code,
            payload=canonical,
            certification=step.after.value,
            first_registered_at=at,
            first_registered_by=principal.sub,
            updated_at=at,
            updated_by=principal.sub,
        )
        reg.versions.append(_version(reg, 1, step.action.value, reason, at, principal))
        session.add(reg)
        try:
            await session.flush()
        except IntegrityError as exc:
            raise PreconditionFailed(
                f"{item.code} for {period} was registered concurrently; read it and send If-Match."
            ) from exc
    else:
        reg = existing
        reg.payload = canonical
        reg.certification = step.after.value
        reg.rejection_reason = None
        reg.certified_at = None
        reg.certified_by = None
        reg.updated_at = at
        reg.updated_by = principal.sub
        # Every submission is a new version, even one that changes no column (same value, same user, same
        # instant): force the UPDATE so the version counter moves and the new version row does not collide.
        flag_modified(reg, "updated_at")
        await _flush_update(session)
        version = _version(reg, reg.version, step.action.value, reason, at, principal)
        version.registration_id = reg.id
        session.add(version)
    await _audit(session, principal, "submit", reg, before)
    return SubmitResult(reg, existing is None)


async def decide(
    session: AsyncSession,
    schedule: PlanSchedule,
    principal: Principal,
    item: PlanItem,
    reg: Registration,
    action: CertificationAction,
    *,
    reason: str | None,
    at: datetime,
) -> Registration:
    """Certify or reject ``reg``. A locked period refuses it too, unless an exception covers it."""
    period = Period.parse(reg.period)
    try:
        step = transition(CertificationState(reg.certification), action, reason)
    except IllegalTransition as exc:
        raise IllegalTransitionError(str(exc), extra={"state": reg.certification, "action": action.value}) from exc
    refusal = await WriteGuard(session, schedule).refusal(item, period, at, certified=False, check_window=False)
    if refusal is not None:
        raise refuse(refusal, schedule, item, period)
    if action is CertificationAction.CERTIFY:
        await require_evidence_to_certify(session, reg)
    before = snapshot(reg)
    reg.certification = step.after.value
    if action is CertificationAction.CERTIFY:
        reg.certified_by, reg.certified_at, reg.rejection_reason = principal.sub, at, None
    else:
        reg.certified_by, reg.certified_at, reg.rejection_reason = None, None, step.reason
    reg.updated_at = at
    reg.updated_by = principal.sub
    await _flush_update(session)
    version = _version(reg, reg.version, action.value, step.reason, at, principal)
    version.registration_id = reg.id
    session.add(version)
    await _audit(session, principal, action.value, reg, before)
    return reg


def _version(
    reg: Registration,
    number: int,
    action: str,
    reason: str | None,
    at: datetime,
    principal: Principal,
) -> RegistrationVersion:
    return RegistrationVersion(
        number=number,
        action=action,
        payload=reg.payload,
        certification=reg.certification,
        reason=reason,
        created_at=at,
        created_by=principal.sub,
        request_id=current_request_id(),
    )


async def _audit(
    session: AsyncSession,
    principal: Principal,
    action: str,
    reg: Registration,
    before: dict[str, Any] | None,
) -> None:
    await record_audit(
        session,
        AuditEvent,
        principal,
        action=f"registration.{action}",
        entity_type="registration",
        entity_id=f"{reg.plan_id}/{reg.item_code}/{reg.period}",
        before=before,
        after=snapshot(reg),
    )


def representation(reg: Registration, schedule: PlanSchedule, now: datetime) -> dict[str, Any]:
    period = Period.parse(reg.period)
    dates = schedule.dates(period)
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
        "certified_at": iso(reg.certified_at),
        "first_registered_at": iso(reg.first_registered_at),
        "updated_at": iso(reg.updated_at),
        "updated_by": reg.updated_by,
        "due_date": dates.due_date.isoformat(),
        "deadline": iso(dates.deadline),
        "status": deadline_status(dates.deadline, reg.first_registered_at, now).value,
    }


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z suffix."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def payload_problem(exc: InvalidRegistration, path: str = "payload") -> dict[str, str]:
    return {"path": path, "message": str(exc), "type": "invalid_registration"}

"""Registrations: read, write (versions), certify/reject, history, bulk import, scoring snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from execution.api.schemas import (
    CODE_PATTERN,
    PERIOD_PATTERN,
    PLAN_ID_MAX_LENGTH,
    PLAN_ID_PATTERN,
    CurrentSnapshot,
    ImportBody,
    ImportResult,
    RegistrationOut,
    RegistrationPage,
    RegistrationWrite,
    RejectBody,
    VersionList,
    VersionOut,
)
from execution.db.base import AuditEvent, IdempotencyRecord
from execution.db.bulk import (
    CurrentRow,
    StaleRows,
    current_rows,
    current_values,
    insert_registrations,
    insert_versions,
    update_registrations,
)
from execution.db.models import Registration
from execution.db.repositories import (
    RegistrationFilter,
    get_registration,
    page_registrations,
    versions_of,
)
from execution.domain.certification import CertificationAction, CertificationState, transition
from execution.domain.errors import InvalidPeriod, InvalidRegistration
from execution.domain.periods import Period
from execution.domain.registrations import PlanItem, normalise_payload
from execution.domain.status import deadline_status
from execution.plans import LoadedPlan, clock, load_plan
from execution.workflow import (
    WriteGuard,
    decide,
    iso,
    owed_period,
    payload_problem,
    plan_item,
    refuse,
    registration_etag,
    representation,
    require_unit_writer,
    submit,
)
from metas_kit.audit import record_audit
from metas_kit.auth import Principal, Reader, require_roles
from metas_kit.context import current_request_id
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES, NotFound, PreconditionFailed, ValidationFailed
from metas_kit.etag import not_modified, require_if_match
from metas_kit.idempotency import remember, replay
from metas_kit.pagination import PageDep, encode_cursor

# Single writes are the registrars' (for the units in their token; admin anywhere). Systems with the `service`
# role feed registrations through :import only (docs/api/execution.md, docs/architecture.md).
Writer = Annotated[Principal, Depends(require_roles("registrar"))]
Certifier = Annotated[Principal, Depends(require_roles("certifier"))]
Importer = Annotated[Principal, Depends(require_roles("service"))]

PlanId = Annotated[str, Path(max_length=PLAN_ID_MAX_LENGTH, pattern=PLAN_ID_PATTERN, examples=["ii-2024-quar"])]
ItemCode = Annotated[str, Path(max_length=100, pattern=CODE_PATTERN)]
PeriodPath = Annotated[str, Path(pattern=PERIOD_PATTERN, examples=["2014-03"])]
PeriodQuery = Annotated[str | None, Query(pattern=PERIOD_PATTERN)]

router = APIRouter(prefix="/v1/plans/{plan_id}/registrations", tags=["registrations"])


def parse_period(text: str, path: str = "period") -> Period:
    """A period from the request; one the domain refuses is a 422 naming the parameter."""
    try:
        return Period.parse(text)
    except InvalidPeriod as exc:
        raise ValidationFailed([{"path": path, "message": str(exc), "type": "period"}]) from exc


async def _existing(session: SessionDep, plan_id: str, item_code: str, period: str) -> Registration:
    reg = await get_registration(session, plan_id, item_code, period)
    if reg is None:
        raise NotFound(f"No registration of {item_code} for {period} in plan {plan_id!r}.")
    return reg


def _json(body: dict[str, Any], status: int, etag: str | None = None) -> JSONResponse:
    headers = {"ETag": etag} if etag else None
    return JSONResponse(body, status_code=status, headers=headers)


@router.get(
    "/current",
    summary="Current value of every owed (item, period) up to a period (for scoring)",
    response_model=CurrentSnapshot,
    responses=PROBLEM_RESPONSES,
)
async def current_snapshot(
    plan_id: PlanId,
    request: Request,
    session: SessionDep,
    _who: Reader,
    period_to: PeriodQuery = None,
    unit_code: Annotated[str | None, Query(max_length=100)] = None,
    item_code: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    loaded = await load_plan(request, session, plan_id)
    facts = loaded.facts
    to = parse_period(period_to, "period_to") if period_to else facts.last_period
    now = clock(request.app)
    # One query of plain rows (no ORM objects); per-period values worked out once per period.
    regs = await current_values(session, plan_id, str(to))
    items: list[dict[str, Any]] = []
    for period in facts.periods():
        if period > to:
            break
        key = str(period)
        dates = loaded.schedule.dates(period)
        due, deadline = dates.due_date.isoformat(), dates.deadline
        unregistered = deadline_status(deadline, None, now).value
        for item in loaded.schedule.owed_items(period):
            if (unit_code and item.unit_code != unit_code) or (item_code and item.code != item_code):
                continue
            reg = regs.get((item.code, key))
            if reg is None:
                items.append(_snapshot_item(item, key, due, unregistered))
                continue
            version, payload, certification, first_at, updated_at = reg
            items.append(
                {
                    "item_code": item.code,
                    "item_kind": item.kind.value,
                    "unit_code": item.unit_code,
                    "period": key,
                    "registered": True,
                    "version": version,
                    "payload": payload,
                    "certification": certification,
                    "certified": certification == CertificationState.CERTIFIED,
                    "due_date": due,
                    "status": deadline_status(deadline, first_at, now).value,
                    "first_registered_at": iso(first_at),
                    "updated_at": iso(updated_at),
                }
            )
    body = {
        "plan_id": plan_id,
        "plan_version": loaded.tree.version or facts.version,
        "period_to": str(to),
        "as_of": iso(now) or "",
        "items": items,
    }
    return JSONResponse(body)  # the CurrentSnapshot shape (response_model), built directly: 2k rows a call


def _snapshot_item(item: PlanItem, period: str, due: str, status: str) -> dict[str, Any]:
    return {
        "item_code": item.code,
        "item_kind": item.kind.value,
        "unit_code": item.unit_code,
        "period": period,
        "registered": False,
        "version": None,
        "payload": None,
        "certification": None,
        "certified": False,
        "due_date": due,
        "status": status,
        "first_registered_at": None,
        "updated_at": None,
    }


@router.post(
    ":import",
    summary="Bulk import of registrations (one transaction, all or nothing)",
    response_model=ImportResult,
    status_code=200,
    responses=PROBLEM_RESPONSES,
)
async def import_registrations(
    plan_id: PlanId,
    body: ImportBody,
    request: Request,
    session: SessionDep,
    principal: Importer,
) -> Response:
    raw = body.model_dump(mode="json")
    replayed = await replay(session, IdempotencyRecord, request, principal, raw)
    if replayed is not None:
        return replayed
    loaded = await load_plan(request, session, plan_id)
    schedule = loaded.schedule
    now = clock(request.app)
    errors: list[dict[str, Any]] = []
    rows: list[_Valid] = []
    first_row: dict[tuple[str, str], int] = {}
    for index, row in enumerate(body.registrations):
        path = f"registrations[{index}]"
        item = schedule.facts.items.get(row.item_code)
        if item is None:
            errors.append(_row_error(index, f"{path}.item_code", f"unknown item {row.item_code!r}"))
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
        if row.registered_at is not None and row.registered_at > now:
            errors.append(_row_error(index, f"{path}.registered_at", "registered_at is in the future"))
            continue
        try:
            canonical = normalise_payload(item, row.payload)
        except InvalidRegistration as exc:
            errors.append(_row_error(index, f"{path}.payload", str(exc)))
            continue
        rows.append(_Valid(index, item, period, key, canonical, row.registered_at or now, row.reason or body.reason))
    # One query for every current row the import touches (not one per row), locked until commit.
    existing = await current_rows(session, plan_id, [r.key for r in rows])
    guard = WriteGuard(session, schedule)
    if not errors:
        for r in rows:
            current = existing.get(r.key)
            refusal = await guard.refusal(
                r.item, r.period, r.at, certified=bool(current and current.certification == "certified")
            )
            if refusal is not None:
                problem = refuse(refusal, schedule, r.item, r.period)
                errors.append(
                    {**_row_error(r.index, f"registrations[{r.index}]", problem.detail), "reason": refusal.value}
                )
    if errors:
        raise ValidationFailed(errors, f"{len(errors)} bad row(s); nothing was imported.")
    created, updated = await _write(session, plan_id, principal, sorted(rows, key=lambda r: (r.at, r.index)), existing)
    await record_audit(
        session,
        AuditEvent,
        principal,
        action="registration.import",
        entity_type="plan",
        entity_id=plan_id,
        changes={"created": created, "updated": updated, "reason": body.reason},
    )
    out = ImportResult(plan_id=plan_id, created=created, updated=updated).model_dump(mode="json")
    remember(session, IdempotencyRecord, request, principal, raw, status_code=200, body=out)
    return _json(out, 200)


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


async def _write(
    session: SessionDep,
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
        after = transition(state, CertificationAction.SUBMIT).after.value  # certified was refused above
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


def _row_error(index: int, path: str, message: str) -> dict[str, Any]:
    return {"row": index, "path": path, "message": message, "type": "import_row"}


def _detail(exc: Exception) -> str:
    return getattr(exc, "detail", None) or str(exc)


@router.get(
    "",
    summary="Current registrations of a plan (paginated)",
    response_model=RegistrationPage,
    responses=PROBLEM_RESPONSES,
)
async def list_registrations(
    plan_id: PlanId,
    request: Request,
    session: SessionDep,
    _who: Reader,
    page: PageDep,
    unit_code: Annotated[str | None, Query(max_length=100)] = None,
    item_code: Annotated[str | None, Query(max_length=100)] = None,
    period: PeriodQuery = None,
    period_from: PeriodQuery = None,
    period_to: PeriodQuery = None,
    certification: Annotated[CertificationState | None, Query()] = None,
) -> RegistrationPage:
    loaded = await load_plan(request, session, plan_id)
    flt = RegistrationFilter(
        unit_code=unit_code,
        item_code=item_code,
        period=period,
        period_from=period_from,
        period_to=period_to,
        certification=certification.value if certification else None,
    )
    rows = await page_registrations(session, plan_id, flt, limit=page.limit, after=page.cursor)
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    now = clock(request.app)
    nxt = encode_cursor({"p": rows[-1].period, "i": rows[-1].item_code}) if more and rows else None
    return RegistrationPage(
        items=[RegistrationOut(**representation(r, loaded.schedule, now)) for r in rows],
        next_cursor=nxt,
    )


@router.post(
    "/{item_code}/{period}:certify",
    summary="Certify a submitted registration",
    response_model=RegistrationOut,
    responses=PROBLEM_RESPONSES,
)
async def certify(
    plan_id: PlanId,
    item_code: ItemCode,
    period: PeriodPath,
    request: Request,
    session: SessionDep,
    principal: Certifier,
) -> Response:
    return await _decide(plan_id, item_code, period, request, session, principal, None)


@router.post(
    "/{item_code}/{period}:reject",
    summary="Reject a registration with a reason (the registrar then resubmits)",
    response_model=RegistrationOut,
    responses=PROBLEM_RESPONSES,
)
async def reject(
    plan_id: PlanId,
    item_code: ItemCode,
    period: PeriodPath,
    body: RejectBody,
    request: Request,
    session: SessionDep,
    principal: Certifier,
) -> Response:
    return await _decide(plan_id, item_code, period, request, session, principal, body.reason)


async def _decide(
    plan_id: str,
    item_code: str,
    period: str,
    request: Request,
    session: SessionDep,
    principal: Principal,
    reason: str | None,
) -> Response:
    action = CertificationAction.CERTIFY if reason is None else CertificationAction.REJECT
    raw = {"action": action.value, "reason": reason}
    replayed = await replay(session, IdempotencyRecord, request, principal, raw)
    if replayed is not None:
        return replayed
    loaded = await load_plan(request, session, plan_id)
    item = plan_item(loaded.schedule, item_code)
    reg = await _existing(session, plan_id, item_code, str(parse_period(period)))
    require_if_match(request, registration_etag(reg))
    now = clock(request.app)
    reg = await decide(session, loaded.schedule, principal, item, reg, action, reason=reason, at=now)
    out = representation(reg, loaded.schedule, now)
    etag = registration_etag(reg)
    remember(
        session,
        IdempotencyRecord,
        request,
        principal,
        raw,
        status_code=200,
        body=out,
        headers={"ETag": etag},
    )
    return _json(out, 200, etag)


@router.get(
    "/{item_code}/{period}/versions",
    summary="Full history of a registration",
    response_model=VersionList,
    responses=PROBLEM_RESPONSES,
)
async def list_versions(
    plan_id: PlanId,
    item_code: ItemCode,
    period: PeriodPath,
    session: SessionDep,
    _who: Reader,
) -> VersionList:
    reg = await _existing(session, plan_id, item_code, period)
    versions = await versions_of(session, reg.id)
    return VersionList(
        plan_id=plan_id,
        item_code=item_code,
        period=period,
        current_version=reg.version,
        versions=[VersionOut.model_validate(v) for v in versions],
    )


@router.get(
    "/{item_code}/{period}",
    summary="One registration (current version) with its ETag",
    response_model=RegistrationOut,
    responses=PROBLEM_RESPONSES,
)
async def get_one(
    plan_id: PlanId,
    item_code: ItemCode,
    period: PeriodPath,
    request: Request,
    session: SessionDep,
    _who: Reader,
) -> Response:
    loaded = await load_plan(request, session, plan_id)
    reg = await _existing(session, plan_id, item_code, period)
    etag = registration_etag(reg)
    if not_modified(request, etag):
        return Response(status_code=304, headers={"ETag": etag})
    return _json(representation(reg, loaded.schedule, clock(request.app)), 200, etag)


@router.put(
    "/{item_code}/{period}",
    summary="Register a value (creates, or appends a new version with If-Match)",
    response_model=RegistrationOut,
    responses={**PROBLEM_RESPONSES, 201: {"model": RegistrationOut}},
)
async def put_registration(
    plan_id: PlanId,
    item_code: ItemCode,
    period: PeriodPath,
    body: RegistrationWrite,
    request: Request,
    session: SessionDep,
    principal: Writer,
) -> Response:
    raw = body.model_dump(mode="json")
    replayed = await replay(session, IdempotencyRecord, request, principal, raw)
    if replayed is not None:
        return replayed
    loaded: LoadedPlan = await load_plan(request, session, plan_id)
    item = plan_item(loaded.schedule, item_code)
    require_unit_writer(principal, item)
    owed = owed_period(loaded.schedule, item, period)
    existing = await get_registration(session, plan_id, item_code, str(owed))
    if existing is None:
        if_match = request.headers.get("if-match")
        if if_match is not None:
            raise PreconditionFailed("If-Match was sent but the registration does not exist yet.")
    else:
        if request.headers.get("if-none-match", "").strip() == "*":
            raise PreconditionFailed(
                "The registration already exists (If-None-Match: *).",
                extra={"current_etag": registration_etag(existing)},
            )
        require_if_match(request, registration_etag(existing))
    now = clock(request.app)
    try:
        result = await submit(
            session,
            loaded.schedule,
            principal,
            item,
            owed,
            body.payload,
            reason=body.reason,
            at=now,
            existing=existing,
        )
    except InvalidRegistration as exc:
        raise ValidationFailed([payload_problem(exc)]) from exc
    reg = result.registration
    out = representation(reg, loaded.schedule, now)
    status = 201 if result.created else 200
    etag = registration_etag(reg)
    headers = {"ETag": etag, "Location": f"/v1/plans/{plan_id}/registrations/{item_code}/{owed}"}
    remember(session, IdempotencyRecord, request, principal, raw, status_code=status, body=out, headers=headers)
    return JSONResponse(out, status_code=status, headers=headers)

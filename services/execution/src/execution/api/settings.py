"""Per-plan registration settings kept by execution (keys the plan document does not carry)."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from execution.api.registrations import PlanId, parse_period
from execution.api.schemas import RegistrationSettingsBody, RegistrationSettingsOut
from execution.db.base import AuditEvent, IdempotencyRecord
from execution.db.models import PlanRegistrationSettings
from execution.domain.calendars import BusinessCalendar, CalendarSpec
from execution.domain.errors import CalendarError
from execution.plans import clock, load_plan
from metas_kit.audit import record_audit
from metas_kit.auth import Principal, Reader, require_roles
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES, PreconditionFailed, ValidationFailed
from metas_kit.etag import not_modified, require_if_match, version_etag
from metas_kit.idempotency import remember, replay

Planner = Annotated[Principal, Depends(require_roles("planner"))]

router = APIRouter(prefix="/v1/plans/{plan_id}/registration-settings", tags=["settings"])


def _out(plan_id: str, row: PlanRegistrationSettings | None) -> dict[str, Any]:
    return RegistrationSettingsOut(
        plan_id=plan_id,
        catch_up_through=row.catch_up_through if row else None,
        closing_month=row.closing_month if row else None,
        holiday_categories=row.holiday_categories if row else None,
        openings=list(row.openings or ()) if row else [],
        timezone=row.timezone if row else None,
        version=row.version if row else 0,
    ).model_dump(mode="json")


def _etag(plan_id: str, row: PlanRegistrationSettings | None) -> str:
    return version_etag("settings", plan_id, row.version if row else 0)


@router.get(
    "", summary="Registration settings of a plan", response_model=RegistrationSettingsOut, responses=PROBLEM_RESPONSES
)
async def get_settings(plan_id: PlanId, request: Request, session: SessionDep, _who: Reader) -> Response:
    row = await session.get(PlanRegistrationSettings, plan_id)
    etag = _etag(plan_id, row)
    if not_modified(request, etag):
        return Response(status_code=304, headers={"ETag": etag})
    return JSONResponse(_out(plan_id, row), headers={"ETag": etag})


@router.put(
    "",
    summary="Set the registration settings of a plan (If-Match once they exist)",
    response_model=RegistrationSettingsOut,
    responses=PROBLEM_RESPONSES,
)
async def put_settings(
    plan_id: PlanId,
    body: RegistrationSettingsBody,
    request: Request,
    session: SessionDep,
    principal: Planner,
) -> Response:
    raw = body.model_dump(mode="json")
    replayed = await replay(session, IdempotencyRecord, request, principal, raw)
    if replayed is not None:
        return replayed
    loaded = await load_plan(request, session, plan_id)
    row = await session.get(PlanRegistrationSettings, plan_id)
    if row is not None:
        require_if_match(request, _etag(plan_id, row))
    elif request.headers.get("if-match") not in (None, "*", _etag(plan_id, None)):
        raise PreconditionFailed("If-Match does not match: the plan has no settings yet.")
    errors: list[dict[str, str]] = []
    catch_up = parse_period(body.catch_up_through, "catch_up_through") if body.catch_up_through else None
    if catch_up is not None and catch_up.year != loaded.facts.cycle_year:
        errors.append({"path": "catch_up_through", "message": "must be a period of the plan's cycle year"})
    if body.timezone:
        try:
            ZoneInfo(body.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            errors.append({"path": "timezone", "message": f"unknown time zone {body.timezone!r}"})
    if body.holiday_categories is not None:
        spec = loaded.facts.calendar
        try:
            BusinessCalendar(
                CalendarSpec(country=spec.country, subdiv=spec.subdiv, categories=tuple(body.holiday_categories))
            )
        except CalendarError as exc:
            errors.append({"path": "holiday_categories", "message": str(exc)})
    if errors:
        raise ValidationFailed(errors)
    before = _out(plan_id, row) if row else None
    now = clock(request.app)
    if row is None:
        row = PlanRegistrationSettings(plan_id=plan_id, updated_at=now, updated_by=principal.sub)
        session.add(row)
    row.catch_up_through = body.catch_up_through
    row.closing_month = body.closing_month
    row.holiday_categories = body.holiday_categories
    row.openings = sorted(d.isoformat() for d in body.openings)
    row.timezone = body.timezone
    row.updated_at = now
    row.updated_by = principal.sub
    await session.flush()
    out = _out(plan_id, row)
    await record_audit(
        session,
        AuditEvent,
        principal,
        action="settings.put",
        entity_type="registration_settings",
        entity_id=plan_id,
        before=before,
        after=out,
    )
    etag = _etag(plan_id, row)
    remember(session, IdempotencyRecord, request, principal, raw, status_code=200, body=out, headers={"ETag": etag})
    return JSONResponse(out, headers={"ETag": etag})

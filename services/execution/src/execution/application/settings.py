"""Per-plan registration settings kept by execution (keys the plan document does not carry)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from execution.application.guards import parse_period
from execution.application.plans import clock, visible_plan, writable_plan
from execution.db import repositories as repo
from execution.db.models import PlanRegistrationSettings
from execution.domain.calendars import BusinessCalendar, CalendarSpec
from execution.domain.certification import CertifierIndependence, independence_of
from execution.domain.errors import CalendarError
from metas_kit.auth import Principal
from metas_kit.errors import ValidationFailed
from metas_kit.etag import version_etag
from metas_kit.writes import WriteContext

PLANNERS = frozenset({"planner"})


@dataclass(frozen=True, slots=True)
class SettingsInput:
    catch_up_through: str | None
    closing_month: int | None
    holiday_categories: list[str] | None
    openings: list[date]
    timezone: str | None
    certifier_independence: CertifierIndependence | None


def settings_etag(plan_id: str, row: PlanRegistrationSettings | None) -> str:
    return version_etag("settings", plan_id, row.version if row else 0)


def view(plan_id: str, row: PlanRegistrationSettings | None) -> dict[str, Any]:
    return {
        "plan_id": plan_id,
        "catch_up_through": row.catch_up_through if row else None,
        "closing_month": row.closing_month if row else None,
        "holiday_categories": row.holiday_categories if row else None,
        "openings": list(row.openings or ()) if row else [],
        "timezone": row.timezone if row else None,
        "certifier_independence": independence_of(row.certifier_independence if row else None).value,
        "version": row.version if row else 0,
    }


async def read_settings(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str
) -> tuple[dict[str, Any], str]:
    await visible_plan(app, session, who, plan_id)
    row = await repo.get_plan_settings(session, plan_id)
    return view(plan_id, row), settings_etag(plan_id, row)


async def current_etag(app: FastAPI, session: AsyncSession, who: Principal, plan_id: str) -> tuple[str, bool]:
    """The settings' ETag (version 0 before any are set) and whether they exist (then If-Match is required)."""
    await visible_plan(app, session, who, plan_id)
    row = await repo.get_plan_settings(session, plan_id)
    return settings_etag(plan_id, row), row is not None


async def put_settings(
    ctx: WriteContext, app: FastAPI, plan_id: str, body: SettingsInput
) -> tuple[dict[str, Any], str]:
    session, who = ctx.session, ctx.principal
    plan = await writable_plan(app, session, who, plan_id, PLANNERS)
    row = await repo.get_plan_settings(session, plan_id)
    errors: list[dict[str, str]] = []
    catch_up = parse_period(body.catch_up_through, "catch_up_through") if body.catch_up_through else None
    if catch_up is not None and catch_up.year != plan.facts.cycle_year:
        errors.append({"path": "catch_up_through", "message": "must be a period of the plan's cycle year"})
    if body.timezone:
        try:
            ZoneInfo(body.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            errors.append({"path": "timezone", "message": f"unknown time zone {body.timezone!r}"})
    if body.holiday_categories is not None:
        spec = plan.facts.calendar
        try:
            BusinessCalendar(
                CalendarSpec(country=spec.country, subdiv=spec.subdiv, categories=tuple(body.holiday_categories))
            )
        except CalendarError as exc:
            errors.append({"path": "holiday_categories", "message": str(exc)})
    # Segregation of duties only ever gets stricter: omitting it keeps the current rule.
    current_rule = independence_of(row.certifier_independence if row else None)
    rule = body.certifier_independence or current_rule
    if rule.strictness < current_rule.strictness:
        errors.append(
            {
                "path": "certifier_independence",
                "message": f"the plan requires {current_rule.value!r}; the rule can only be made stricter",
            }
        )
    if errors:
        raise ValidationFailed(errors)
    before = view(plan_id, row) if row else None
    now = clock(app)
    if row is None:
        row = PlanRegistrationSettings(plan_id=plan_id, updated_at=now, updated_by=who.sub)
        repo.add(session, row)
    row.catch_up_through = body.catch_up_through
    row.closing_month = body.closing_month
    row.holiday_categories = body.holiday_categories
    row.openings = sorted(d.isoformat() for d in body.openings)
    row.timezone = body.timezone
    row.certifier_independence = None if rule is CertifierIndependence.VERSION else rule.value
    row.updated_at = now
    row.updated_by = who.sub
    await repo.flush(session)
    out = view(plan_id, row)
    await ctx.audit(
        "registration_settings", plan_id, "update", before=before, after=out, organisation=plan.organisation_code
    )
    return out, settings_etag(plan_id, row)

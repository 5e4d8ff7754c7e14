"""Warnings on registered values (domain/outliers.py), and the bounds planners set per item."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from execution.application.guards import plan_item
from execution.application.plans import LoadedPlan, clock, visible_plan
from execution.db.value_checks import (
    ItemValueBounds,
    bounds_of,
    certified_payloads_before,
    certified_payloads_of,
    get_bounds,
)
from execution.domain.justifications import registered_value
from execution.domain.outliers import Bounds, HistoryRule, value_warnings
from execution.domain.periods import Period
from execution.domain.registrations import ItemKind, PlanItem
from execution.settings import Settings
from metas_kit.auth import Principal
from metas_kit.errors import Forbidden, NotFound, ValidationFailed
from metas_kit.numbers import MEASURE, InvalidNumber, decimal_text, to_decimal
from metas_kit.writes import WriteContext


def history_rule(app: FastAPI) -> HistoryRule:
    settings: Settings = app.state.settings
    return HistoryRule(settings.history_band_k, settings.history_band_window, settings.history_band_min_values)


def _bounds(row: ItemValueBounds | None) -> Bounds | None:
    if row is None:
        return None
    return _bounds_of(row.min_value, row.max_value)


def _bounds_of(min_value: str | None, max_value: str | None) -> Bounds:
    return Bounds(
        to_decimal(min_value) if min_value is not None else None,
        to_decimal(max_value) if max_value is not None else None,
    )


async def warnings_for(
    session: AsyncSession, app: FastAPI, plan: LoadedPlan, item: PlanItem, period: Period, payload: dict[str, Any]
) -> list[dict[str, Any]]:
    """The warnings a new value of an indicator gets; none for other kinds of item."""
    if item.kind is not ItemKind.INDICATOR or registered_value(payload) is None:
        return []
    row = await get_bounds(session, plan.facts.plan_id, item.code)
    window = history_rule(app).window
    past = await certified_payloads_before(session, plan.facts.plan_id, item.code, str(period), window)
    return warnings_from(app, item, payload, (row.min_value, row.max_value) if row else None, past)


def warnings_from(
    app: FastAPI,
    item: PlanItem,
    payload: dict[str, Any],
    bounds: tuple[str | None, str | None] | None,
    past: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """``warnings_for`` from what was already read: the item's bounds (min, max; None: none set) and the
    payloads of its certified registrations before the period, newest first (at most the rule's window)."""
    if item.kind is not ItemKind.INDICATOR:
        return []
    value = registered_value(payload)
    if value is None:
        return []
    rule = history_rule(app)
    configured = _bounds_of(*bounds) if bounds is not None else None
    history = [v for v in (registered_value(p) for p in past[: rule.window]) if v is not None]
    return value_warnings(value, configured, history, rule)


async def warnings_for_rows(
    session: AsyncSession, app: FastAPI, plan: LoadedPlan, rows: list[tuple[PlanItem, Period, dict[str, Any]]]
) -> list[list[dict[str, Any]]]:
    """The warnings of many new values (an import) from two queries, as ``warnings_for`` gives them one by one."""
    codes = [item.code for item, _, _ in rows if item.kind is ItemKind.INDICATOR]
    if not codes:
        return [[] for _ in rows]
    rule = history_rule(app)
    configured = {b.item_code: _bounds(b) for b in await bounds_of(session, plan.facts.plan_id)}
    certified = await certified_payloads_of(session, plan.facts.plan_id, codes)
    out: list[list[dict[str, Any]]] = []
    for item, period, payload in rows:
        value = registered_value(payload) if item.kind is ItemKind.INDICATOR else None
        if value is None:
            out.append([])
            continue
        earlier = [p for when, p in certified.get(item.code, []) if when < str(period)][: rule.window]
        history = [v for v in (registered_value(p) for p in earlier) if v is not None]
        out.append(value_warnings(value, configured.get(item.code), history, rule))
    return out


# ---- bounds set by planners -------------------------------------------------------------------------------------


def _planner(who: Principal, plan: LoadedPlan) -> None:
    if not who.can({"planner"}, plan.organisation):
        raise Forbidden("Only a planner of the plan's organisation sets the expected bounds of an item's values.")


def _number(value: str | None, path: str) -> str | None:
    if value is None:
        return None
    try:
        return decimal_text(value, MEASURE, path)
    except InvalidNumber as exc:
        raise ValidationFailed([{"path": path, "message": exc.reason, "type": "number"}]) from exc


async def list_bounds(app: FastAPI, session: AsyncSession, who: Principal, plan_id: str) -> list[ItemValueBounds]:
    await visible_plan(app, session, who, plan_id)
    return await bounds_of(session, plan_id)


def bounds_etag(row: ItemValueBounds) -> str:
    """A strong ETag of an item's bounds, from what they say (min and max)."""
    digest = hashlib.sha256(f"{row.min_value}|{row.max_value}".encode()).hexdigest()[:16]
    return f'"bounds-{row.item_code}-{digest}"'


async def current_bounds_etag(session: AsyncSession, plan_id: str, item_code: str) -> str | None:
    row = await get_bounds(session, plan_id, item_code)
    return bounds_etag(row) if row is not None else None


async def put_bounds(
    ctx: WriteContext, plan_id: str, item_code: str, *, min_value: str | None, max_value: str | None
) -> ItemValueBounds:
    app, session, who = ctx.request.app, ctx.session, ctx.principal
    plan = await visible_plan(app, session, who, plan_id)
    _planner(who, plan)
    item = plan_item(plan.schedule, item_code)
    if item.kind is not ItemKind.INDICATOR:
        raise ValidationFailed(
            [{"path": "item_code", "message": f"{item.code} is not an indicator", "type": "value_bounds"}]
        )
    low, high = _number(min_value, "min"), _number(max_value, "max")
    if low is None and high is None:
        raise ValidationFailed([{"path": "min", "message": "give min, max or both", "type": "value_bounds"}])
    if low is not None and high is not None and to_decimal(low) > to_decimal(high):
        raise ValidationFailed([{"path": "max", "message": "max is below min", "type": "value_bounds"}])
    row = await get_bounds(session, plan_id, item.code)
    before = {"min": row.min_value, "max": row.max_value} if row is not None else None
    if row is not None and (row.min_value, row.max_value) == (low, high):
        ctx.unchanged()
        return row
    now = clock(app)
    if row is None:
        row = ItemValueBounds(
            plan_id=plan_id, item_code=item.code, min_value=low, max_value=high, updated_at=now, updated_by=who.sub
        )
        session.add(row)
    else:
        row.min_value, row.max_value, row.updated_at, row.updated_by = low, high, now, who.sub
    await session.flush()
    await ctx.audit(
        "value_bounds",
        f"{plan_id}/{item.code}",
        "put",
        before=before,
        after={"min": low, "max": high},
        organisation=plan.organisation_code,
    )
    return row


async def delete_bounds(ctx: WriteContext, plan_id: str, item_code: str) -> None:
    app, session, who = ctx.request.app, ctx.session, ctx.principal
    plan = await visible_plan(app, session, who, plan_id)
    _planner(who, plan)
    row = await get_bounds(session, plan_id, item_code)
    if row is None:
        raise NotFound(f"Item {item_code!r} of plan {plan_id!r} has no bounds.")
    await session.delete(row)
    await ctx.audit(
        "value_bounds",
        f"{plan_id}/{item_code}",
        "delete",
        before={"min": row.min_value, "max": row.max_value},
        organisation=plan.organisation_code,
    )

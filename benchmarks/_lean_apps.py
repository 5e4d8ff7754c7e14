"""The processes of ``bench_request_path.py``: the services as they run (uvicorn factories) and the lean
baselines the issue measures them against.

A lean baseline is the least a FastAPI + uvicorn endpoint can do and still answer the same request on the same
database with the same authentication and the same response body: PyJWT's check of the same bearer token, the
SQL the answer needs through SQLAlchemy Core on a pooled connection (one statement where one is enough), the
same pure domain functions where the body is computed (deadlines, the certification index, the budget report),
``json.dumps`` of the body. Nothing else: no middleware, no dependencies, no ORM, no request id, no metrics, no
log line, no audit trail reading, no write envelope. Writes do the same SQL writes as the service (the new
version row, the updated registration, the audit row) in one transaction, after the rules the route must apply
(the registration PUT: the registrar's grant, the owed period, the lock and the write window, the justification,
the warnings — on the state the service reads for them, in its one statement); ``lean_put_bare`` writes without
those rules, the baseline of the earlier passes.

Not a benchmark itself (run_all.py skips modules whose name starts with an underscore). Configured through the
environment by the bench: ``BENCH_PLANNING_DB``, ``BENCH_EXECUTION_DB``, ``BENCH_BUDGET_DB``, ``BENCH_CLOCK``
(the execution service's and the baseline's "now", ISO 8601), ``METAS_JWT_SECRET``.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import jwt
from fastapi import FastAPI, Request, Response
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from metas_kit.db import make_engine
from metas_kit.timestamps import rfc3339


def fixed_clock() -> datetime:
    return datetime.fromisoformat(os.environ.get("BENCH_CLOCK", "2025-01-20T12:00:00+00:00")).astimezone(UTC)


# --- the services, as uvicorn factories -------------------------------------------------------------------------


def planning_service() -> FastAPI:
    from planning.app import create_app

    return create_app()


def execution_service() -> FastAPI:
    """The execution service with its clock fixed (``app.state.clock``, the hook its tests use) so the benchmark's
    writes fall inside the seed plan's write window whatever today's date."""
    from execution.app import create_app

    app = create_app()
    app.state.clock = fixed_clock
    return app


def budget_service() -> FastAPI:
    from budget.app import create_app

    return create_app()


# --- the lean baselines -------------------------------------------------------------------------------------------

SECRET = os.environ.get("METAS_JWT_SECRET", "")
REQUIRED_CLAIMS = {"require": ["exp", "iat", "sub", "iss"]}
JSON_TYPE = "application/json"


def dumps(body: Any) -> bytes:
    # What Starlette's JSONResponse and FastAPI's serialisation write: compact, UTF-8.
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def claims_of(request: Request) -> dict[str, Any] | None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        return None
    try:
        data: dict[str, Any] = jwt.decode(
            header[7:], SECRET, algorithms=["HS256"], issuer="metas", options=REQUIRED_CLAIMS
        )
    except jwt.PyJWTError:
        return None
    return data


def may_read(claims: dict[str, Any], org: str) -> bool:
    return any(g.get("org") in ("*", org) for g in claims.get("grants", ()))


UNAUTHORIZED = Response(status_code=401)
NOT_FOUND = Response(status_code=404)


class Lean:
    """The engines and what the baselines hold in memory (the plan schedule, as the service caches it)."""

    planning: AsyncEngine
    execution: AsyncEngine
    budget: AsyncEngine
    schedules: dict[str, Any]


lean = Lean()


async def _load_schedule(plan_id: str) -> Any:
    from execution.domain.registrations import PlanFacts
    from execution.domain.schedule import PlanSchedule

    async with lean.planning.connect() as conn:
        doc = (
            await conn.execute(
                text(
                    "SELECT v.document FROM plan p JOIN plan_version v ON v.plan_id = p.id "
                    "AND v.number = COALESCE(p.current_version, p.latest_version) WHERE p.id = :id"
                ),
                {"id": plan_id},
            )
        ).scalar_one()
    if isinstance(doc, str):
        doc = json.loads(doc)
    return PlanSchedule(PlanFacts.from_tree(doc)), doc["organisation"]["code"]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    lean.planning = make_engine(os.environ["BENCH_PLANNING_DB"], immediate=False)
    lean.execution = make_engine(os.environ["BENCH_EXECUTION_DB"])
    lean.budget = make_engine(os.environ["BENCH_BUDGET_DB"], immediate=False)
    lean.schedules = {}
    for plan_id in ("ii-2024-quar", "ipsm-2014-acordo"):
        lean.schedules[plan_id] = await _load_schedule(plan_id)
    try:
        yield
    finally:
        for engine in (lean.planning, lean.execution, lean.budget):
            await engine.dispose()


def baseline() -> FastAPI:
    app = FastAPI(lifespan=_lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    from execution.db.models import AuditEvent, Registration, RegistrationVersion
    from planning.db.models import Plan, PlanVersion

    plan_t = Plan.__table__
    version_t = PlanVersion.__table__
    reg_t = Registration.__table__
    regv_t = RegistrationVersion.__table__
    audit_t = AuditEvent.__table__

    plan_cols = [plan_t.c[n] for n in PLAN_FIELDS]
    get_plan_stmt = select(*plan_cols).where(plan_t.c.id == _param("id"))
    current = func.coalesce(plan_t.c.current_version, plan_t.c.latest_version)
    tree_stmt = (
        select(
            plan_t.c.organisation_code, version_t.c.number, version_t.c.status, version_t.c.etag, version_t.c.document
        )
        .join(version_t, (version_t.c.plan_id == plan_t.c.id) & (version_t.c.number == current))
        .where(plan_t.c.id == _param("id"))
    )
    head_stmt = (
        select(plan_t.c.organisation_code, version_t.c.number, version_t.c.status, version_t.c.etag)
        .join(version_t, (version_t.c.plan_id == plan_t.c.id) & (version_t.c.number == current))
        .where(plan_t.c.id == _param("id"))
    )

    @app.get("/lean/planning/plans/{plan_id}")
    async def lean_plan(plan_id: str, request: Request) -> Response:
        claims = claims_of(request)
        if claims is None:
            return UNAUTHORIZED
        async with lean.planning.connect() as conn:
            row = (await conn.execute(get_plan_stmt, {"id": plan_id})).first()
        if row is None or not may_read(claims, row.organisation_code):
            return NOT_FOUND
        return Response(dumps(dict(zip(PLAN_FIELDS, row, strict=True))), media_type=JSON_TYPE)

    @app.get("/lean/planning/plans/{plan_id}/tree")
    async def lean_tree(plan_id: str, request: Request) -> Response:
        claims = claims_of(request)
        if claims is None:
            return UNAUTHORIZED
        conditional = request.headers.get("if-none-match")
        async with lean.planning.connect() as conn:
            row = (await conn.execute(head_stmt if conditional else tree_stmt, {"id": plan_id})).first()
        if row is None or not may_read(claims, row.organisation_code):
            return NOT_FOUND
        headers = {"ETag": row.etag, "X-Plan-Version": str(row.number), "X-Plan-Version-Status": row.status}
        if conditional == row.etag:
            return Response(status_code=304, headers=headers)
        if conditional:  # stale tag: read the document (not measured: the bench sends the current tag)
            async with lean.planning.connect() as conn:
                row = (await conn.execute(tree_stmt, {"id": plan_id})).first()
        return Response(dumps(row.document), media_type=JSON_TYPE, headers=headers)

    reg_stmt = select(
        reg_t.c.id,
        reg_t.c.version,
        reg_t.c.unit_code,
        reg_t.c.item_kind,
        reg_t.c.first_registered_at,
        reg_t.c.payload,
        reg_t.c.certification,
        reg_t.c.rejection_reason,
    ).where(reg_t.c.plan_id == _param("p"), reg_t.c.item_code == _param("i"), reg_t.c.period == _param("d"))
    update_stmt = (
        reg_t.update()
        .where(reg_t.c.id == _param("rid"), reg_t.c.version == _param("v"))
        .values(
            payload=_param("payload"),
            certification="submitted",
            rejection_reason=None,
            certified_at=None,
            certified_by=None,
            updated_at=_param("at"),
            updated_by=_param("who"),
            version=_param("nv"),
            justification=_param("justification"),
            warnings=_param("warnings"),
        )
    )

    async def write_version(
        conn: Any,
        reg: Any,
        claims: dict[str, Any],
        org: str,
        key: tuple[str, str, str],
        payload: Any,
        justification: str | None,
        reason: str | None,
        warnings: list[dict[str, Any]],
        at: datetime,
    ) -> int | None:
        """The PUT's three writes (guarded update, version row, audit row); None when another writer won."""
        plan_id, item_code, period = key
        who = claims["sub"]
        request_id = uuid.uuid4().hex  # the service keeps one on the version and audit rows
        version = int(reg.version) + 1
        row = {"payload": payload, "justification": justification, "warnings": warnings}
        done = await conn.execute(
            update_stmt, {**row, "rid": reg.id, "v": reg.version, "nv": version, "at": at, "who": who}
        )
        if done.rowcount != 1:
            return None
        await conn.execute(
            regv_t.insert(),
            {
                **row,
                "registration_id": reg.id,
                "number": version,
                "action": "submit",
                "certification": "submitted",
                "reason": reason,
                "created_at": at,
                "created_by": who,
                "request_id": request_id,
            },
        )
        before = {
            "version": reg.version,
            "payload": reg.payload,
            "certification": reg.certification,
            "rejection_reason": reg.rejection_reason,
        }
        after = {"version": version, "payload": payload, "certification": "submitted", "rejection_reason": None}
        await conn.execute(
            audit_t.insert(),
            {
                "at": at,
                "actor": who,
                "roles": sorted({g["role"] for g in claims.get("grants", ())}),
                "action": "registration.submit",
                "entity_type": "registration",
                "entity_id": f"{plan_id}/{item_code}/{period}",
                "request_id": request_id,
                "changes": {k: [before[k], after[k]] for k in sorted(before) if before[k] != after[k]},
                "organisation_code": org,
            },
        )
        return version

    def answer(
        reg: Any, key: tuple[str, str, str], version: int, payload: Any, who: str, at: datetime, dates: Any
    ) -> Response:
        """The PUT's 200: the registration as the service shapes it, its ETag and Location."""
        from execution.domain.status import deadline_status

        plan_id, item_code, period = key
        etag = f'"reg-{reg.id}-v{version}"'
        out = {
            "plan_id": plan_id,
            "item_code": item_code,
            "item_kind": reg.item_kind,
            "unit_code": reg.unit_code,
            "period": period,
            "version": version,
            "payload": payload,
            "certification": "submitted",
            "rejection_reason": None,
            "certified_by": None,
            "certified_at": None,
            "first_registered_at": rfc3339(reg.first_registered_at),
            "updated_at": rfc3339(at),
            "updated_by": who,
            "due_date": dates.due_date.isoformat(),
            "deadline": rfc3339(dates.deadline),
            "status": deadline_status(dates.deadline, reg.first_registered_at, at).value,
            "etag": etag,
        }
        return Response(
            dumps(out),
            media_type=JSON_TYPE,
            headers={"ETag": etag, "Location": f"/v1/plans/{plan_id}/registrations/{item_code}/{period}"},
        )

    @app.put("/lean/execution/plans/{plan_id}/registrations/{item_code}/{period}")
    async def lean_put(plan_id: str, item_code: str, period: str, request: Request) -> Response:
        """The registration PUT with the rules the route must apply before it writes, each done the least way:
        the registrar's grant for the item's unit, the period owed by the item, the state those rules need read
        in the service's one statement (the row, the period's lock, the plan's settings and the organisation's
        closures, the item's bounds and certified history), the lock and the write window, the justification a
        value short of its target needs, the warnings (bounds, history) stored with the version."""
        from execution.db.registration_rows import _CONTEXT_AND_STATE
        from execution.domain.justifications import needs_justification, registered_value
        from execution.domain.outliers import Bounds, HistoryRule, value_warnings
        from execution.domain.periods import Period
        from execution.domain.registrations import ItemKind, normalise_payload
        from execution.domain.schedule import write_refusal
        from metas_kit.numbers import to_decimal

        claims = claims_of(request)
        if claims is None:
            return UNAUTHORIZED
        schedule, org = lean.schedules[plan_id]
        if not may_read(claims, org):
            return NOT_FOUND
        item = schedule.facts.items.get(item_code)
        if item is None:
            return NOT_FOUND
        if not any(
            g.get("role") in ("registrar", "admin")
            and g.get("org") in ("*", org)
            and (not g.get("units") or item.unit_code in g["units"])
            for g in claims.get("grants", ())
        ):
            return Response(status_code=403)
        owed = Period.parse(period)
        if not schedule.facts.owes(item, owed):
            return NOT_FOUND
        body = json.loads(await request.body())
        payload = normalise_payload(item, body["payload"])
        justification = (body.get("justification") or "").strip() or None
        if justification is None and needs_justification(item.justification_band, payload):
            return Response(status_code=422)
        at = fixed_clock()
        dates = schedule.dates(owed)
        who = claims["sub"]
        rule = HistoryRule()
        params = {"plan_id": plan_id, "organisation_code": org, "item_code": item_code, "period": period}
        async with lean.execution.begin() as conn:
            rows = (await conn.execute(_CONTEXT_AND_STATE, {**params, "window": rule.window})).all()
            reg = rows[0]
            if reg.id is None:
                return NOT_FOUND
            if request.headers.get("if-match") != f'"reg-{reg.id}-v{reg.version}"':
                return Response(status_code=412)
            # (a lock exception is only looked up for a locked or closed period: not on this path)
            if write_refusal(locked=reg.lock_id is not None, window_closed=at >= dates.closes_at, excepted=False):
                return Response(status_code=409)
            warnings: list[dict[str, Any]] = []
            value = registered_value(payload) if item.kind is ItemKind.INDICATOR else None
            if value is not None:
                bounds = (
                    Bounds(
                        to_decimal(reg.min_value) if reg.min_value is not None else None,
                        to_decimal(reg.max_value) if reg.max_value is not None else None,
                    )
                    if reg.bounds_plan_id is not None
                    else None
                )
                past = [registered_value(r.h_payload) for r in rows if r.kind == 2]
                warnings = value_warnings(value, bounds, [v for v in past if v is not None], rule)
            version = await write_version(
                conn,
                reg,
                claims,
                org,
                (plan_id, item_code, period),
                payload,
                justification,
                body.get("reason"),
                warnings,
                at,
            )
            if version is None:
                return Response(status_code=412)
        return answer(reg, (plan_id, item_code, period), version, payload, who, at, dates)

    @app.put("/lean/execution/bare/plans/{plan_id}/registrations/{item_code}/{period}")
    async def lean_put_bare(plan_id: str, item_code: str, period: str, request: Request) -> Response:
        """The PUT's writes with none of its rules: the row read alone, no grant, window, lock, justification or
        warnings (what the earlier passes measured against; BENCHMARKS.md)."""
        from execution.domain.periods import Period
        from execution.domain.registrations import normalise_payload

        claims = claims_of(request)
        if claims is None:
            return UNAUTHORIZED
        schedule, org = lean.schedules[plan_id]
        if not may_read(claims, org):
            return NOT_FOUND
        body = json.loads(await request.body())
        item = schedule.facts.items[item_code]
        payload = normalise_payload(item, body["payload"])
        at = fixed_clock()
        who = claims["sub"]
        async with lean.execution.begin() as conn:
            reg = (await conn.execute(reg_stmt, {"p": plan_id, "i": item_code, "d": period})).first()
            if reg is None:
                return NOT_FOUND
            if request.headers.get("if-match") != f'"reg-{reg.id}-v{reg.version}"':
                return Response(status_code=412)
            why = body.get("justification")
            version = await write_version(
                conn, reg, claims, org, (plan_id, item_code, period), payload, why, body.get("reason"), [], at
            )
            if version is None:
                return Response(status_code=412)
        return answer(
            reg, (plan_id, item_code, period), version, payload, who, at, schedule.dates(Period.parse(period))
        )

    first_stmt = select(reg_t.c.item_code, reg_t.c.period, reg_t.c.first_registered_at).where(
        reg_t.c.plan_id == _param("p"), reg_t.c.period <= _param("to")
    )

    @app.get("/lean/execution/plans/{plan_id}/compliance")
    async def lean_compliance(plan_id: str, through: str, request: Request) -> Response:
        from execution.domain.compliance import Tally, compliance
        from execution.domain.periods import Period

        claims = claims_of(request)
        if claims is None:
            return UNAUTHORIZED
        schedule, org = lean.schedules[plan_id]
        if not may_read(claims, org):
            return NOT_FOUND
        now = fixed_clock()
        last = Period.parse(through)
        async with lean.execution.connect() as conn:
            rows = (await conn.execute(first_stmt, {"p": plan_id, "to": str(last)})).all()
        keyed = {(item, Period.parse(period)): at for item, period, at in rows}
        report = compliance(schedule.obligations(keyed, last), now)
        periods = [p for p in schedule.facts.periods() if p <= last]
        units = sorted({i.unit_code for i in schedule.facts.items.values()})

        def tally(period: str, t: Tally) -> dict[str, Any]:
            index = t.index
            return {
                "period": period,
                "due": t.due,
                "on_time": t.on_time,
                "late": t.late,
                "missing": t.missing,
                "pending": t.pending,
                "index": None if index is None else str(index),
            }

        def unit(code: str | None) -> dict[str, Any]:
            months = []
            for p in periods:
                if code is None:
                    total = Tally()
                    for u in report.units():
                        total.merge(report.month(u, p))
                    months.append(tally(str(p), total))
                else:
                    months.append(tally(str(p), report.month(code, p)))
            return {
                "unit_code": code or "*",
                "months": months,
                "year_to_date": tally("YTD", report.year_to_date(code, last)),
            }

        out = {
            "plan_id": plan_id,
            "through": str(last),
            "as_of": rfc3339(now),
            "units": [unit(u) for u in units],
            "plan": unit(None),
        }
        return Response(dumps(out), media_type=JSON_TYPE)

    @app.get("/lean/budget/reports/planned-vs-executed")
    async def lean_budget(request: Request, group_by: str = "eixo,year") -> Response:
        from budget.db.repositories import grouped_entries
        from budget.domain.money import format_money
        from budget.domain.reports import planned_vs_executed, report_breakdown

        claims = claims_of(request)
        if claims is None:
            return UNAUTHORIZED
        if not may_read(claims, "ii"):
            return NOT_FOUND
        dims = [d.strip() for d in group_by.split(",") if d.strip()]
        chosen = report_breakdown(dims, None)
        async with lean.budget.connect() as conn:
            entries = await grouped_entries(conn, breakdown=chosen)  # type: ignore[arg-type]  # Core, same SQL
        report = planned_vs_executed(entries, dims, chosen, rubric_level=None, year=None)

        def money(value: Any) -> str | None:
            return None if value is None else format_money(value)

        def totals(t: Any) -> dict[str, Any]:
            return {
                "initial": money(t.initial),
                "corrections": money(t.corrections),
                "planned": money(t.planned),
                "committed": money(t.committed),
                "executed": money(t.executed),
                "variance": money(t.variance),
                "execution_rate_pct": None if t.execution_rate_pct is None else str(t.execution_rate_pct),
                "planned_net": money(t.planned_net),
                "planned_vat": money(t.planned_vat),
                "executed_net": money(t.executed_net),
                "executed_vat": money(t.executed_vat),
                "executed_prr": money(t.executed_prr),
                "executed_national": money(t.executed_national),
            }

        out = {
            "group_by": dims,
            "breakdown": report.breakdown.value,
            "year": None,
            "rows": [{**r.keys, **totals(r.totals)} for r in report.rows],
            "total": totals(report.total),
        }
        return Response(dumps(out), media_type=JSON_TYPE)

    return app


PLAN_FIELDS = (
    "id",
    "organisation_code",
    "framework",
    "cycle_year",
    "title",
    "current_version",
    "latest_version",
)


def _param(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)

"""Evaluation runs: fetch the plan and registrations, score them, store the immutable snapshot, audit.

The snapshot (docs/domain.md, scoring) holds everything the grade depends on, so `reproduce` re-runs
the engine on it and must find the same results hash.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from metas_kit.audit import record_audit
from metas_kit.auth import Principal
from metas_kit.errors import NotFound, ValidationFailed
from scoring.application.upstreams import Upstreams
from scoring.db import repository
from scoring.db.models import AuditEvent, EvaluationRun
from scoring.domain.evaluate import ENGINE_VERSION, canonical_hash, evaluate, make_inputs
from scoring.metrics import EVALUATION_DURATION, EVALUATIONS, publish_latest

# What the engine raises on a plan document it cannot score (a malformed rule or figure).
ENGINE_ERRORS = (ValidationError, KeyError, ValueError, TypeError)


async def get(session: AsyncSession, evaluation_id: str) -> EvaluationRun:
    run = await repository.get(session, evaluation_id)
    if run is None:
        raise NotFound(f"Evaluation {evaluation_id!r} does not exist.")
    return run


async def create(
    session: AsyncSession,
    upstream: Upstreams,
    who: Principal,
    *,
    plan_id: str,
    version: int | None,
    period_to: str | None,
    as_of: str | None,
    n1: str | None,
    certified_only: bool,
    committee: dict[str, Any],
) -> EvaluationRun:
    tree = await upstream.planning.tree(plan_id, version)
    registrations = await upstream.execution.current(plan_id, period_to)
    inputs = make_inputs(
        tree.document,
        registrations,
        committee=committee,
        period_to=period_to,
        as_of=as_of,
        n1=n1,
        certified_only=certified_only,
        plan_etag=tree.etag,
    )
    started = time.perf_counter()
    try:
        results = await asyncio.to_thread(evaluate, inputs)
    except ENGINE_ERRORS as exc:
        raise ValidationFailed([{"path": "plan", "message": str(exc)}], f"Plan {plan_id!r} cannot be scored.") from exc
    duration = time.perf_counter() - started
    run = EvaluationRun(
        id=str(uuid.uuid4()),
        seq=await repository.next_seq(session),
        plan_id=plan_id,
        plan_version=tree.version if tree.version is not None else version,
        framework=str(tree.document["plan"]["framework"]),
        period_to=period_to,
        created_by=who.sub,
        rules_version=str(inputs["rules_version"]),
        engine_version=ENGINE_VERSION,
        duration_seconds=duration,
        inputs_sha256=canonical_hash(inputs),
        results_sha256=canonical_hash(results),
        summary=results["summary"],
        inputs=inputs,
        results=results,
    )
    await repository.add(session, run)
    await record_audit(
        session,
        AuditEvent,
        who,
        action="evaluation.create",
        entity_type="evaluation",
        entity_id=run.id,
        changes={"plan_id": run.plan_id, "plan_version": run.plan_version, "summary": run.summary},
    )
    EVALUATION_DURATION.labels(plan=plan_id).observe(duration)
    EVALUATIONS.labels(plan=run.plan_id).inc()
    publish_latest(run.plan_id, run.summary)
    return run


@dataclass(frozen=True, slots=True)
class RunPage:
    rows: list[EvaluationRun]
    more: bool


async def page(session: AsyncSession, *, limit: int, before_seq: int | None, plan_id: str | None) -> RunPage:
    rows = await repository.page(session, limit=limit, before_seq=before_seq, plan_id=plan_id)
    return RunPage(rows[:limit], len(rows) > limit)


async def item(session: AsyncSession, evaluation_id: str, item_code: str) -> tuple[EvaluationRun, str, dict[str, Any]]:
    """The run, the kind (indicator / product) and the stored score of one item with its steps."""
    run = await get(session, evaluation_id)
    for section in ("indicators", "products"):
        found = (run.results.get(section) or {}).get(item_code)
        if found is not None:
            return run, section[:-1], found
    raise NotFound(f"Item {item_code!r} is not in evaluation {evaluation_id!r}.")


@dataclass(frozen=True, slots=True)
class Reproduction:
    run: EvaluationRun
    recomputed_sha256: str


async def reproduce(session: AsyncSession, evaluation_id: str) -> Reproduction:
    run = await get(session, evaluation_id)
    again = await asyncio.to_thread(evaluate, run.inputs)
    return Reproduction(run, canonical_hash(again))

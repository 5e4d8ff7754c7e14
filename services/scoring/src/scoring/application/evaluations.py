"""Evaluation runs: fetch the plan and registrations, score them, store the immutable snapshot, audit.

The snapshot (docs/domain.md, scoring) holds everything the grade depends on, so `reproduce` re-runs
the engine on it and must find the same results hash.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from metas_clients.planning import PlanTree
from metas_kit.auth import Principal
from metas_kit.errors import AppError, Conflict, NotFound, ValidationFailed
from metas_kit.pagination import PageParams, PageResult
from metas_kit.writes import WriteContext
from scoring.application.access import may_read, organisation_of, readable_organisations, require_evaluator
from scoring.application.upstreams import Upstreams
from scoring.db import repository
from scoring.db.models import EvaluationRun
from scoring.domain.evaluate import (
    ENGINE_VERSION,
    canonical_hash,
    committee_decisions,
    cycle_periods,
    evaluate,
    make_inputs,
    registration_cutoff,
)
from scoring.metrics import EVALUATION_DURATION, EVALUATIONS, publish_latest

# What the engine raises on a plan document it cannot score (a malformed rule or figure; a figure of an inline
# plan outside the decimal context, which is an ArithmeticError).
ENGINE_ERRORS = (ValidationError, KeyError, ValueError, TypeError, ArithmeticError)


class FinalTooEarly(AppError):
    status, type_slug, title = 409, "final-too-early", "Registrations are still open"


class PlanVersionNotApproved(AppError):
    status, type_slug, title = 409, "plan-version-not-approved", "The plan version is not the approved one"


async def get(session: AsyncSession, who: Principal, evaluation_id: str) -> EvaluationRun:
    run = await repository.get(session, evaluation_id)
    if run is None or not may_read(who, run.organisation_code):
        raise NotFound(f"Evaluation {evaluation_id!r} does not exist.")
    return run


async def create(
    ctx: WriteContext,
    upstream: Upstreams,
    *,
    plan_id: str,
    version: int | None,
    period_to: str | None,
    as_of: str | None,
    n1: str | None,
    certified_only: bool,
    committee: dict[str, Any],
) -> EvaluationRun:
    """A provisional evaluation: what is known so far, missing items listed, grades marked incomplete."""
    who = ctx.principal
    tree = await upstream.planning.tree(plan_id, version)
    require_evaluator(who, plan_id, tree.document)
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
    run = await _store(ctx.session, who, tree, inputs, version=version, period_to=period_to)
    return await _published(ctx, run, "create", {})


async def finalize(
    ctx: WriteContext,
    upstream: Upstreams,
    *,
    plan_id: str,
    version: int | None,
    n1: str | None,
    committee: dict[str, Any],
    revision_reason: str | None,
    now: datetime,
) -> EvaluationRun:
    """The final evaluation of a plan version (docs/domain.md §6): after the registration cut-off, on certified
    registrations only, every owed item without one scoring 0 unless the committee set it aside with a reason.

    Every period of the cycle is locked in execution before the registrations are read, so the snapshot is what
    stays registered. A plan version has one final evaluation; another one is a revision and needs its reason.
    """
    session, who = ctx.session, ctx.principal
    reasons = committee.get("reasons") or {}
    unexplained = [code for code in committee.get("set_aside") or [] if not reasons.get(code)]
    if unexplained:
        raise ValidationFailed(
            [
                {"path": f"committee.reasons.{code}", "message": "an item set aside needs the committee's reason"}
                for code in unexplained
            ],
            "Every item the committee sets aside at a final evaluation needs its reason.",
        )
    tree = await upstream.planning.tree(plan_id, version)
    require_evaluator(who, plan_id, tree.document)
    if tree.version is None:
        raise ValidationFailed([{"path": "version", "message": "planning did not name the plan version"}])
    if tree.status != "approved":
        # A draft can still change and a superseded version no longer binds anyone: only the approved version
        # is published as the year's result (and nothing is locked for another one).
        raise PlanVersionNotApproved(
            f"Version {tree.version} of plan {plan_id!r} is {tree.status or 'of unknown status'}; "
            "only the approved version has a final evaluation.",
            extra={"plan_version": tree.version, "version_status": tree.status},
        )
    cutoff = registration_cutoff(tree.document)
    if now.date() <= cutoff:
        raise FinalTooEarly(
            f"Registrations of plan {plan_id!r} are open until {cutoff.isoformat()}; "
            "the final evaluation can be made from the next day."
        )
    current = await repository.get_final(session, plan_id, tree.version)
    if current is not None and not revision_reason:
        raise Conflict(
            f"Plan {plan_id!r} version {tree.version} already has its final evaluation {current.evaluation_id!r}; "
            "replacing it is a revision: send revision_reason.",
            extra={"final_evaluation_id": current.evaluation_id},
        )
    if current is None and revision_reason:
        raise ValidationFailed([{"path": "revision_reason", "message": "there is no final evaluation to revise"}])
    for period in cycle_periods(tree.document):
        await upstream.execution.lock(plan_id, period, f"final evaluation of {plan_id} v{tree.version}")
    registrations = await upstream.execution.current(plan_id, None)
    decided = {**committee, "decisions": committee_decisions(committee, by=who.sub, at=now.isoformat())}
    inputs = make_inputs(
        tree.document, registrations, committee=decided, n1=n1, certified_only=True, plan_etag=tree.etag, final=True
    )
    revision = 1 if current is None else current.revision + 1
    run = await _store(
        session,
        who,
        tree,
        inputs,
        version=tree.version,
        period_to=None,
        kind="final",
        revision=revision,
        revises=None if current is None else current.evaluation_id,
        reason=revision_reason,
    )
    await repository.publish_final(
        session, plan_id=plan_id, plan_version=tree.version, evaluation_id=run.id, revision=revision, at=now
    )
    return await _published(
        ctx,
        run,
        "finalize" if current is None else "revise",
        {"revision": revision, "revises": run.revises, "reason": revision_reason, "decisions": decided["decisions"]},
    )


async def _published(ctx: WriteContext, run: EvaluationRun, verb: str, changes: dict[str, Any]) -> EvaluationRun:
    """Audit the new run (`evaluation.<verb>`), point the response at it and export its grades."""
    await ctx.audit(
        "evaluation",
        run.id,
        verb,
        organisation=run.organisation_code,
        changes={"plan_id": run.plan_id, "plan_version": run.plan_version, **changes, "summary": run.summary},
    )
    ctx.headers["Location"] = f"/v1/evaluations/{run.id}"
    EVALUATIONS.labels(plan=run.plan_id).inc()
    publish_latest(run.plan_id, run.summary)
    return run


async def _store(
    session: AsyncSession,
    who: Principal,
    tree: PlanTree,
    inputs: dict[str, Any],
    *,
    version: int | None,
    period_to: str | None,
    **final: Any,
) -> EvaluationRun:
    """Score the inputs and add the run (the caller audits it)."""
    plan_id = str(tree.document["plan"]["id"])
    started = time.perf_counter()
    try:
        results = await asyncio.to_thread(evaluate, inputs)
    except ENGINE_ERRORS as exc:
        raise ValidationFailed([{"path": "plan", "message": str(exc)}], f"Plan {plan_id!r} cannot be scored.") from exc
    duration = time.perf_counter() - started
    EVALUATION_DURATION.labels(plan=plan_id).observe(duration)
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
        organisation_code=organisation_of(tree.document),
        **final,
    )
    await repository.add(session, run)
    return run


async def page(
    session: AsyncSession, who: Principal, params: PageParams, *, plan_id: str | None, kind: str | None = None
) -> PageResult[EvaluationRun]:
    """Only the runs of organisations the caller may read: no row, count or cursor of another one."""
    return await repository.page(session, params, plan_id=plan_id, kind=kind, organisations=readable_organisations(who))


async def item(
    session: AsyncSession, who: Principal, evaluation_id: str, item_code: str
) -> tuple[EvaluationRun, str, dict[str, Any]]:
    """The run, the kind (indicator / product) and the stored score of one item with its steps."""
    run = await get(session, who, evaluation_id)
    for section in ("indicators", "products"):
        found = (run.results.get(section) or {}).get(item_code)
        if found is not None:
            applied = (run.results.get("applied") or {}).get(item_code)
            return run, section[:-1], found if applied is None else {**found, "applied": applied}
    raise NotFound(f"Item {item_code!r} is not in evaluation {evaluation_id!r}.")


@dataclass(frozen=True, slots=True)
class Reproduction:
    run: EvaluationRun
    recomputed_sha256: str


async def reproduce(session: AsyncSession, who: Principal, evaluation_id: str) -> Reproduction:
    run = await get(session, who, evaluation_id)
    again = await asyncio.to_thread(evaluate, run.inputs)
    return Reproduction(run, canonical_hash(again))

"""/v1/evaluations: evaluation runs with immutable snapshots and explanations."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from metas_kit.audit import record_audit
from metas_kit.auth import Principal, Reader, require_roles
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES, NotFound, ValidationFailed
from metas_kit.idempotency import remember, replay
from metas_kit.pagination import PageDep, encode_cursor
from scoring.api.schemas import (
    ID_MAX_LENGTH,
    ITEM_CODE_PATTERN,
    PLAN_ID_PATTERN,
    EvaluationCreate,
    EvaluationDetail,
    EvaluationPage,
    EvaluationSummary,
    ReproduceResult,
)
from scoring.api.upstream import clients
from scoring.db import repository
from scoring.db.models import AuditEvent, EvaluationRun, IdempotencyRecord
from scoring.domain.evaluate import ENGINE_VERSION, canonical_hash, evaluate, make_inputs
from scoring.metrics import EVALUATION_DURATION, EVALUATIONS, publish_latest

router = APIRouter(prefix="/v1/evaluations", tags=["evaluations"])
Evaluator = Annotated[Principal, Depends(require_roles("planner", "certifier"))]
PlanIdFilter = Annotated[str | None, Query(pattern=PLAN_ID_PATTERN, max_length=ID_MAX_LENGTH)]
ItemCodePath = Annotated[str, Path(pattern=ITEM_CODE_PATTERN, max_length=ID_MAX_LENGTH)]


def _summary(run: EvaluationRun) -> EvaluationSummary:
    return EvaluationSummary.model_validate(run, from_attributes=True)


async def _get(session: Any, evaluation_id: str) -> EvaluationRun:
    run = await repository.get(session, evaluation_id)
    if run is None:
        raise NotFound(f"Evaluation {evaluation_id!r} does not exist.")
    return run


@router.post(
    "",
    status_code=201,
    response_model=EvaluationDetail,
    responses=PROBLEM_RESPONSES,
    summary="Evaluate a plan now and store the snapshot",
)
async def create_evaluation(
    body: EvaluationCreate, request: Request, session: SessionDep, who: Evaluator
) -> JSONResponse:
    payload = body.model_dump(mode="json")
    replayed = await replay(session, IdempotencyRecord, request, who, payload)
    if replayed is not None:
        return replayed
    planning, execution = clients(request)
    tree = await planning.tree(body.plan_id, body.version)
    registrations = await execution.current(body.plan_id, body.period_to)
    inputs = make_inputs(
        tree.document,
        registrations,
        committee=payload["committee"],
        period_to=body.period_to,
        as_of=payload["as_of"],
        n1=payload["n1"],
        certified_only=body.certified_only,
        plan_etag=tree.etag,
    )
    started = time.perf_counter()
    try:
        results = await asyncio.to_thread(evaluate, inputs)
    except (ValidationError, KeyError, ValueError, TypeError) as exc:
        raise ValidationFailed(
            [{"path": "plan", "message": str(exc)}], f"Plan {body.plan_id!r} cannot be scored."
        ) from exc
    duration = time.perf_counter() - started
    EVALUATION_DURATION.labels(plan=body.plan_id).observe(duration)
    run = EvaluationRun(
        id=str(uuid.uuid4()),
        seq=await repository.next_seq(session),
        plan_id=body.plan_id,
        plan_version=tree.version if tree.version is not None else body.version,
        framework=str(tree.document["plan"]["framework"]),
        period_to=body.period_to,
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
        action="create",
        entity_type="evaluation",
        entity_id=run.id,
        changes={"plan_id": run.plan_id, "plan_version": run.plan_version, "summary": run.summary},
    )
    detail = EvaluationDetail.model_validate(run, from_attributes=True).model_dump(mode="json")
    headers = {"location": f"/v1/evaluations/{run.id}"}
    remember(session, IdempotencyRecord, request, who, payload, status_code=201, body=detail, headers=headers)
    EVALUATIONS.labels(plan=run.plan_id).inc()
    publish_latest(run.plan_id, run.summary)
    return JSONResponse(detail, status_code=201, headers=headers)


@router.get("", response_model=EvaluationPage, responses=PROBLEM_RESPONSES, summary="Evaluation runs, newest first")
async def list_evaluations(
    session: SessionDep,
    _who: Reader,
    page: PageDep,
    plan_id: PlanIdFilter = None,
) -> EvaluationPage:
    before = page.cursor.get("seq") if page.cursor else None
    rows = await repository.page(
        session, limit=page.limit, before_seq=before if isinstance(before, int) else None, plan_id=plan_id
    )
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    cursor = encode_cursor({"seq": rows[-1].seq}) if more and rows else None
    return EvaluationPage(items=[_summary(r) for r in rows], next_cursor=cursor)


@router.get(
    "/{evaluation_id}",
    response_model=EvaluationDetail,
    responses=PROBLEM_RESPONSES,
    summary="One evaluation with every score and its explanation",
)
async def get_evaluation(evaluation_id: str, session: SessionDep, _who: Reader, response: Response) -> EvaluationDetail:
    run = await _get(session, evaluation_id)
    response.headers["etag"] = f'"{run.results_sha256}"'
    return EvaluationDetail.model_validate(run, from_attributes=True)


@router.get("/{evaluation_id}/inputs", responses=PROBLEM_RESPONSES, summary="The snapshot of inputs the run read")
async def get_inputs(evaluation_id: str, session: SessionDep, _who: Reader) -> dict[str, Any]:
    run = await _get(session, evaluation_id)
    return {"id": run.id, "inputs_sha256": run.inputs_sha256, "inputs": run.inputs}


@router.get(
    "/{evaluation_id}/items/{item_code}",
    responses=PROBLEM_RESPONSES,
    summary="One indicator or product score with its step-by-step explanation",
)
async def get_item(evaluation_id: str, item_code: ItemCodePath, session: SessionDep, _who: Reader) -> dict[str, Any]:
    run = await _get(session, evaluation_id)
    for section in ("indicators", "products"):
        found = (run.results.get(section) or {}).get(item_code)
        if found is not None:
            return {"evaluation_id": run.id, "kind": section[:-1], **found}
    raise NotFound(f"Item {item_code!r} is not in evaluation {evaluation_id!r}.")


@router.post(
    "/{evaluation_id}:reproduce",
    response_model=ReproduceResult,
    responses=PROBLEM_RESPONSES,
    summary="Recompute from the stored snapshot and compare with the stored results",
)
async def reproduce(evaluation_id: str, session: SessionDep, _who: Reader) -> ReproduceResult:
    run = await _get(session, evaluation_id)
    again = await asyncio.to_thread(evaluate, run.inputs)
    recomputed = canonical_hash(again)
    return ReproduceResult(
        id=run.id,
        identical=recomputed == run.results_sha256,
        results_sha256=run.results_sha256,
        recomputed_sha256=recomputed,
    )

"""/v1/evaluations: evaluation runs with immutable snapshots and explanations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from metas_kit.auth import PlannerOrCertifier, Reader
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES
from metas_kit.pagination import PageDep
from metas_kit.writes import Write, WriteContext
from scoring.api.schemas import (
    ID_MAX_LENGTH,
    ITEM_CODE_PATTERN,
    PLAN_ID_PATTERN,
    EvaluationCreate,
    EvaluationDetail,
    EvaluationInputs,
    EvaluationPage,
    EvaluationSummary,
    FinalEvaluationCreate,
    ItemScore,
    ReproduceResult,
)
from scoring.application import documents, evaluations
from scoring.application.documents import MEDIA_TYPES, Format
from scoring.application.upstreams import upstreams

router = APIRouter(prefix="/v1/evaluations", tags=["evaluations"])
PlanIdFilter = Annotated[str | None, Query(pattern=PLAN_ID_PATTERN, max_length=ID_MAX_LENGTH)]
ItemCodePath = Annotated[str, Path(pattern=ITEM_CODE_PATTERN, max_length=ID_MAX_LENGTH)]


@router.post(
    "",
    status_code=201,
    response_model=EvaluationDetail,
    responses=PROBLEM_RESPONSES,
    summary="Evaluate a plan now and store the snapshot (provisional)",
)
async def create_evaluation(body: EvaluationCreate, request: Request, write: Write, who: PlannerOrCertifier) -> Any:
    create = partial(
        evaluations.create,
        upstream=upstreams(request),
        plan_id=body.plan_id,
        version=body.version,
        period_to=body.period_to,
        as_of=None if body.as_of is None else body.as_of.isoformat(),
        n1=body.n1,
        certified_only=body.certified_only,
        committee=body.committee.model_dump(mode="json"),
    )
    return await write(_detail(create), payload=body, status_code=201)


@router.post(
    ":final",
    status_code=201,
    response_model=EvaluationDetail,
    responses=PROBLEM_RESPONSES,
    summary="The final evaluation of a plan version (or its revision): locks every period",
)
async def create_final_evaluation(
    body: FinalEvaluationCreate, request: Request, write: Write, who: PlannerOrCertifier
) -> Any:
    finalize = partial(
        evaluations.finalize,
        upstream=upstreams(request),
        plan_id=body.plan_id,
        version=body.version,
        n1=body.n1,
        committee=body.committee.model_dump(mode="json"),
        revision_reason=body.revision_reason,
        now=request.app.state.clock(),
    )
    return await write(_detail(finalize), payload=body, status_code=201)


def _detail(make: Callable[[WriteContext], Awaitable[Any]]) -> Callable[[WriteContext], Awaitable[EvaluationDetail]]:
    """The application call, its stored run shaped as the response model."""

    async def apply(ctx: WriteContext) -> EvaluationDetail:
        return EvaluationDetail.model_validate(await make(ctx), from_attributes=True)

    return apply


@router.get("", response_model=EvaluationPage, responses=PROBLEM_RESPONSES, summary="Evaluation runs, newest first")
async def list_evaluations(
    session: SessionDep,
    who: Reader,
    page: PageDep,
    plan_id: PlanIdFilter = None,
    kind: Annotated[Literal["provisional", "final"] | None, Query()] = None,
) -> EvaluationPage:
    found = await evaluations.page(session, who, page, plan_id=plan_id, kind=kind)
    return EvaluationPage(
        items=[EvaluationSummary.model_validate(r, from_attributes=True) for r in found.items],
        next_cursor=found.next_cursor,
    )


@router.get(
    "/{evaluation_id}",
    response_model=EvaluationDetail,
    responses=PROBLEM_RESPONSES,
    summary="One evaluation with every score and its explanation",
)
async def get_evaluation(evaluation_id: str, session: SessionDep, who: Reader, response: Response) -> EvaluationDetail:
    run = await evaluations.get(session, who, evaluation_id)
    response.headers["etag"] = f'"{run.results_sha256}"'
    return EvaluationDetail.model_validate(run, from_attributes=True)


@router.get(
    "/{evaluation_id}/inputs",
    response_model=EvaluationInputs,
    responses=PROBLEM_RESPONSES,
    summary="The snapshot of inputs the run read",
)
async def get_inputs(evaluation_id: str, session: SessionDep, who: Reader) -> EvaluationInputs:
    run = await evaluations.get(session, who, evaluation_id)
    return EvaluationInputs(id=run.id, inputs_sha256=run.inputs_sha256, inputs=run.inputs)


@router.get(
    "/{evaluation_id}/items/{item_code}",
    response_model=ItemScore,
    responses=PROBLEM_RESPONSES,
    summary="One indicator or product score with its step-by-step explanation",
)
async def get_item(evaluation_id: str, item_code: ItemCodePath, session: SessionDep, who: Reader) -> ItemScore:
    run, kind, found = await evaluations.item(session, who, evaluation_id, item_code)
    return ItemScore.model_validate({"evaluation_id": run.id, "kind": kind, **found})


@router.post(
    "/{evaluation_id}:reproduce",
    response_model=ReproduceResult,
    responses=PROBLEM_RESPONSES,
    summary="Recompute from the stored snapshot and compare with the stored results",
)
async def reproduce(evaluation_id: str, session: SessionDep, who: Reader) -> ReproduceResult:
    again = await evaluations.reproduce(session, who, evaluation_id)
    return ReproduceResult(
        id=again.run.id,
        identical=again.recomputed_sha256 == again.run.results_sha256,
        results_sha256=again.run.results_sha256,
        recomputed_sha256=again.recomputed_sha256,
    )


REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    200: {
        "description": "The document: PDF, XLSX or CSV (the QUAR table or the Acordo items)",
        "content": {media: {"schema": {"type": "string", "format": "binary"}} for media in MEDIA_TYPES.values()},
    },
}


@router.get(
    "/{evaluation_id}/report",
    response_class=Response,
    responses=REPORT_RESPONSES,
    summary="The official document of the evaluation (QUAR table / Acordo report per team), from its snapshot",
)
async def get_report(
    evaluation_id: str, session: SessionDep, who: Reader, format: Annotated[Format, Query()] = "pdf"
) -> Response:
    document = await documents.report(session, who, evaluation_id, format)
    return Response(
        document.content,
        media_type=document.media_type,
        headers={"content-disposition": f'attachment; filename="{document.filename}"'},
    )

"""/v1/simulations: hypothetical results scored without storing, and the inverse questions."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError

from metas_kit.auth import Reader
from metas_kit.errors import PROBLEM_RESPONSES, ValidationFailed
from scoring.api.schemas import InverseCreate, SimulationCreate
from scoring.api.upstream import clients
from scoring.domain.evaluate import evaluate, make_inputs
from scoring.domain.simulate import InverseInputError, inverse, overlay
from scoring.metrics import SIMULATIONS

router = APIRouter(prefix="/v1/simulations", tags=["simulations"])


async def _inputs(body: SimulationCreate, request: Request) -> dict[str, Any]:
    if (body.plan is None) == (body.plan_id is None):
        raise ValidationFailed([{"path": "plan_id", "message": "give exactly one of plan_id and plan"}])
    registrations: dict[str, Any] = {"items": []}
    plan_etag = None
    if body.plan is not None:
        if body.use_registrations:
            raise ValidationFailed([{"path": "use_registrations", "message": "needs plan_id, not an inline plan"}])
        tree = body.plan
    else:
        assert body.plan_id is not None
        planning, execution = clients(request)
        fetched = await planning.tree(body.plan_id, body.version)
        tree, plan_etag = fetched.document, fetched.etag
        if body.use_registrations:
            registrations = await execution.current(body.plan_id, body.period_to)
    hypothetical = {code: r.model_dump(mode="json", exclude_none=True) for code, r in body.results.items()}
    merged, committee = overlay(registrations, hypothetical)
    return make_inputs(
        tree,
        merged,
        committee=committee,
        period_to=None,  # hypothetical rows sit after every real period
        as_of=None if body.as_of is None else body.as_of.isoformat(),
        n1=None if body.n1 is None else format(body.n1, "f"),
        plan_etag=plan_etag,
    )


def _engine_errors(exc: Exception) -> ValidationFailed:
    if isinstance(exc, ValidationError):
        errors = [{"path": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
        return ValidationFailed(errors, "The plan document holds an invalid scoring rule.")
    return ValidationFailed([{"path": "plan", "message": str(exc)}], "The plan cannot be scored.")


@router.post("", responses=PROBLEM_RESPONSES, summary="Score hypothetical results (nothing is stored)")
async def simulate(body: SimulationCreate, request: Request, _who: Reader) -> dict[str, Any]:
    inputs = await _inputs(body, request)
    try:
        results = await asyncio.to_thread(evaluate, inputs)
    except (ValidationError, KeyError, ValueError, TypeError) as exc:
        raise _engine_errors(exc) from exc
    SIMULATIONS.labels(kind="simulation").inc()
    return {"stored": False, "cutoff": inputs["cutoff"], "results": results}


@router.post(
    ":inverse",
    responses=PROBLEM_RESPONSES,
    summary="What result does an item need for a score, a team grade or an objective rate",
)
async def solve_inverse(body: InverseCreate, request: Request, _who: Reader) -> dict[str, Any]:
    inputs = await _inputs(body, request)
    try:
        answer = await asyncio.to_thread(inverse, inputs, body.item_code, body.target.kind, body.target.value)
    except InverseInputError as exc:
        raise ValidationFailed([{"path": "item_code", "message": str(exc)}]) from exc
    except (ValidationError, KeyError, ValueError, TypeError) as exc:
        raise _engine_errors(exc) from exc
    SIMULATIONS.labels(kind="inverse").inc()
    return answer

"""/v1/simulations: hypothetical results scored without storing, and the inverse questions."""

from __future__ import annotations

from fastapi import APIRouter, Request

from metas_kit.auth import Reader
from metas_kit.errors import PROBLEM_RESPONSES
from metas_kit.numbers import to_decimal
from scoring.api.schemas import InverseCreate, InverseResult, SimulationCreate, SimulationResult
from scoring.application import simulations
from scoring.application.upstreams import upstreams

router = APIRouter(prefix="/v1/simulations", tags=["simulations"])


def _scenario(body: SimulationCreate) -> simulations.Scenario:
    return simulations.Scenario(
        plan_id=body.plan_id,
        version=body.version,
        plan=body.plan,
        use_registrations=body.use_registrations,
        period_to=body.period_to,
        as_of=None if body.as_of is None else body.as_of.isoformat(),
        n1=body.n1,
        results={code: r.model_dump(mode="json", exclude_none=True) for code, r in body.results.items()},
    )


@router.post(
    "",
    response_model=SimulationResult,
    responses=PROBLEM_RESPONSES,
    summary="Score hypothetical results (nothing is stored)",
)
async def simulate(body: SimulationCreate, request: Request, who: Reader) -> SimulationResult:
    done = await simulations.simulate(upstreams(request), who, _scenario(body))
    return SimulationResult(cutoff=done.cutoff, results=done.results)


@router.post(
    ":inverse",
    response_model=InverseResult,
    responses=PROBLEM_RESPONSES,
    summary="What result does an item need for a score, a team grade or an objective rate",
)
async def solve_inverse(body: InverseCreate, request: Request, who: Reader) -> InverseResult:
    answer = await simulations.solve_inverse(
        upstreams(request),
        who,
        _scenario(body),
        item_code=body.item_code,
        target_kind=body.target.kind,
        target=to_decimal(body.target.value),
    )
    return InverseResult.model_validate(answer)

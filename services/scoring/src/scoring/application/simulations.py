"""Simulations (hypothetical results scored, nothing stored) and the inverse questions."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from metas_kit.auth import Principal
from metas_kit.errors import ValidationFailed
from scoring.application.access import require_plan_visible
from scoring.application.evaluations import ENGINE_ERRORS
from scoring.application.upstreams import Upstreams
from scoring.domain.evaluate import evaluate, make_inputs
from scoring.domain.simulate import InverseInputError, inverse, overlay
from scoring.metrics import SIMULATIONS


@dataclass(frozen=True, slots=True)
class Scenario:
    """What to score: a stored plan (`plan_id`, `version`) or an inline document (`plan`), and the
    hypothetical results laid over (or instead of) the current registrations."""

    plan_id: str | None
    version: int | None
    plan: Mapping[str, Any] | None
    use_registrations: bool
    period_to: str | None
    as_of: str | None
    n1: str | None
    results: Mapping[str, Mapping[str, Any]]


async def _inputs(upstream: Upstreams, who: Principal, s: Scenario) -> dict[str, Any]:
    if (s.plan is None) == (s.plan_id is None):
        raise ValidationFailed([{"path": "plan_id", "message": "give exactly one of plan_id and plan"}])
    registrations: dict[str, Any] = {"items": []}
    plan_etag = None
    if s.plan is not None:
        if s.use_registrations:
            raise ValidationFailed([{"path": "use_registrations", "message": "needs plan_id, not an inline plan"}])
        tree = s.plan
    else:
        assert s.plan_id is not None
        fetched = await upstream.planning.tree(s.plan_id, s.version)
        require_plan_visible(who, s.plan_id, fetched.document)
        tree, plan_etag = fetched.document, fetched.etag
        if s.use_registrations:
            registrations = await upstream.execution.current(s.plan_id, s.period_to)
    merged, committee = overlay(registrations, s.results)
    return make_inputs(
        tree,
        merged,
        committee=committee,
        period_to=None,  # hypothetical rows sit after every real period
        as_of=s.as_of,
        n1=s.n1,
        plan_etag=plan_etag,
    )


def _engine_errors(exc: Exception) -> ValidationFailed:
    if isinstance(exc, ValidationError):
        errors = [{"path": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
        return ValidationFailed(errors, "The plan document holds an invalid scoring rule.")
    return ValidationFailed([{"path": "plan", "message": str(exc)}], "The plan cannot be scored.")


@dataclass(frozen=True, slots=True)
class Simulation:
    cutoff: str | None
    results: dict[str, Any]


async def simulate(upstream: Upstreams, who: Principal, scenario: Scenario) -> Simulation:
    inputs = await _inputs(upstream, who, scenario)
    try:
        results = await asyncio.to_thread(evaluate, inputs)
    except ENGINE_ERRORS as exc:
        raise _engine_errors(exc) from exc
    SIMULATIONS.labels(kind="simulation").inc()
    return Simulation(inputs["cutoff"], results)


async def solve_inverse(
    upstream: Upstreams, who: Principal, scenario: Scenario, *, item_code: str, target_kind: str, target: Decimal
) -> dict[str, Any]:
    inputs = await _inputs(upstream, who, scenario)
    try:
        answer = await asyncio.to_thread(inverse, inputs, item_code, target_kind, target)
    except InverseInputError as exc:
        raise ValidationFailed([{"path": "item_code", "message": str(exc)}]) from exc
    except ENGINE_ERRORS as exc:
        raise _engine_errors(exc) from exc
    SIMULATIONS.labels(kind="inverse").inc()
    return answer

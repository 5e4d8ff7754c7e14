"""Whole QUAR evaluation: indicator rates → objective → parameter → final rate; classification,
relevant objectives and the final mention (docs/domain.md §3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from metas_rules.decimal_ops import HUNDRED, q2
from metas_rules.engine.facts import IndicatorFacts, Observation
from metas_rules.engine.indicators import score_indicator
from metas_rules.engine.mentions import DEFAULT_LABELS_VERSION, label
from metas_rules.engine.quar import (
    Classification,
    classify,
    deviation_percent,
    final_mention,
    relevant_objectives,
    weighted_rate,
)
from metas_rules.engine.trace import Score, Step


@dataclass(frozen=True, slots=True)
class QuarObjective:
    code: str
    parameter_code: str
    weight: Decimal  # % within its parameter
    relevant: bool | None = None


@dataclass(frozen=True, slots=True)
class QuarParameter:
    code: str
    weight: Decimal  # % of the final evaluation


@dataclass(frozen=True, slots=True)
class QuarPlan:
    indicators: tuple[IndicatorFacts, ...]
    objectives: tuple[QuarObjective, ...]
    parameters: tuple[QuarParameter, ...]
    relevance: Literal["explicit", "computed"] = "explicit"
    relevance_threshold_percent: Decimal = Decimal("50")
    labels_version: str = DEFAULT_LABELS_VERSION


@dataclass(frozen=True, slots=True)
class RateResult:
    code: str
    rate: Decimal | None
    complete: bool
    steps: tuple[Step, ...]
    classification: Classification | None = None
    label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "rate": None if self.rate is None else format(self.rate, "f"),
            "complete": self.complete,
            "classification": self.classification,
            "label": self.label,
            "deviation": None if self.rate is None else format(self.rate - HUNDRED, "f"),
            "steps": [s.to_dict() for s in self.steps],
        }


@dataclass(frozen=True, slots=True)
class QuarResult:
    indicators: dict[str, Score]
    objectives: dict[str, RateResult]
    parameters: dict[str, RateResult]
    final: RateResult
    relevant: tuple[str, ...]
    mention: str | None
    mention_label: str | None
    mention_reason: str | None
    labels_version: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "indicators": {k: v.to_dict() for k, v in self.indicators.items()},
            "objectives": {k: v.to_dict() for k, v in self.objectives.items()},
            "parameters": {k: v.to_dict() for k, v in self.parameters.items()},
            "final": self.final.to_dict(),
            "relevant_objectives": list(self.relevant),
            "mention": self.mention,
            "mention_label": self.mention_label,
            "mention_reason": self.mention_reason,
            "labels_version": self.labels_version,
        }


def _rollup(code: str, parts: list[tuple[str, Decimal, Decimal | None]], expected: int, what: str) -> RateResult:
    present = [(c, w, r) for c, w, r in parts if r is not None]
    if not present:
        return RateResult(code, None, False, ())
    wr = weighted_rate(present, what)
    return RateResult(code, wr.rate, len(present) == expected, tuple(wr.steps.steps))


def evaluate_quar(plan: QuarPlan, observations: Mapping[str, Observation]) -> QuarResult:
    scores: dict[str, Score] = {}
    for ind in plan.indicators:
        score = score_indicator(ind, observations.get(ind.code))
        obs = observations.get(ind.code)
        if score.scored and obs is not None and obs.result is not None and ind.meta is not None:
            dev = deviation_percent(obs.result, ind.meta)
            extra = (
                ("deviation_rate", format(score.value - HUNDRED, "f") if score.value is not None else ""),
                ("deviation_result_percent", "" if dev is None else format(dev, "f")),
            )
            score = Score(
                score.code,
                score.status,
                score.value,
                score.native,
                score.scale,
                score.rule_kind,
                score.steps,
                score.reason,
                extra,
            )
        scores[ind.code] = score
    objectives: dict[str, RateResult] = {}
    for obj in plan.objectives:
        inds = [i for i in plan.indicators if i.objective_code == obj.code]
        parts = [(i.code, i.weight, scores[i.code].value if scores[i.code].scored else None) for i in inds]
        res = _rollup(obj.code, parts, len(inds), f"objective {obj.code} rate")
        if res.rate is not None:
            cls = classify(res.rate)
            res = RateResult(res.code, res.rate, res.complete, res.steps, cls, label(cls, plan.labels_version))
        objectives[obj.code] = res
    parameters: dict[str, RateResult] = {}
    for par in plan.parameters:
        objs = [o for o in plan.objectives if o.parameter_code == par.code]
        parts = [(o.code, o.weight, objectives[o.code].rate) for o in objs]
        res = _rollup(par.code, parts, len(objs), f"parameter {par.code} rate")
        parameters[par.code] = RateResult(
            res.code, res.rate, res.complete and all(objectives[o.code].complete for o in objs), res.steps
        )
    parts = [(p.code, p.weight, parameters[p.code].rate) for p in plan.parameters]
    final = _rollup("final", parts, len(plan.parameters), "final rate")
    final = RateResult(
        "final", final.rate, final.complete and all(p.complete for p in parameters.values()), final.steps
    )
    relevant = _relevant(plan)
    mention = reason = mention_text = None
    if final.complete:
        classes = {c: r.classification for c, r in objectives.items() if r.classification is not None}
        key, reason = final_mention(classes, relevant)
        mention, mention_text = key, label(key, plan.labels_version)
    return QuarResult(
        scores, objectives, parameters, final, tuple(relevant), mention, mention_text, reason, plan.labels_version
    )


def global_weights(plan: QuarPlan) -> dict[str, Decimal]:
    """Objective weight in the final evaluation = parameter weight × objective weight / 100."""
    par = {p.code: p.weight for p in plan.parameters}
    return {o.code: q2(par[o.parameter_code] * o.weight / HUNDRED) for o in plan.objectives}


def _relevant(plan: QuarPlan) -> list[str]:
    if plan.relevance == "explicit":
        return [o.code for o in plan.objectives if o.relevant]
    return relevant_objectives(global_weights(plan), plan.relevance_threshold_percent)

"""Simulations: hypothetical results over (or instead of) the registrations, never stored; and the
inverse questions (result needed for a score, for a team grade, for an objective rate)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from metas_rules import DelayTableRule
from metas_rules.engine import latest_delivery_for_score, required_part_score, required_result
from metas_rules.engine.facts import IndicatorFacts, ProductFacts
from scoring.domain.evaluate import run

HYPOTHETICAL_PERIOD = "9999-12"


def overlay(
    registrations: Mapping[str, Any], hypothetical: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Registrations with each hypothetical item as a registration newer than any real one, and the
    committee decisions it implies (set-aside, partial scores, components, reference index)."""
    items = [dict(row) for row in registrations.get("items") or [] if row.get("item_code") not in hypothetical]
    committee: dict[str, Any] = {"set_aside": [], "partial_scores": {}, "inputs": {}}
    for code, h in hypothetical.items():
        if h.get("set_aside"):
            committee["set_aside"].append(code)
        if h.get("partial_score") is not None:
            committee["partial_scores"][code] = {"score": h["partial_score"], "justification": h.get("justification")}
        if h.get("components") or h.get("reference_index") is not None:
            committee["inputs"][code] = {"components": h.get("components"), "reference_index": h.get("reference_index")}
        payload = {
            k: h[k]
            for k in ("value", "completeness", "delivered_on", "quantity", "execution_rate")
            if h.get(k) is not None
        }
        if payload:
            items.append(
                {
                    "item_code": code,
                    "period": HYPOTHETICAL_PERIOD,
                    "registered": True,
                    "payload": payload,
                    "certification": "submitted",
                    "certified": False,
                }
            )
    return {"items": items}, committee


class InverseInputError(ValueError):
    pass


def _facts(r: Any, code: str) -> IndicatorFacts | ProductFacts:
    plan = r.acordo_plan or r.quar_plan
    for f in (*plan.indicators, *getattr(plan, "products", ())):
        if f.code == code:
            return f
    raise InverseInputError(f"{code} is not an indicator or product of the plan")


def inverse(inputs: Mapping[str, Any], item_code: str, target_kind: str, target: Decimal) -> dict[str, Any]:
    r = run(inputs)
    facts = _facts(r, item_code)
    answer: dict[str, Any] = {"item_code": item_code, "target": {"kind": target_kind, "value": format(target, "f")}}
    needed = target
    if target_kind in ("team_grade", "objective_rate"):
        parts, cap = _parts(r, facts, target_kind)
        part = required_part_score(parts, item_code, target, cap=cap)
        answer["required_score"] = part.to_dict()
        if part.status != "solved" or part.value is None:
            return answer
        needed = part.value
    elif target_kind != "score":
        raise InverseInputError(f"unknown target kind {target_kind!r}")
    if isinstance(facts, ProductFacts):
        if not isinstance(facts.rule, DelayTableRule) or facts.due_date is None:
            result = required_result(
                IndicatorFacts(code=facts.code, rule=facts.rule, meta=None, unit_code=facts.unit_code), needed
            )
        else:
            cutoff = r.acordo_plan.cutoff if r.acordo_plan else None
            result = latest_delivery_for_score(facts.rule, facts.due_date, needed, cutoff=cutoff)
    else:
        result = required_result(facts, needed)
    answer["required_result"] = result.to_dict()
    return answer


def _parts(
    r: Any, facts: IndicatorFacts | ProductFacts, kind: str
) -> tuple[list[tuple[str, Decimal, Decimal | None]], Decimal]:
    if kind == "team_grade":
        if r.acordo is None:
            raise InverseInputError("team_grade targets apply to Acordo plans")
        unit = facts.unit_code
        scores = {**r.acordo.indicators, **r.acordo.products}
        items = [f for f in (*r.acordo_plan.indicators, *r.acordo_plan.products) if f.unit_code == unit]
        parts = [
            (f.code, f.weight, scores[f.code].value if scores[f.code].scored else None)
            for f in items
            if scores[f.code].status != "set_aside" or f.code == facts.code
        ]
        return parts, Decimal(100)
    if r.quar is None or not isinstance(facts, IndicatorFacts):
        raise InverseInputError("objective_rate targets apply to QUAR indicators")
    inds = [i for i in r.quar_plan.indicators if i.objective_code == facts.objective_code]
    parts = [(i.code, i.weight, r.quar.indicators[i.code].value) for i in inds]
    ceiling = getattr(facts.rule, "ceiling", Decimal(125))
    return parts, ceiling

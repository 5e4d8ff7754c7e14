"""Whole Acordo de Resultados evaluation: indicators, products, teams in dependency order,
derived indicators after the teams they read, productivity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from metas_rules.engine.facts import Delivery, IndicatorFacts, Observation, ProductFacts
from metas_rules.engine.indicators import derived_units, score_indicator
from metas_rules.engine.products import score_product
from metas_rules.engine.teams import (
    N1_WEIGHT,
    N2_WEIGHT,
    TeamScore,
    WeightedItem,
    productivity,
    team_order,
    team_score,
)
from metas_rules.engine.trace import Score, Step
from metas_rules.rules import DerivedFromTeamsRule


@dataclass(frozen=True, slots=True)
class AcordoPlan:
    units: tuple[str, ...]
    indicators: tuple[IndicatorFacts, ...]
    products: tuple[ProductFacts, ...] = ()
    cutoff: date | None = None
    n1_weight: Decimal = N1_WEIGHT
    n2_weight: Decimal = N2_WEIGHT


@dataclass(frozen=True, slots=True)
class AcordoResult:
    order: tuple[str, ...]
    indicators: dict[str, Score]
    products: dict[str, Score]
    teams: dict[str, TeamScore]
    productivity: dict[str, tuple[Decimal, Step]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "order": list(self.order),
            "indicators": {k: v.to_dict() for k, v in self.indicators.items()},
            "products": {k: v.to_dict() for k, v in self.products.items()},
            "teams": {k: v.to_dict() for k, v in self.teams.items()},
            "productivity": {
                k: {"value": format(v, "f"), "step": s.to_dict()} for k, (v, s) in self.productivity.items()
            },
        }


def team_dependencies(plan: AcordoPlan) -> dict[str, set[str]]:
    """unit → the units whose grades its derived indicators read."""
    deps: dict[str, set[str]] = {u: set() for u in plan.units}
    for ind in plan.indicators:
        if isinstance(ind.rule, DerivedFromTeamsRule) and ind.unit_code is not None:
            deps.setdefault(ind.unit_code, set()).update(derived_units(ind.rule, ind.unit_code, list(plan.units)))
    return deps


def evaluate_acordo(
    plan: AcordoPlan,
    observations: Mapping[str, Observation],
    deliveries: Mapping[str, Delivery],
    *,
    as_of: date | None = None,
    n1: Decimal | None = None,
) -> AcordoResult:
    """Score every goal, then each team after the teams it depends on (DependencyCycleError on a cycle)."""
    order = team_order(plan.units, team_dependencies(plan))
    indicators: dict[str, Score] = {}
    products: dict[str, Score] = {}
    teams: dict[str, TeamScore] = {}
    grades: dict[str, Decimal] = {}
    units = list(plan.units)
    for unit in order:
        items: list[WeightedItem] = []
        for ind in (i for i in plan.indicators if i.unit_code == unit):
            score = score_indicator(ind, observations.get(ind.code), team_grades=grades, plan_units=units)
            indicators[ind.code] = score
            items.append(WeightedItem(ind.code, ind.weight, score))
        for prod in (p for p in plan.products if p.unit_code == unit):
            score = score_product(prod, deliveries.get(prod.code), cutoff=plan.cutoff, as_of=as_of)
            products[prod.code] = score
            items.append(WeightedItem(prod.code, prod.weight, score))
        team = team_score(unit, items)
        teams[unit] = team
        if team.value is not None:
            grades[unit] = team.value
    prod_scores: dict[str, tuple[Decimal, Step]] = {}
    if n1 is not None:
        for unit, team in teams.items():
            if team.value is not None:
                prod_scores[unit] = productivity(n1, team.value, n1_weight=plan.n1_weight, n2_weight=plan.n2_weight)
    return AcordoResult(tuple(order), indicators, products, teams, prod_scores)

"""Load the seed plans (the structured seed tables copied in seed_data/) into engine facts for the golden tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from metas_rules import parse_rule
from metas_rules.engine import IndicatorFacts, ProductFacts, StageFacts
from metas_rules.engine.quar_plan import QuarObjective, QuarParameter, QuarPlan
from metas_rules.seed_rules import indicator_rule_from_seed, product_rule_from_seed, quar_rule

DATA = Path(__file__).resolve().parent / "seed_data"


def _d(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@cache
def acordo() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DATA / "ipsm_2014_acordo.yaml").read_text())
    return data


@cache
def quar() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DATA / "ii_2024_quar.yaml").read_text())
    return data


def acordo_indicator(team: str, item: str) -> IndicatorFacts:
    for t in acordo()["teams"]:
        if t["key"] != team:
            continue
        for ind in t["indicators"]:
            if ind["item"] == item:
                return IndicatorFacts(
                    code=f"{team}-I{item}",
                    rule=parse_rule(indicator_rule_from_seed(ind)),
                    polarity=ind["polarity"],
                    meta=_d(ind["meta_2014"]["value"]),
                    reference_value=_d(ind["reference_values"]["2013"]["value"]),
                    unit_code=team,
                    weight=Decimal(str(ind["weight_percent"])),
                )
    raise KeyError((team, item))


def acordo_indicators() -> list[IndicatorFacts]:
    return [acordo_indicator(t["key"], i["item"]) for t in acordo()["teams"] for i in t["indicators"]]


def acordo_product(team: str, item: str, *, quantity_target: str | None = None) -> ProductFacts:
    for t in acordo()["teams"]:
        if t["key"] != team:
            continue
        for p in t["products"]:
            if p["item"] == item:
                stages = tuple(
                    StageFacts(f"{team}-P{item}-E{s['stage']}", date.fromisoformat(s["due_date"]))
                    for s in p.get("sub_deliverables") or []
                )
                return ProductFacts(
                    code=f"{team}-P{item}",
                    rule=parse_rule(product_rule_from_seed(p, quantity_target=quantity_target)),
                    due_date=date.fromisoformat(p["due_date"]),
                    unit_code=team,
                    weight=Decimal(str(p["weight_percent"])),
                    stages=stages,
                )
    raise KeyError((team, item))


def acordo_products() -> list[ProductFacts]:
    return [acordo_product(t["key"], p["item"]) for t in acordo()["teams"] for p in t["products"]]


def acordo_units() -> tuple[str, ...]:
    return tuple(t["key"] for t in acordo()["teams"])


def quar_indicator(code: str) -> IndicatorFacts:
    for op in quar()["operational_objectives"]:
        for ind in op["indicators"]:
            if ind["code"] == code:
                return _quar_facts(op, ind)
    raise KeyError(code)


def _quar_facts(op: dict[str, Any], ind: dict[str, Any]) -> IndicatorFacts:
    return IndicatorFacts(
        code=ind["code"],
        rule=parse_rule(quar_rule()),
        polarity=ind["polarity"],
        meta=_d(ind["meta_2024"]["value"]),
        tolerance=_d(ind["tolerancia"]["value"]),
        critical_value=_d(ind["valor_critico"]["value"]),
        weight=Decimal(str(ind["weight_percent"])),
        objective_code=op["code"],
    )


def quar_plan(relevance: str = "explicit") -> QuarPlan:
    ops = quar()["operational_objectives"]
    return QuarPlan(
        indicators=tuple(_quar_facts(op, ind) for op in ops for ind in op["indicators"]),
        objectives=tuple(
            QuarObjective(op["code"], op["parameter"], Decimal(str(op["weight_in_parameter_percent"])), op["relevante"])
            for op in ops
        ),
        parameters=tuple(QuarParameter(p["code"], Decimal(str(p["weight_percent"]))) for p in quar()["parameters"]),
        relevance=relevance,  # type: ignore[arg-type]
    )

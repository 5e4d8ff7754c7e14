"""Registration payload validation and the plan facts read from a planning tree."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from execution.domain.errors import InvalidRegistration
from execution.domain.periods import Period
from execution.domain.registrations import ItemKind, PlanFacts, PlanItem, SubActivity, normalise_payload

INDICATOR = PlanItem(code="Ind.4", kind=ItemKind.INDICATOR, unit_code="II")
PRODUCT = PlanItem(code="DS-P01", kind=ItemKind.PRODUCT, unit_code="DS")
INITIATIVE = PlanItem(
    code="DAD-15",
    kind=ItemKind.INITIATIVE,
    unit_code="DAD",
    target_percent=Decimal("90"),
    sub_activities=(
        SubActivity("1. Novos pedidos dos clientes", Decimal("25")),
        SubActivity("2. Evolutiva", Decimal("75")),
    ),
)


def test_indicator_value_or_ratio() -> None:
    assert normalise_payload(INDICATOR, {"value": "34.5"})["value"] == "34.5"
    # 97 of 100 accounts processed electronically, as a percentage: 97 / 100 × 100 = 97.
    ratio = normalise_payload(INDICATOR, {"numerator": 97, "denominator": 100, "multiplier": 100})
    assert ratio["value"] == "97"
    assert ratio["denominator"] == "100"
    # Average legal-opinion time: 23 days / 10 opinions = 2.3 (no multiplier).
    assert normalise_payload(INDICATOR, {"numerator": "23", "denominator": "10"})["value"] == "2.3"
    # 2 / 3 keeps six places, half up: 0.666667.
    assert normalise_payload(INDICATOR, {"numerator": 2, "denominator": 3})["value"] == "0.666667"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"value": 1, "numerator": 1, "denominator": 2},
        {"numerator": 1},
        {"numerator": 1, "denominator": 0},
        {"value": "abc"},
        {"value": "NaN"},
    ],
)
def test_indicator_bad_payloads(payload: dict[str, Any]) -> None:
    with pytest.raises(InvalidRegistration):
        normalise_payload(INDICATOR, payload)


def test_initiative_share_from_sub_activities() -> None:
    # 25 % weight fully done + 75 % weight 40 % done: 25 + 30 = 55 % of scope;
    # execution rate against the 90 % target: 55 / 90 × 100 = 61.111… → 61.11.
    out = normalise_payload(
        INITIATIVE,
        {
            "sub_activities": [
                {"name": "1. Novos pedidos dos clientes", "done_percent": 100},
                {"name": "2. Evolutiva", "done_percent": "40"},
            ]
        },
    )
    assert out["cumulative_percent"] == "55.00"
    assert out["execution_rate"] == "61.11"
    # Direct share: 93.6 % of scope against 90 % → 104.00 (above 100, as the QUAR shows).
    assert normalise_payload(INITIATIVE, {"cumulative_percent": "93.6"})["execution_rate"] == "104.00"
    with pytest.raises(InvalidRegistration):
        normalise_payload(INITIATIVE, {"cumulative_percent": "101"})
    with pytest.raises(InvalidRegistration):
        normalise_payload(INITIATIVE, {"sub_activities": [{"name": "unknown", "done_percent": 1}]})
    with pytest.raises(InvalidRegistration):  # stated share disagrees with the sub-activities
        normalise_payload(
            INITIATIVE,
            {"cumulative_percent": 50, "sub_activities": [{"name": "2. Evolutiva", "done_percent": 40}]},
        )


def test_product_delivery() -> None:
    full = normalise_payload(
        PRODUCT,
        {"completeness": "full", "delivered_on": "2014-11-28", "evidence": ["SEI 1234/2014"]},
    )
    assert full == {
        "completeness": "full",
        "delivered_on": "2014-11-28",
        "evidence": ["SEI 1234/2014"],
        "note": None,
    }
    assert normalise_payload(PRODUCT, {"note": "em andamento"})["completeness"] == "none"
    for bad in (
        {"completeness": "partial", "delivered_on": "2014-11-28"},  # no evidence
        {"completeness": "full", "evidence": ["x"]},  # no date
        {"completeness": "none", "delivered_on": "2014-11-28"},
        {"completeness": "full", "delivered_on": "2014-11-31", "evidence": ["x"]},
        {"completeness": "most"},
    ):
        with pytest.raises(InvalidRegistration):
            normalise_payload(PRODUCT, bad)


def test_plan_facts_from_tree() -> None:
    tree = {
        "plan": {
            "id": "ipsm-2014-acordo",
            "cycle_year": 2014,
            "calendar": {"country": "BR", "subdiv": "MG", "closures": []},
            "registration_deadline": {"business_day": 10, "month_offset": 1},
        },
        "units": [{"code": "DS", "name": "Diretoria de Saúde"}],
        "indicators": [
            {"code": "DS-I01", "unit_code": "DS", "periodicity": "monthly"},
            {"code": "AUD-I01", "unit_code": "AUD", "periodicity": "annual"},
        ],
        "products": [
            {"code": "DS-P02", "unit_code": "DS", "stages": [{"code": "DS-P02-E1"}, {"code": "DS-P02-E2"}]},
            {"code": "DS-P01", "unit_code": "DS", "stages": []},
        ],
        "initiatives": [],
    }
    facts = PlanFacts.from_tree(tree)
    assert facts.plan_id == "ipsm-2014-acordo"
    assert facts.cycle_year == 2014
    # Stages are registered on their own; a product with stages is not.
    assert sorted(facts.items) == ["AUD-I01", "DS-I01", "DS-P01", "DS-P02-E1", "DS-P02-E2"]
    assert facts.items["DS-P02-E1"].parent_code == "DS-P02"
    annual = facts.items["AUD-I01"]
    assert [p.month for p in facts.periods() if facts.owes(annual, p)] == [12]
    assert not facts.owes(facts.items["DS-I01"], Period(2015, 1))
    tree["products"].append({"code": "DS-I01", "unit_code": "DS"})
    with pytest.raises(InvalidRegistration):
        PlanFacts.from_tree(tree)

"""The scorecard's states and the trend chart's geometry, pure (docs/domain.md §7)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from console import chart, scorecard

PLANS = Path(__file__).resolve().parents[2] / "data" / "plans"


def plan(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((PLANS / f"{name}.yaml").read_text(encoding="utf-8"))
    return document


def test_acordo_states_come_from_the_plan_general_rule_table() -> None:
    bands = scorecard.bands_of(plan("ipsm-2014-acordo"))
    # Anexo IV's table as the seed plan prints it: 100, 80, 60, 40 and 0 → met from 100, partly met from 40.
    assert (bands.top, bands.floor, bands.source) == (Decimal(100), Decimal(40), "plan")
    assert [bands.state(v) for v in ("100.00", "99.99", "66.67", "40", "39.99", "0", None)] == [
        "green",
        "amber",
        "amber",
        "amber",
        "red",
        "red",
        "none",
    ]


def test_a_plan_whose_table_differs_is_judged_by_its_own_bands() -> None:
    document = plan("ipsm-2014-acordo")
    for indicator in document["indicators"]:
        rule = indicator["scoring_rule"]
        if rule["kind"] == "general":
            rule["obs2_table"]["rows"] = [{"value": "90"}, {"value": "50"}, {"value": "0"}]
    bands = scorecard.bands_of(document)
    assert (bands.top, bands.floor) == (Decimal(90), Decimal(50))
    assert (bands.state("90"), bands.state("89.99"), bands.state("49.99")) == ("green", "amber", "red")


def test_quar_states_compare_rates_with_100() -> None:
    bands = scorecard.bands_of(plan("ii-2024-quar"))
    assert [bands.state(v) for v in ("125.00", "100.01", "100.00", "100", "98.48")] == [
        "green",
        "green",
        "amber",
        "amber",
        "red",
    ]


def test_quar_scorecard_tree_parameter_objective_indicator() -> None:
    document = plan("ii-2024-quar")
    results = {
        "final": {"rate": "102.57"},
        "parameters": {"eficacia": {"rate": "107.35"}},
        "objectives": {"OP1": {"rate": "125.00", "label": "Superou", "steps": [{"description": "objective OP1 rate"}]}},
        "indicators": {"Ind.1": {"status": "scored", "value": "125.00"}, "Ind.2": {"status": "missing"}},
        "relevant_objectives": ["OP1"],
    }
    root = scorecard.build(document, results)
    assert (root.value, root.state) == ("102.57", "green")
    eficacia = root.children[0]
    assert (eficacia.code, eficacia.value, eficacia.state) == ("eficacia", "107.35", "green")
    op1 = eficacia.children[0]
    assert (op1.code, op1.extra["relevant"], [i.code for i in op1.children]) == ("OP1", True, ["Ind.1"])
    # the objective carries its rate's explanation steps, as the parameter and the final rate do
    assert op1.extra["steps"] == [{"description": "objective OP1 rate"}]
    node, ancestors = scorecard.find(root, "Ind.2")
    assert node is not None
    assert (node.status, node.state) == ("missing", "none")
    assert [a.code for a in ancestors] == ["II, I.P.", "eficacia", "OP2"]
    assert scorecard.missing_items(results) == ["Ind.2"]


def test_trend_chart_places_months_and_the_band() -> None:
    periods = [f"2024-{m:02d}" for m in range(1, 13)]
    values = {"2024-03": Decimal("96"), "2024-04": Decimal("99"), "2024-06": Decimal("101.2345")}
    drawn = chart.build(periods, values, "100", "2")
    # extremes 96 and the band 98–102: span 6 → step 2 (6 / 5 = 1.2 → 2); 96..102, and 104 as headroom
    assert [t for t, _ in drawn.ticks] == ["96", "98", "100", "102", "104"]
    assert drawn.band == ("98", "102")
    assert drawn.meta == "100"
    top, bottom = drawn.band_y or (0.0, 0.0)
    assert drawn.meta_y is not None
    assert top < drawn.meta_y < bottom  # y grows downwards
    assert [p.value for p in drawn.points if p.value] == ["96", "99", "101.23"]
    # March and April join; June stands alone (May has no value), so one line is drawn
    assert [len(run) for run in drawn.segments] == [2, 1]
    assert len(drawn.polylines) == 1
    assert drawn.points[0].y is None
    assert drawn.points[2].x < drawn.points[3].x


def test_registration_values() -> None:
    assert chart.value_of({"value": "52000"}) == Decimal(52000)
    assert chart.value_of({"numerator": "3", "denominator": "4", "multiplier": "100"}) == Decimal(75)
    assert chart.value_of({"numerator": "3", "denominator": "0"}) is None
    assert chart.value_of(None) is None

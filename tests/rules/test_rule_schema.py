"""Rule schema: parsing, round trip, and the static problems planning relies on."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from metas_rules import (
    RULE_KINDS,
    DelayTableRule,
    GeneralRule,
    QuarRealizationRule,
    RatioRule,
    StepTable,
    dump_rule,
    parse_rule,
    rule_problems,
)
from metas_rules.seed_rules import indicator_rule_from_seed, product_rule_from_seed

SEED_DIR = Path(__file__).resolve().parent / "seed_data"


def _acordo() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SEED_DIR / "ipsm_2014_acordo.yaml").read_text())
    return data


EXAMPLES: list[dict[str, Any]] = [
    {"kind": "general"},
    {"kind": "ratio", "scale": 10, "zero_below_result": "70.00"},
    {"kind": "threshold", "pass_when": "at_most_meta"},
    {"kind": "step_table", "table": {"rows": [{"interval": {"min": "0"}, "value": "100"}]}},
    {"kind": "weighted_composite", "components": [{"code": "A", "weight": "1"}]},
    {"kind": "derived_from_teams", "exclude_units": ["procuradoria"]},
    {"kind": "quar_realization"},
    {"kind": "delay_table"},
]


def test_every_kind_has_an_example_that_round_trips() -> None:
    assert sorted(e["kind"] for e in EXAMPLES) == sorted(RULE_KINDS)
    for example in EXAMPLES:
        rule = parse_rule(example)
        assert rule.kind == example["kind"]
        assert parse_rule(dump_rule(rule)) == rule


def test_unknown_kind_and_extra_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        parse_rule({"kind": "magic"})
    with pytest.raises(ValidationError):
        parse_rule({"kind": "ratio", "sclae": 10})
    with pytest.raises(ValidationError):
        parse_rule({"kind": "ratio", "scale": 7})


def test_general_defaults_to_the_anexo_iv_obs2_table() -> None:
    rule = parse_rule({"kind": "general"})
    assert isinstance(rule, GeneralRule)
    # 95.00 -> 80, 94.99 -> 60, 79.99 -> 0, 100 -> 100 (Anexo IV OBS2)
    table = rule.obs2_table
    assert table.lookup(D("95.00")).row.value == 80
    assert table.lookup(D("94.99")).row.value == 60
    assert table.lookup(D("79.99")).row.value == 0
    assert table.lookup(D("100")).row.value == 100


def test_delay_default_is_the_general_product_table() -> None:
    rule = parse_rule({"kind": "delay_table"})
    assert isinstance(rule, DelayTableRule)
    spans = [(b.days_min, b.days_max, b.score) for b in rule.bands]
    assert spans == [
        (0, 0, 100),
        (1, 30, 80),
        (31, 60, 70),
        (61, 90, 60),
        (91, 120, 50),
        (121, None, 0),
    ]
    assert rule.partial_max == 50


def test_ratio_with_meta_zero_is_a_problem() -> None:
    rule = parse_rule({"kind": "ratio", "scale": 100})
    assert rule_problems(rule, polarity="higher_is_better", meta=D(0)) != []
    assert rule_problems(rule, polarity="higher_is_better", meta=D(5)) == []
    assert rule_problems(parse_rule({"kind": "ratio", "target": "0"}), polarity="higher_is_better", meta=D(5))


def test_general_meta_zero_only_matters_when_meta_divides() -> None:
    rule = parse_rule({"kind": "general"})
    # no V0: result / meta divides by the meta
    assert rule_problems(rule, polarity="higher_is_better", meta=D(0), reference_value=None)
    # lower-is-better, meta 0 < V0 5: ambitious, (R - V0) / (M - V0) divides by -5: fine
    assert rule_problems(rule, polarity="lower_is_better", meta=D(0), reference_value=D(5)) == []
    # higher-is-better, meta 0 <= V0 5: OBS2 divides by the meta
    assert rule_problems(rule, polarity="higher_is_better", meta=D(0), reference_value=D(5))


def test_quar_critical_value_must_sit_on_the_polarity_side() -> None:
    rule = parse_rule({"kind": "quar_realization"})
    assert isinstance(rule, QuarRealizationRule)
    ok_lower = rule_problems(rule, polarity="lower_is_better", meta=D(35), tolerance=D(5), critical_value=D(20))
    assert ok_lower == []
    wrong = rule_problems(rule, polarity="higher_is_better", meta=D(35), tolerance=D(5), critical_value=D(20))
    assert any("critical value" in p for p in wrong)
    # VC inside the band (M+T = 105 >= VC 104) is refused too
    assert rule_problems(rule, polarity="higher_is_better", meta=D(100), tolerance=D(5), critical_value=D(104))
    assert rule_problems(rule, polarity="higher_is_better", meta=D(100), tolerance=None, critical_value=D(120))


def test_overlapping_step_rows_are_a_problem_and_gaps_follow_policy() -> None:
    overlapping = parse_rule(
        {
            "kind": "step_table",
            "input": "result",
            "table": {
                "rows": [
                    {"interval": {"min": "0", "max": "50"}, "value": "0"},
                    {"interval": {"min": "50", "max": "100"}, "value": "100"},
                ]
            },
        }
    )
    assert rule_problems(overlapping, polarity="higher_is_better", meta=D(1))
    gap_rows = [
        {"interval": {"min": "80", "max": "89"}, "value": "90"},
        {"interval": {"min": "90", "max": "100"}, "value": "100"},
    ]
    below = StepTable.model_validate({"rows": gap_rows, "gap": "row_below"})
    above = StepTable.model_validate({"rows": gap_rows, "gap": "row_above"})
    strict = StepTable.model_validate({"rows": gap_rows, "gap": "error"})
    assert below.lookup(D("89.5")).row.value == 90
    assert above.lookup(D("89.5")).row.value == 100
    with pytest.raises(ValueError):
        strict.lookup(D("89.5"))


def test_delay_bands_must_be_contiguous_and_non_increasing() -> None:
    bad = parse_rule(
        {
            "kind": "delay_table",
            "bands": [
                {"days_min": 0, "days_max": 0, "score": "100"},
                {"days_min": 2, "days_max": 10, "score": "90"},
            ],
        }
    )
    assert rule_problems(bad, polarity="higher_is_better", meta=None, item="product")
    rising = parse_rule(
        {
            "kind": "delay_table",
            "bands": [
                {"days_min": 0, "days_max": 0, "score": "80"},
                {"days_min": 1, "days_max": None, "score": "90"},
            ],
        }
    )
    assert rule_problems(rising, polarity="higher_is_better", meta=None, item="product")
    assert rule_problems(parse_rule({"kind": "delay_table"}), polarity="higher_is_better", meta=None)


def test_every_seed_rule_parses_and_is_scorable() -> None:
    data = _acordo()
    kinds: set[str] = set()
    for team in data["teams"]:
        for ind in team["indicators"]:
            rule = parse_rule(indicator_rule_from_seed(ind))
            kinds.add(rule.kind)
            v0 = ind["reference_values"]["2013"]["value"]
            meta = ind["meta_2014"]["value"]
            assert (
                rule_problems(
                    rule,
                    polarity=ind["polarity"],
                    meta=D(str(meta)),
                    reference_value=None if v0 is None else D(str(v0)),
                )
                == []
            ), (team["key"], ind["item"])
        for prod in team["products"]:
            rule = parse_rule(product_rule_from_seed(prod))
            kinds.add(rule.kind)
            assert rule_problems(rule, polarity="higher_is_better", meta=None, item="product") == []
    assert kinds == {
        "general",
        "ratio",
        "threshold",
        "weighted_composite",
        "derived_from_teams",
        "delay_table",
    }
    paa = next(i for t in data["teams"] for i in t["indicators"] if "PAA" in i["name"])
    rule = parse_rule(indicator_rule_from_seed(paa))
    assert isinstance(rule, RatioRule)
    assert (rule.scale, rule.zero_below_result) == (10, D("70.0"))

"""Rule parameters follow the one number grammar (issue 17): what is refused names the parameter's path, what is
accepted is dumped back exactly as sent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from metas_kit import numbers as kit
from metas_rules import numbers
from metas_rules.rules import dump_rule, parse_rule

# Same grammar as the kit's (the rules restate it because they import nothing first-party).
KINDS = [(numbers.SCORE, kit.SCORE), (numbers.MEASURE, kit.MEASURE)]


@pytest.mark.parametrize(("ours", "theirs"), KINDS)
def test_the_rules_grammar_is_the_kits(ours: numbers.RuleNumberKind, theirs: kit.NumberKind) -> None:
    assert (ours.pattern, ours.max_length, ours.describe()) == (theirs.pattern, theirs.max_length, theirs.describe())


BAD = [
    "1e3",
    "1E+999999999999",
    " 5",
    "5 \n",
    "1_000",
    "\u0661\u0662\u0663",  # Arabic-Indic digits
    "\uff11\uff12\uff13",  # full-width digits
    "NaN",
    "Infinity",
    "+5",
    ".5",
    "5.",
    "05",  # Decimal would drop the zero: not kept as sent
    "1.0000001",  # 7 decimals: measures carry 6
    "9" * 11,  # 11 integer digits: measures carry 10
    "9" * 4000,
    1.5,  # a JSON float: the digits as sent are gone
    True,
    [],
    Decimal("1E+3"),  # a Python caller's Decimal off the grammar
]


def _path(exc: ValidationError) -> list[str]:
    return [".".join(map(str, e["loc"])) for e in exc.errors()]


@pytest.mark.parametrize("value", BAD)
def test_a_measure_parameter_off_the_grammar_is_refused_naming_it(value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_rule({"kind": "ratio", "target": value})
    assert _path(caught.value) == ["ratio.target"]


def test_none_target_is_no_target_but_none_table_value_is_refused() -> None:
    assert parse_rule({"kind": "ratio", "target": None}) == parse_rule({"kind": "ratio"})
    with pytest.raises(ValidationError) as caught:
        parse_rule({"kind": "step_table", "table": {"rows": [{"interval": {}, "value": None}]}})
    assert _path(caught.value) == ["step_table.table.rows.0.value"]


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"kind": "threshold", "pass_score": "1e2"}, "threshold.pass_score"),
        ({"kind": "threshold", "fail_score": "-0"}, "threshold.fail_score"),  # scores are unsigned
        ({"kind": "threshold", "fail_score": "10000"}, "threshold.fail_score"),  # 5 digits: scores carry 4
        ({"kind": "quar_realization", "ceiling": "125.001"}, "quar_realization.ceiling"),  # 3 places: scores carry 2
        ({"kind": "delay_table", "partial_max": " 50"}, "delay_table.partial_max"),
        ({"kind": "delay_table", "beyond_score": 0.0}, "delay_table.beyond_score"),
        ({"kind": "delay_table", "bands": [{"days_min": 0, "score": "1_00"}]}, "delay_table.bands.0.score"),
        ({"kind": "delay_table", "bands": [{"days_min": 0.0, "score": "100"}]}, "delay_table.bands.0.days_min"),
        ({"kind": "delay_table", "bands": [{"days_min": "0", "score": "100"}]}, "delay_table.bands.0.days_min"),
        (
            {"kind": "delay_table", "bands": [{"days_min": 0, "days_max": True, "score": "1"}]},
            "delay_table.bands.0.days_max",
        ),
        ({"kind": "ratio", "scale": 10.0}, "ratio.scale"),
        ({"kind": "ratio", "zero_below_result": "\uff17\uff10"}, "ratio.zero_below_result"),
        (
            {"kind": "weighted_composite", "components": [{"code": "a", "weight": "1e0"}]},
            "weighted_composite.components.0.weight",
        ),
        (
            {"kind": "weighted_composite", "components": [{"code": "a", "weight": "1"}], "multiplier": 2.5},
            "weighted_composite.multiplier",
        ),
        (
            {"kind": "step_table", "table": {"rows": [{"interval": {"min": "١"}, "value": "100"}]}},
            "step_table.table.rows.0.intervals.0.min",
        ),
        (
            {"kind": "general", "obs2_table": {"rows": [{"interval": {"max": 80.5}, "value": "0"}]}},
            "general.obs2_table.rows.0.intervals.0.max",
        ),
    ],
)
def test_every_decimal_parameter_follows_the_grammar(rule: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_rule(rule)
    assert path in _path(caught.value)


def test_valid_parameters_are_dumped_exactly_as_sent() -> None:
    rule = {
        "kind": "step_table",
        "input": "result",
        "table": {
            "rows": [
                {"intervals": [{"min": "-2.500000", "max": "1234567890.123456"}], "value": "12.50", "label": None},
            ],
            "gap": "error",
        },
        "lower_execution": "seed",
    }
    assert dump_rule(parse_rule(rule))["table"]["rows"][0] == {
        "intervals": [{"min": "-2.500000", "min_inclusive": True, "max": "1234567890.123456", "max_inclusive": True}],
        "value": "12.50",
        "label": None,
    }
    # a JSON integer is a decimal too: its digits are the text
    assert dump_rule(parse_rule({"kind": "threshold", "pass_score": 90, "fail_score": "0.00"}))["pass_score"] == "90"
    assert dump_rule(parse_rule({"kind": "threshold", "fail_score": "0.00"}))["fail_score"] == "0.00"


# Anything a JSON parser (or a YAML loader keeping floats as text) can hand over for a parameter.
SENT = st.one_of(
    st.text(alphabet=st.sampled_from("0123456789.-+eE_ \n\u0661\uff11xN"), max_size=20),
    st.text(max_size=12),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.decimals(allow_nan=False, allow_infinity=False),
)


@settings(max_examples=400, deadline=None)
@given(value=SENT)
def test_a_parameter_is_refused_or_kept_exactly_as_sent(value: Any) -> None:
    try:
        dumped = dump_rule(parse_rule({"kind": "ratio", "target": value}))
    except ValidationError as exc:
        refused = _path(exc)
    else:
        refused = []
    if refused:
        assert refused == ["ratio.target"]
        return
    # accepted: only grammar text, JSON integers and grammar Decimals get here, and the dump is their text
    assert not isinstance(value, bool | float)
    text = str(value)
    assert dumped["target"] == text
    assert kit.decimal_text(text, kit.MEASURE) == text
    assert Decimal(dumped["target"]) == Decimal(text)


def test_the_longest_valid_texts_are_accepted_and_one_more_digit_is_not() -> None:
    # measure: '-' + 10 digits + '.' + 6 digits = 18 characters; score: 4 digits + '.' + 2 = 7
    assert numbers.rule_decimal("-1234567890.123456", numbers.MEASURE) == Decimal("-1234567890.123456")
    assert numbers.rule_decimal("1000.00", numbers.SCORE) == Decimal("1000.00")
    for text, kind in (("-12345678901.123456", numbers.MEASURE), ("10000.00", numbers.SCORE)):
        with pytest.raises(ValueError, match="expected a plain decimal"):
            numbers.rule_decimal(text, kind)


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("x" * 40, "'" + "x" * 40 + "'"),  # up to 40 characters: shown whole
        ("x" * 41, "'" + "x" * 37 + "...'"),  # longer: the first 37 and an ellipsis
        ("9" * 4000, "'" + "9" * 37 + "...'"),
    ],
)
def test_a_refusal_quotes_at_most_40_characters_of_the_text(sent: str, shown: str) -> None:
    with pytest.raises(ValueError, match="; got ") as caught:
        numbers.rule_decimal(sent, numbers.MEASURE)
    assert str(caught.value).endswith("; got " + shown)


def test_the_rule_schema_documents_the_grammar() -> None:
    from metas_rules.rules import rule_json_schema

    props = rule_json_schema()["$defs"]["ThresholdRule"]["properties"]
    score = props["pass_score"]
    assert score["anyOf"] == [
        {"type": "string", "pattern": r"^[0-9]{1,4}(\.[0-9]{1,2})?$", "maxLength": 7},
        {"type": "integer", "minimum": 0, "maximum": 9999},
    ]
    measure = rule_json_schema()["$defs"]["RatioRule"]["properties"]["target"]["anyOf"][0]
    assert measure["anyOf"][1] == {"type": "integer", "minimum": -9999999999, "maximum": 9999999999}

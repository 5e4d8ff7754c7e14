"""Explanations built on demand: a score computed without a trace explains itself exactly as one traced as it goes.

`score_indicator` scores the rule kinds that read only immutable inputs without recording steps and builds the
steps when they are read, by scoring again with a trace; `team_score` does the same with its items. These tests
hold the fast results to the traced reference (`_traced`, `_traced_team_score`) field by field, steps included,
and check that the records stay immutable values.
"""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metas_rules import parse_rule
from metas_rules.engine import IndicatorFacts, Observation, Score, WeightedItem, score_indicator, team_score
from metas_rules.engine.indicators import _traced
from metas_rules.engine.teams import TeamScore, _traced_team_score

D = Decimal
values = st.decimals(min_value=D("0.01"), max_value=D("100000"), places=2, allow_nan=False)
RULES = [
    {"kind": "general"},
    {"kind": "general", "lower_execution": "inverse_ratio"},
    {"kind": "ratio", "scale": 100},
    {"kind": "ratio", "scale": 10, "zero_below_result": "70"},
    {"kind": "ratio", "scale": 10, "target": "50"},
    {"kind": "threshold"},
    {"kind": "threshold", "pass_when": "at_most_meta", "pass_score": "80", "fail_score": "20"},
    {"kind": "quar_realization"},
    {"kind": "quar_realization", "ceiling": "150", "below_band": "meta"},
    {
        "kind": "step_table",
        "input": "execution_percent",
        "table": {
            "gap": "row_below",
            "rows": [
                {"interval": {"min": "100"}, "value": "100"},
                {"interval": {"min": "90", "max": "100", "max_inclusive": False}, "value": "80"},
                {"interval": {"min": "75", "max": "89"}, "value": "50.555"},
            ],
        },
    },
    {
        "kind": "step_table",
        "input": "result",
        "table": {"rows": [{"interval": {"min": "0", "max": "500"}, "value": "60"}]},  # gap error above 500
    },
]
PARSED = [parse_rule(r) for r in RULES]


def _fields(score: Score) -> tuple[object, ...]:
    return (score.code, score.status, score.value, score.native, score.scale, score.rule_kind, score.reason)


@settings(deadline=None, max_examples=300)
@given(
    st.sampled_from(PARSED),
    st.sampled_from(["higher_is_better", "lower_is_better"]),
    st.none() | values,
    st.none() | values,
    values,
    values,
    st.none() | values,
)
def test_a_score_explained_on_demand_is_the_traced_one(
    rule: object,
    polarity: str,
    meta: Decimal | None,
    v0: Decimal | None,
    tolerance: Decimal,
    result: Decimal,
    critical: Decimal | None,
) -> None:
    facts = IndicatorFacts(
        code="X",
        rule=rule,  # type: ignore[arg-type]
        polarity=polarity,  # type: ignore[arg-type]
        meta=meta,
        tolerance=tolerance,
        critical_value=critical,
        reference_value=v0,
    )
    obs = Observation(result=result)
    fast, traced = score_indicator(facts, obs), _traced(facts, obs, None, None)
    assert _fields(fast) == _fields(traced)
    assert fast.steps == traced.steps
    assert fast.to_dict() == traced.to_dict()
    assert fast == traced
    assert hash(fast) == hash(traced)
    assert fast.status != "scored" or fast.steps  # a score always explains itself


def test_a_lazy_score_reads_twice_the_same_and_is_an_immutable_value() -> None:
    facts = IndicatorFacts(code="G1", rule=parse_rule({"kind": "general"}), meta=D(80), reference_value=D(60))
    score = score_indicator(facts, Observation(result=D(75)))
    # (75 − 60) / (80 − 60) × 100 = 75.00
    assert (score.value, score.native, score.scale, score.status) == (D("75.00"), D("75.00"), 100, "scored")
    assert score.steps == score.steps
    assert len(score.steps) == 2
    assert score.steps[0].result == "75.00"
    assert pickle.loads(pickle.dumps(score)) == score
    assert "steps=(Step(description='ambitious target (meta > V0): general rule'" in repr(score)
    with pytest.raises(AttributeError):
        score.value = D(1)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        Observation(result=D(1)).result = D(2)  # type: ignore[misc]
    assert score != Score("G1", "scored", D("75.00"), D("75.00"), 100, "general")  # the steps differ
    assert Observation() == Observation(result=None)
    assert Observation().components == {}


items_strategy = st.lists(
    st.tuples(
        st.sampled_from(["scored", "set_aside", "missing", "not_scorable"]),
        st.decimals(min_value=D(0), max_value=D(5), places=1, allow_nan=False),
        st.decimals(min_value=D(0), max_value=D(125), places=2, allow_nan=False),
    ),
    max_size=8,
)


@settings(deadline=None, max_examples=200)
@given(items_strategy)
def test_a_team_grade_explained_on_demand_is_the_traced_one(parts: list[tuple[str, Decimal, Decimal]]) -> None:
    items = [
        WeightedItem(f"g{i}", w, Score(f"g{i}", status, v if status == "scored" else None))  # type: ignore[arg-type]
        for i, (status, w, v) in enumerate(parts)
    ]
    fast, traced = team_score("U", items), _traced_team_score("U", items)
    items.clear()  # the grade keeps its own copy of the items its explanation is built from
    assert (fast.value, fast.complete, fast.set_aside, fast.missing) == (
        traced.value,
        traced.complete,
        traced.set_aside,
        traced.missing,
    )
    assert fast.steps == traced.steps
    assert fast.steps
    assert fast.to_dict() == traced.to_dict()
    assert fast == traced
    assert isinstance(fast, TeamScore)


def test_a_team_grade_in_figures() -> None:
    # (80 × 2 + 50 × 1) / (2 + 1) = 210 / 3 = 70.00; g3 set aside leaves both sums, g4 missing makes it incomplete
    items = [
        WeightedItem("g1", D(2), Score("g1", "scored", D(80))),
        WeightedItem("g2", D(1), Score("g2", "scored", D(50))),
        WeightedItem("g3", D(3), Score("g3", "set_aside")),
        WeightedItem("g4", D(1), Score("g4", "missing")),
    ]
    grade = team_score("U", items)
    assert (grade.value, grade.complete, grade.set_aside, grade.missing) == (D("70.00"), False, ("g3",), ("g4",))
    assert grade.steps[-1].formula == "80 × 2 + 50 × 1 over 3"
    assert grade.steps[-1].result == "70.00"


def test_a_rule_copied_with_an_update_scores_with_its_new_fields() -> None:
    # The engine reads a rule's fields once as `params` and a table's bounds once as `_scan` (cached on the model);
    # a copy with an update must not keep the original's.
    rule = parse_rule({"kind": "ratio", "scale": 100})
    facts = IndicatorFacts(code="R", rule=rule, meta=D(80))
    assert score_indicator(facts, Observation(result=D(60))).value == D("75.00")  # 60 / 80 × 100, caches filled
    tenth = rule.model_copy(update={"scale": 10})
    scored = score_indicator(IndicatorFacts(code="R", rule=tenth, meta=D(80)), Observation(result=D(60)))
    assert (scored.native, scored.value) == (D("7.50"), D("75.00"))  # 60 / 80 × 10 = 7.50 on 0–10, × 10
    table_rule = PARSED[-1]
    table_facts = IndicatorFacts(code="T", rule=table_rule)
    assert score_indicator(table_facts, Observation(result=D(10))).value == D("60.00")
    wider = table_rule.table.model_copy(  # type: ignore[attr-defined]
        update={"rows": [table_rule.table.rows[0].model_copy(update={"value": D(70)})]}  # type: ignore[attr-defined]
    )
    copied = table_rule.model_copy(update={"table": wider})
    assert score_indicator(IndicatorFacts(code="T", rule=copied), Observation(result=D(10))).value == D("70.00")

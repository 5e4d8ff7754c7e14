"""Every indicator rule kind: the score AND the explanation a person reads (values, formula, result, table row).

Figures are worked by hand from docs/domain.md §2.1 and §3.1 (the arithmetic is in the comments); the expected
steps are what the trace must print, so a wrong value, formula or table row in an explanation fails here.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from metas_rules import parse_rule
from metas_rules.engine import IndicatorFacts, Observation, score_indicator
from metas_rules.engine.trace import Score
from metas_rules.rules import (
    CompositeComponent,
    DelayTableRule,
    DerivedFromTeamsRule,
    GeneralRule,
    QuarRealizationRule,
    RatioRule,
    StepTableRule,
    ThresholdRule,
    WeightedCompositeRule,
)
from metas_rules.tables import Interval, StepRow, StepTable


def steps(score: Score) -> list[dict[str, Any]]:
    return [s.to_dict() for s in score.steps]


def step(
    description: str,
    *,
    formula: str | None = None,
    values: dict[str, str] | None = None,
    result: str | None = None,
    table_row: str | None = None,
) -> dict[str, Any]:
    return {
        "description": description,
        "formula": formula,
        "values": values or {},
        "result": result,
        "table_row": table_row,
    }


def general(polarity: str = "higher_is_better", meta: str = "90", v0: str | None = "80", **rule: Any) -> IndicatorFacts:
    return IndicatorFacts(
        code="G",
        rule=GeneralRule(**rule),
        polarity=polarity,  # type: ignore[arg-type]
        meta=D(meta),
        reference_value=None if v0 is None else D(v0),
    )


def run(facts: IndicatorFacts, result: str | None, **obs: Any) -> Score:
    return score_indicator(facts, Observation(result=None if result is None else D(result), **obs))


BOUND = "score = min(max(score, 0), 100)"
OBS1 = "OBS1: a negative score is 0; the maximum is 100"
AMBITIOUS = "score = (result − V0) / (meta − V0) × 100"

# ---------------------------------------------------------------- general rule: ambitious (docs/domain.md §2.1.1)


def test_general_ambitious_higher_trace() -> None:
    # V0 80, meta 90, result 87: (87 − 80) / (90 − 80) × 100 = 7 / 10 × 100 = 70.00
    s = run(general(), "87")
    assert (s.status, s.value, s.native, s.scale, s.rule_kind) == ("scored", D("70.00"), D("70.00"), 100, "general")
    assert steps(s) == [
        step(
            "ambitious target (meta > V0): general rule",
            formula=AMBITIOUS,
            values={"result": "87", "V0": "80", "meta": "90"},
            result="70.00",
        ),
        step(OBS1, formula=BOUND, result="70.00"),
    ]


@pytest.mark.parametrize(
    ("result", "raw", "score"),
    [
        ("78", "-20.00", "0.00"),  # (78 − 80) / 10 × 100 = −20 → OBS1 → 0
        ("80", "0.00", "0.00"),  # result = V0 → 0 exactly (the lower edge)
        ("80.01", "0.10", "0.10"),  # 0.01 / 10 × 100 = 0.1
        ("90", "100.00", "100.00"),  # result = meta → 100 exactly
        ("95", "150.00", "100.00"),  # 15 / 10 × 100 = 150 → capped at 100
    ],
)
def test_general_ambitious_higher_bounds(result: str, raw: str, score: str) -> None:
    s = run(general(), result)
    assert s.value == D(score)
    assert steps(s)[0]["result"] == raw
    assert steps(s)[1]["result"] == str(D(score))


def test_general_ambitious_lower_trace() -> None:
    # lower-is-better, V0 40, meta 30 (< V0: ambitious), result 33: (33 − 40) / (30 − 40) × 100 = −7 / −10 × 100 = 70
    s = run(general("lower_is_better", meta="30", v0="40"), "33")
    assert s.value == D("70.00")
    assert steps(s)[0] == step(
        "ambitious target (meta < V0): general rule",
        formula=AMBITIOUS,
        values={"result": "33", "V0": "40", "meta": "30"},
        result="70.00",
    )
    # worse than V0: (41 − 40) / −10 × 100 = −10 → 0; better than the meta: (25 − 40) / −10 × 100 = 150 → 100
    assert run(general("lower_is_better", meta="30", v0="40"), "41").value == 0
    assert run(general("lower_is_better", meta="30", v0="40"), "25").value == 100


# ---------------------------------------------------------------- general rule: OBS2 table


OBS2_ROWS = {
    1: "row 1: [100, +inf) -> 100 (>= 100 %)",
    2: "row 2: [95, 99.99] -> 80 (95.00 - 99.99 %)",
    3: "row 3: [90, 94.99] -> 60 (90.00 - 94.99 %)",
    4: "row 4: [80, 89.99] -> 40 (80.00 - 89.99 %)",
    5: "row 5: (-inf, 80) -> 0 (< 80 %)",
}


def test_general_obs2_higher_trace() -> None:
    # V0 97.56, meta 97 (≤ V0: not ambitious), result 93: 93 / 97 × 100 = 95.8762… → 95.88 % → row 2 → 80
    s = run(general(meta="97", v0="97.56"), "93")
    assert s.value == D("80")
    assert steps(s) == [
        step(
            "OBS2: non-ambitious target (meta ≤ V0): percentage of execution, rounded to 2 places",
            formula="execution = result / meta × 100",
            values={"result": "93", "meta": "97", "V0": "97.56"},
            result="95.88",
        ),
        step("OBS2 table: execution → score", values={"x": "95.88"}, result="80", table_row=OBS2_ROWS[2]),
    ]


@pytest.mark.parametrize(
    ("result", "execution", "row", "score"),
    [
        ("97", "100.00", 1, "100"),  # result = meta: exactly 100 %
        ("96.9952", "100.00", 1, "100"),  # 99.995… rounds half up to 100.00 before the lookup
        ("96.99", "99.99", 2, "80"),  # 99.9896… → 99.99: the top of row 2
        ("92.15", "95.00", 2, "80"),  # 92.15 / 97 = 0.95 exactly: the bottom edge of row 2
        ("92.14", "94.99", 3, "60"),  # 94.9896… → 94.99
        ("87.3", "90.00", 3, "60"),  # 87.3 / 97 = 0.9 exactly
        ("87.29", "89.99", 4, "40"),  # 89.9896… → 89.99
        ("77.6", "80.00", 4, "40"),  # 77.6 / 97 = 0.8 exactly: 80 % is in row 4, not row 5
        ("77.59", "79.99", 5, "0"),  # 79.9896… → 79.99
    ],
)
def test_general_obs2_table_edges_on_both_sides(result: str, execution: str, row: int, score: str) -> None:
    s = run(general(meta="97", v0="97.56"), result)
    assert s.value == D(score)
    assert steps(s)[0]["result"] == execution
    assert steps(s)[1]["table_row"] == OBS2_ROWS[row]


def test_general_obs2_when_meta_equals_v0_higher() -> None:
    # meta = V0 is not ambitious (OBS2 says "menor ou igual"): 45 / 50 = 90.00 % → 60
    s = run(general(meta="50", v0="50"), "45")
    assert s.value == D("60")
    assert steps(s)[0]["description"].startswith("OBS2: non-ambitious target (meta ≤ V0)")


def test_general_obs2_lower_is_better_seed_formula_trace() -> None:
    # lower-is-better, V0 18, meta 20 (≥ V0: not ambitious), result 21: (1 − (21 − 20) / 20) × 100 = 95.00 % → 80
    s = run(general("lower_is_better", meta="20", v0="18"), "21")
    assert s.value == D("80")
    assert steps(s)[0] == step(
        "OBS2: non-ambitious target (meta ≥ V0): percentage of execution, rounded to 2 places",
        formula="execution = (1 − (result − meta) / meta) × 100",
        values={"result": "21", "meta": "20", "V0": "18"},
        result="95.00",
    )
    # meta = V0 for lower-is-better is not ambitious either: 20 / 20 → 100 %
    assert run(general("lower_is_better", meta="20", v0="20"), "20").value == 100


def test_general_obs2_lower_is_better_inverse_ratio() -> None:
    # lower_execution inverse_ratio: meta / result × 100 = 20 / 25 × 100 = 80.00 % → row 4 → 40
    facts = general("lower_is_better", meta="20", v0="18", lower_execution="inverse_ratio")
    s = run(facts, "25")
    assert s.value == D("40")
    assert steps(s)[0]["formula"] == "execution = meta / result × 100"
    assert steps(s)[0]["result"] == "80.00"
    # a zero result cannot be beaten: meta / 0 is read as infinite execution → row 1 (this was a
    # not_scorable "[<class 'decimal.InvalidOperation'>]" before rounding let infinity through)
    zero = run(facts, "0")
    assert (zero.status, zero.value) == ("scored", D("100"))
    assert steps(zero)[0]["result"] == "Infinity"
    assert steps(zero)[1]["table_row"] == OBS2_ROWS[1]


# ---------------------------------------------------------------- general rule: no V0


def test_general_no_v0_higher_trace() -> None:
    # no V0, meta 200, result 150: 150 / 200 × 100 = 75.00, no table
    s = run(general(meta="200", v0=None), "150")
    assert s.value == D("75.00")
    assert steps(s) == [
        step(
            "no reference value (V0): no-V0 formula, no table",
            formula="score = result / meta × 100",
            values={"result": "150", "meta": "200"},
            result="75.00",
        ),
        step("bound the score to [0, 100]", formula=BOUND, result="75.00"),
    ]
    # 300 / 200 × 100 = 150 → 100
    assert run(general(meta="200", v0=None), "300").value == 100


def test_general_no_v0_lower_trace_and_floor() -> None:
    # lower, meta 20, result 25: (1 − (25 − 20) / 20) × 100 = (1 − 0.25) × 100 = 75.00
    s = run(general("lower_is_better", meta="20", v0=None), "25")
    assert s.value == D("75.00")
    assert steps(s)[0]["formula"] == "score = (1 − (result − meta) / meta) × 100"
    assert steps(s)[0]["result"] == "75.00"
    # result 45: (1 − 25 / 20) × 100 = −25.00 → 0; result 10: (1 + 0.5) × 100 = 150 → 100
    low = run(general("lower_is_better", meta="20", v0=None), "45")
    assert (low.value, steps(low)[0]["result"]) == (D("0"), "-25.00")
    assert run(general("lower_is_better", meta="20", v0=None), "10").value == 100


# ---------------------------------------------------------------- ratio (docs/domain.md §2.1.2, §2.1.5, §2.2.5)


def ratio(meta: str | None = "5000", **rule: Any) -> IndicatorFacts:
    return IndicatorFacts(code="R", rule=RatioRule(**rule), meta=None if meta is None else D(meta))


def test_ratio_scale_100_trace() -> None:
    # VA 4 750 / VM 5 000 × 100 = 95.00
    s = run(ratio(), "4750")
    assert (s.value, s.native, s.scale) == (D("95.00"), D("95.00"), 100)
    assert steps(s) == [
        step(
            "ratio on the 0–100 scale",
            formula="score100 = result / meta × 100",
            values={"result": "4750", "meta": "5000"},
            result="95.00",
        ),
        step("bound the score to [0, 100]", result="95.00"),
    ]
    # 5 600 / 5 000 × 100 = 112 → 100; a negative result → 0
    over = run(ratio(), "5600")
    assert (over.value, steps(over)[0]["result"], steps(over)[1]["result"]) == (D("100"), "112.00", "100")
    assert run(ratio(), "-50").value == 0


def test_ratio_scale_10_with_floor_trace() -> None:
    # PAA: meta 90, result 85: 85 / 90 × 10 = 9.444… → 9.44 on 0–10 → 94.40 internal
    facts = ratio("90", scale=10, zero_below_result=D("70"))
    s = run(facts, "85")
    assert (s.value, s.native, s.scale) == (D("94.40"), D("9.44"), 10)
    assert steps(s) == [
        step(
            "ratio on the 0–10 scale",
            formula="score10 = result / meta × 10",
            values={"result": "85", "meta": "90"},
            result="9.44",
        ),
        step("bound the score to [0, 10]", result="9.44"),
        step(
            "convert from the 0–10 scale to the internal 0–100 scale",
            formula="score = score10 × 10",
            values={"score10": "9.44"},
            result="94.40",
        ),
    ]


def test_ratio_floor_edges() -> None:
    facts = ratio("90", scale=10, zero_below_result=D("70"))
    # exactly 70 is not below the floor: 70 / 90 × 10 = 7.777… → 7.78 → 77.80
    assert run(facts, "70").value == D("77.80")
    below = run(facts, "69.99")
    assert below.value == 0
    assert below.native == 0
    assert steps(below)[0] == step(
        "result below the floor 70: score is zero",
        formula="score10 = 0 when result < 70",
        values={"result": "69.99"},
        result="0",
    )
    # 0–10 bound: 110 / 90 × 10 = 12.22 → 10 → 100 internal
    assert run(facts, "110").value == 100


def test_ratio_own_target_for_a_quantity() -> None:
    # 250 of 303: 250 / 303 × 100 = 82.508… → 82.51; the meta of the item is not used
    s = run(ratio(None, target=D("303")), "250")
    assert s.value == D("82.51")
    assert steps(s)[0] == step(
        "ratio on the 0–100 scale",
        formula="score100 = result / target × 100",
        values={"result": "250", "target": "303"},
        result="82.51",
    )


def test_ratio_without_meta_is_not_scorable() -> None:
    s = run(ratio(None), "10")
    assert (s.status, s.reason, s.value) == ("not_scorable", "the indicator has no meta", None)


# ---------------------------------------------------------------- threshold (docs/domain.md §2.1.3)


IDLE_TABLE = StepTable(
    rows=[
        StepRow(intervals=[Interval(min=D(50), min_inclusive=False)], value=D(20), label="> 50%"),
        StepRow(intervals=[Interval(min=D(25), min_inclusive=False, max=D(50))], value=D(15), label="> 25% e ≤ 50%"),
        StepRow(intervals=[Interval(min=D(15), min_inclusive=False, max=D(25))], value=D(10)),
        StepRow(intervals=[Interval(min=D(0), max=D(15))], value=D(5)),
    ]
)


def idle(meta: str | None = None, **rule: Any) -> IndicatorFacts:
    return IndicatorFacts(
        code="T",
        rule=ThresholdRule(pass_when="at_most_meta", meta_table=IDLE_TABLE, **rule),
        polarity="lower_is_better",
        meta=None if meta is None else D(meta),
    )


def test_threshold_meta_from_the_reference_table_trace() -> None:
    # reference index 30 % → row "> 25 % e ≤ 50 %" → meta 15 %; result 15 % = meta → passes → 100
    s = run(idle(), "15", reference_index=D("30"))
    assert s.value == D("100")
    assert steps(s) == [
        step(
            "meta from the reference-index table",
            values={"reference index": "30"},
            result="15",
            table_row="row 2: (25, 50] -> 15 (> 25% e ≤ 50%)",
        ),
        step(
            "threshold: result ≤ meta holds",
            formula="score = 100 if result ≤ meta else 0",
            values={"result": "15", "meta": "15"},
            result="100",
        ),
    ]
    fail = run(idle(), "15.01", reference_index=D("30"))
    assert fail.value == 0
    assert steps(fail)[1]["description"] == "threshold: result ≤ meta fails"


def test_threshold_reference_index_on_the_row_edges() -> None:
    # 50 is in "> 25 e ≤ 50" (meta 15), 50.01 in "> 50" (meta 20), 15 in "≥ 0 e ≤ 15" (meta 5)
    assert steps(run(idle(), "1", reference_index=D("50")))[0]["result"] == "15"
    assert steps(run(idle(), "1", reference_index=D("50.01")))[0]["result"] == "20"
    assert steps(run(idle(), "1", reference_index=D("15")))[0]["result"] == "5"
    # result 18 passes with the meta of 20 but fails with 15
    assert run(idle(), "18", reference_index=D("50.01")).value == 100
    assert run(idle(), "18", reference_index=D("50")).value == 0


def test_threshold_without_reference_index_uses_the_item_meta() -> None:
    s = run(idle("5"), "5")
    assert s.value == 100
    assert steps(s)[0]["values"] == {"result": "5", "meta": "5"}
    assert run(idle(), "5").status == "not_scorable"  # neither a reference index nor a meta


def test_threshold_polarity_decides_when_pass_when_is_absent() -> None:
    higher = IndicatorFacts(code="H", rule=ThresholdRule(), polarity="higher_is_better", meta=D("10"))
    at_meta = run(higher, "10")
    assert at_meta.value == 100  # at least the meta: equal passes
    assert steps(at_meta)[0]["description"] == "threshold: result ≥ meta holds"
    assert steps(at_meta)[0]["formula"] == "score = 100 if result ≥ meta else 0"
    assert run(higher, "9.99").value == 0
    assert run(higher, "10.01").value == 100
    lower = IndicatorFacts(code="L", rule=ThresholdRule(), polarity="lower_is_better", meta=D("10"))
    assert run(lower, "10").value == 100
    assert run(lower, "10.01").value == 0
    assert run(lower, "9.99").value == 100


def test_threshold_custom_scores() -> None:
    facts = IndicatorFacts(
        code="C", rule=ThresholdRule(pass_score=D("80"), fail_score=D("20")), polarity="higher_is_better", meta=D("5")
    )
    passed, failed = run(facts, "6"), run(facts, "4")
    assert (passed.value, failed.value) == (D("80"), D("20"))
    assert steps(failed)[0]["formula"] == "score = 80 if result ≥ meta else 20"
    assert steps(failed)[0]["result"] == "20"


# ---------------------------------------------------------------- step table (docs/domain.md §2.1.4)


THREE_ROWS = StepTable(
    rows=[
        StepRow(intervals=[Interval(min=D(0), max=D(50), max_inclusive=False)], value=D(0)),
        StepRow(intervals=[Interval(min=D(50), max=D(80), max_inclusive=False)], value=D(50)),
        StepRow(intervals=[Interval(min=D(80))], value=D(100)),
    ]
)


def stepped(
    inp: str = "execution_percent", polarity: str = "higher_is_better", meta: str = "200", **kw: Any
) -> IndicatorFacts:
    return IndicatorFacts(
        code="S",
        rule=StepTableRule(input=inp, table=THREE_ROWS, **kw),
        polarity=polarity,  # type: ignore[arg-type]
        meta=D(meta),
    )


def test_step_table_on_the_execution_percent_trace() -> None:
    # meta 200, result 159.99: 159.99 / 200 × 100 = 79.995 → 80.00 (half up) → row 3 → 100
    s = run(stepped(), "159.99")
    assert s.value == D("100")
    assert steps(s) == [
        step(
            "percentage of execution, rounded to 2 places",
            formula="execution = result / meta × 100",
            values={"result": "159.99", "meta": "200"},
            result="80.00",
        ),
        step("step table → score", values={"x": "80.00"}, result="100", table_row="row 3: [80, +inf) -> 100"),
    ]
    # 159.97 / 200 × 100 = 79.985 → 79.99 → row 2 (the upper bound 80 is exclusive) → 50
    below = run(stepped(), "159.97")
    assert below.value == D("50")
    assert steps(below)[1]["table_row"] == "row 2: [50, 80) -> 50"
    # 100 / 200 = 50.00 % → row 2 (its lower bound is inclusive); 99.99 / 200 = 49.995 → 50.00 → row 2 too
    assert run(stepped(), "100").value == D("50")
    assert run(stepped(), "99.98").value == D("0")  # 49.99


def test_step_table_on_the_result_trace() -> None:
    # the result itself, rounded to 2 places: 79.995 → 80.00 → 100
    s = run(stepped("result"), "79.995")
    assert s.value == D("100")
    assert steps(s)[0] == step("look the result (rounded to 2 places) up", values={"result": "79.995"}, result="80.00")
    assert run(stepped("result"), "79.994").value == D("50")


def test_step_table_lower_is_better_execution() -> None:
    # seed formula: meta 20, result 21: (1 − 1/20) × 100 = 95.00 % → 100; result 30: (1 − 10/20) × 100 = 50 → 50
    assert run(stepped(polarity="lower_is_better", meta="20"), "21").value == D("100")
    # 25: seed (1 − 5/20) × 100 = 75 % → 50 (the inverse ratio would give 80 % → 100)
    assert run(stepped(polarity="lower_is_better", meta="20"), "25").value == D("50")
    s = run(stepped(polarity="lower_is_better", meta="20"), "30")
    assert (s.value, steps(s)[0]["formula"]) == (D("50"), "execution = (1 − (result − meta) / meta) × 100")
    # inverse ratio: 20 / 25 × 100 = 80.00 % → 100; 20 / 50 = 40 % → 0
    inv = stepped(polarity="lower_is_better", meta="20", lower_execution="inverse_ratio")
    assert run(inv, "25").value == D("100")
    assert run(inv, "50").value == D("0")
    assert run(inv, "0").value == D("100")  # 20 / 0: infinite execution, the top row


def test_step_table_value_in_no_row_is_not_scorable_with_the_reason() -> None:
    # −10 % falls under the first row, the policy is `error`
    s = run(stepped(), "-20")
    assert (s.status, s.value) == ("not_scorable", None)
    assert s.reason == "-10.00 falls in no row of the table (gap policy error)"
    assert steps(s)[0]["result"] == "-10.00"  # the steps done before the failure are kept


# ---------------------------------------------------------------- weighted composite (docs/domain.md §2.1.6)


def composite(*components: CompositeComponent, multiplier: str = "1", table: StepTable | None = None) -> IndicatorFacts:
    return IndicatorFacts(
        code="W", rule=WeightedCompositeRule(components=list(components), multiplier=D(multiplier), table=table)
    )


X_BUCKETS = StepTable(
    rows=[
        StepRow(intervals=[Interval(min=D(70), max=D(130))], value=D(1)),
        StepRow(
            intervals=[
                Interval(min=D(50), max=D(70), max_inclusive=False),
                Interval(min=D(130), min_inclusive=False, max=D(150)),
            ],
            value=D("0.7"),
        ),
        StepRow(
            intervals=[
                Interval(min=D(30), max=D(50), max_inclusive=False),
                Interval(min=D(150), min_inclusive=False, max=D(200)),
            ],
            value=D("0.5"),
        ),
        StepRow(
            intervals=[Interval(min=D(0), max=D(30), max_inclusive=False), Interval(min=D(200), min_inclusive=False)],
            value=D(0),
        ),
    ]
)
APROVEITAMENTO = StepTable(
    rows=[
        StepRow(intervals=[Interval(min=D(70), max=D(100))], value=D(100)),
        StepRow(intervals=[Interval(min=D(60), max=D(70), max_inclusive=False)], value=D(80)),
        StepRow(intervals=[Interval(min=D(50), max=D(60), max_inclusive=False)], value=D(60)),
        StepRow(intervals=[Interval(max=D(50), max_inclusive=False)], value=D(0)),
    ]
)


def purchasing() -> IndicatorFacts:
    return composite(
        CompositeComponent(code="X", weight=D("0.5"), buckets=X_BUCKETS),
        CompositeComponent(code="Y", weight=D("0.5"), buckets=X_BUCKETS),
        multiplier="100",
        table=APROVEITAMENTO,
    )


def test_composite_buckets_then_table_trace() -> None:
    # X 120 % → 1; Y 65 % → 0.7; (0.5 × 1 + 0.5 × 0.7) × 100 = 85.00 → "70–100" → 100
    s = run(purchasing(), None, components={"X": D("120"), "Y": D("65")})
    assert s.value == D("100")
    assert steps(s) == [
        step("component X: bucket value", values={"X": "120.00"}, result="1", table_row="row 1: [70, 130] -> 1"),
        step(
            "component Y: bucket value",
            values={"Y": "65.00"},
            result="0.7",
            table_row="row 2: [50, 70) or (130, 150] -> 0.7",
        ),
        step(
            "weighted composite, rounded to 2 places",
            formula="index = (0.5 × X + 0.5 × Y) × 100",
            values={"0.5·X": "1", "0.5·Y": "0.7"},
            result="85.00",
        ),
        step("step table: index → score", values={"x": "85.00"}, result="100", table_row="row 1: [70, 100] -> 100"),
    ]


@pytest.mark.parametrize(
    ("x", "y", "index", "score"),
    [
        ("140", "45", "60.00", "80"),  # 0.7 and 0.5: (0.35 + 0.25) × 100 = 60 → "60–70" (60 inclusive) → 80
        ("130", "70", "100.00", "100"),  # both edges inclusive in row 1: 1 and 1 → 100
        ("130.01", "69.99", "70.00", "100"),  # just over 130 and just under 70: 0.7 and 0.7 → 70 → row 1
        ("150.01", "29.99", "25.00", "0"),  # 0.5 and 0: 25 → below 50 → 0
        ("200.01", "30", "25.00", "0"),  # over 200 → 0, 30 inclusive → 0.5: 25
    ],
)
def test_composite_bucket_edges(x: str, y: str, index: str, score: str) -> None:
    s = run(purchasing(), None, components={"X": D(x), "Y": D(y)})
    assert s.value == D(score)
    assert steps(s)[2]["result"] == index


def test_composite_ratio_source_and_no_table_trace() -> None:
    # A = 45 / 50 × 100 = 90.00; B = 80 (a value); 0.5 × 90 + 0.5 × 80 = 85.00, no table → 85.00
    facts = composite(
        CompositeComponent(code="A", weight=D("0.5"), source="ratio"),
        CompositeComponent(code="B", weight=D("0.5")),
    )
    s = run(facts, None, components={"A.numerator": D("45"), "A.denominator": D("50"), "B": D("80")})
    assert s.value == D("85.00")
    assert steps(s) == [
        step(
            "component A",
            formula="A = numerator / denominator × 100",
            values={"numerator": "45", "denominator": "50"},
            result="90.00",
        ),
        step(
            "weighted composite, rounded to 2 places",
            formula="index = (0.5 × A + 0.5 × B)",
            values={"0.5·A": "90.00", "0.5·B": "80.00"},
            result="85.00",
        ),
        step("no table: the index is the score, bounded to [0, 100]", result="85.00"),
    ]


def test_composite_ratio_source_guards() -> None:
    facts = composite(CompositeComponent(code="A", weight=D("1"), source="ratio"))
    zero = run(facts, None, components={"A.numerator": D("1"), "A.denominator": D("0")})
    assert (zero.status, zero.reason) == ("not_scorable", "component A: denominator is 0")
    missing = run(facts, None, components={"A.numerator": D("1")})
    assert (missing.status, missing.reason) == ("not_scorable", "component input 'A.denominator' is missing")
    # no table: 150 % is bounded to 100, −5 % to 0
    assert run(facts, None, components={"A.numerator": D("3"), "A.denominator": D("2")}).value == 100
    assert run(facts, None, components={"A.numerator": D("-1"), "A.denominator": D("20")}).value == 0


def test_composite_revised_plan_ratio_trace() -> None:
    # planned = 10 000 000 × 4 / 10 + 8 000 000 × 6 / 10 = 4 000 000 + 4 800 000 = 8 800 000 (the Acordo's example)
    # P = 7 920 000 / 8 800 000 × 100 = 90.00
    facts = composite(CompositeComponent(code="P", weight=D("1"), source="revised_plan_ratio"))
    inputs = {
        "P.initial": D("10000000"),
        "P.months_initial": D("4"),
        "P.revised": D("8000000"),
        "P.months_revised": D("6"),
        "P.months_total": D("10"),
        "P.numerator": D("7920000"),
    }
    s = run(facts, None, components=inputs)
    assert s.value == D("90.00")
    assert steps(s)[0] == step(
        "component P: planned value weighted by the months each plan was in force",
        formula="planned = initial × months_initial / months_total + revised × months_revised / months_total",
        values={
            "initial": "10000000",
            "months_initial": "4",
            "revised": "8000000",
            "months_revised": "6",
            "months_total": "10",
        },
        result="8800000",
    )
    assert steps(s)[1] == step(
        "component P",
        formula="P = numerator / planned × 100",
        values={"numerator": "7920000", "planned": "8800000"},
        result="90.00",
    )
    no_plan = run(facts, None, components={**inputs, "P.initial": D("0"), "P.revised": D("0")})
    assert (no_plan.status, no_plan.reason) == ("not_scorable", "component P: planned value is 0")
    no_months = run(facts, None, components={**inputs, "P.months_total": D("0")})
    assert (no_months.status, no_months.reason) == ("not_scorable", "months_total is 0")


def test_composite_with_a_registered_result_but_no_components_is_not_scorable() -> None:
    facts = composite(CompositeComponent(code="A", weight=D("1")))
    s = run(facts, None)
    assert (s.status, s.reason) == ("not_scorable", "component input 'A' is missing")


def test_regionalisation_gap_row_below_trace() -> None:
    # 0.3 × 90 + 0.3 × 88 + 0.4 × 89.5 = 27 + 26.4 + 35.8 = 89.20: between "80–89" and "90–100" → row below → 90
    table = StepTable(
        rows=[
            StepRow(intervals=[Interval(min=D(90), max=D(100))], value=D(100)),
            StepRow(intervals=[Interval(min=D(80), max=D(89))], value=D(90)),
            StepRow(intervals=[Interval(max=D(80), max_inclusive=False)], value=D(0)),
        ],
        gap="row_below",
    )
    facts = composite(
        CompositeComponent(code="F", weight=D("0.3")),
        CompositeComponent(code="N", weight=D("0.3")),
        CompositeComponent(code="R", weight=D("0.4")),
        table=table,
    )
    s = run(facts, None, components={"F": D("90"), "N": D("88"), "R": D("89.5")})
    assert s.value == D("90")
    assert steps(s)[-2]["formula"] == "index = (0.3 × F + 0.3 × N + 0.4 × R)"
    assert steps(s)[-2]["result"] == "89.20"
    assert steps(s)[-1]["table_row"] == "row 2: [80, 89] -> 90 [gap resolved by policy row_below]"


# ---------------------------------------------------------------- derived from teams (docs/domain.md §2.1.8)


GRADES = {"A": D("92.50"), "B": D("88.00"), "C": D("95.30"), "P": D("70"), "AUD": D("60"), "OWN": D("50")}


def derived(meta: str | None = "10", **rule: Any) -> IndicatorFacts:
    return IndicatorFacts(
        code="M",
        rule=DerivedFromTeamsRule(exclude_units=["P", "AUD"], **rule),
        meta=None if meta is None else D(meta),
        unit_code="OWN",
    )


def test_derived_mean_of_team_grades_trace() -> None:
    # A, B, C (P and AUD excluded, OWN is the indicator's own team): 9.25, 8.80, 9.53
    # mean = 27.58 / 3 = 9.1933… → 9.19; score10 = 9.19 / 10 × 10 = 9.19 → 91.90
    s = score_indicator(derived(), None, team_grades=GRADES, plan_units=list(GRADES))
    assert (s.value, s.native, s.scale) == (D("91.90"), D("9.19"), 10)
    assert steps(s) == [
        step(
            "mean of the team grades on the 0–10 scale (excluding P, AUD)",
            formula="result = Σ team grades / number of teams",
            values={"A": "9.25", "B": "8.80", "C": "9.53"},
            result="9.19",
        ),
        step(
            "ratio on the 0–10 scale",
            formula="score10 = result / meta × 10",
            values={"result": "9.19", "meta": "10"},
            result="9.19",
        ),
        step("bound the score to [0, 10]", result="9.19"),
        step(
            "convert from the 0–10 scale to the internal 0–100 scale",
            formula="score = score10 × 10",
            values={"score10": "9.19"},
            result="91.90",
        ),
    ]


def test_derived_bounds_include_list_and_missing_grades() -> None:
    # meta 9: 9.19 / 9 × 10 = 10.211… → 10.21 → bounded to 10.00 → 100
    over = score_indicator(derived("9"), None, team_grades=GRADES, plan_units=list(GRADES))
    assert (over.value, steps(over)[1]["result"], steps(over)[2]["result"]) == (D("100"), "10.21", "10.00")
    # explicit include list: only A and C → (9.25 + 9.53) / 2 = 9.39
    inc = score_indicator(derived(include_units=["C", "A"]), None, team_grades=GRADES)
    assert steps(inc)[0]["values"] == {"A": "9.25", "C": "9.53"}
    assert inc.value == D("93.90")
    # without plan_units the teams are those graded so far
    assert score_indicator(derived(), None, team_grades={"A": D("80")}).value == D("80.0")
    missing = score_indicator(derived(), None, team_grades={"A": D("80")}, plan_units=["A", "B"])
    assert (missing.status, missing.reason) == ("not_scorable", "team grades missing for B")
    nobody = score_indicator(derived(), None, team_grades={}, plan_units=["P", "OWN"])
    assert (nobody.status, nobody.reason) == ("not_scorable", "no team grades to average")
    no_meta = score_indicator(derived(None), None, team_grades=GRADES, plan_units=list(GRADES))
    assert (no_meta.status, no_meta.reason) == ("not_scorable", "the indicator has no meta")


def test_derived_on_the_100_scale() -> None:
    # grades kept on 0–100: (92.50 + 88.00) / 2 = 90.25; meta 95 → 90.25 / 95 × 100 = 95.0 → 95.00, no conversion
    facts = IndicatorFacts(
        code="M100",
        rule=DerivedFromTeamsRule(include_units=["A", "B"], team_grade_scale=100, scale=100),
        meta=D("95"),
    )
    s = score_indicator(facts, None, team_grades=GRADES)
    assert (s.value, s.scale) == (D("95.00"), 100)
    assert steps(s)[0]["description"] == "mean of the team grades on the 0–100 scale"
    assert steps(s)[0]["result"] == "90.25"
    assert len(steps(s)) == 3  # no conversion step on the 0–100 scale


# ---------------------------------------------------------------- QUAR realisation through score_indicator (§3.1)


def quar(
    polarity: str = "higher_is_better", m: str = "100", t: str | None = "5", vc: str = "120", **rule: Any
) -> IndicatorFacts:
    return IndicatorFacts(
        code="Q",
        rule=QuarRealizationRule(**rule),
        polarity=polarity,  # type: ignore[arg-type]
        meta=D(m),
        tolerance=None if t is None else D(t),
        critical_value=D(vc),
    )


def test_quar_indicator_trace_above_the_band() -> None:
    # M 100, T 5, VC 120, R 112: 100 + 25 × (112 − 105) / (120 − 105) = 100 + 11.666… = 111.67
    s = run(quar(), "112")
    assert s.value == D("111.67")
    assert steps(s) == [
        step(
            "M+T < R < VC: above the band (Superou)",
            formula="rate = 100 + 25 × (R − (M+T)) / (VC − (M+T))",
            values={"R": "112", "M": "100", "T": "5", "VC": "120"},
            result="111.67",
        )
    ]


def test_quar_indicator_needs_tolerance() -> None:
    s = run(quar(t=None), "100")
    assert (s.status, s.reason) == ("not_scorable", "meta, tolerance and critical value are required")


# ---------------------------------------------------------------- statuses


def test_set_aside_missing_and_wrong_kind() -> None:
    aside = score_indicator(general(), Observation(result=D("87"), set_aside=True))
    assert (aside.status, aside.value, aside.reason, aside.rule_kind) == (
        "set_aside",
        None,
        "set aside by the committee",
        "general",
    )
    for obs in (None, Observation()):
        missing = score_indicator(general(), obs)
        assert (missing.status, missing.reason, missing.steps) == ("missing", "no result registered", ())
    delay = IndicatorFacts(code="D", rule=DelayTableRule(), meta=D("1"))
    wrong = run(delay, "1")
    assert (wrong.status, wrong.reason) == ("not_scorable", "rule kind 'delay_table' scores products, not indicators")
    no_meta = run(IndicatorFacts(code="N", rule=GeneralRule()), "1")
    assert (no_meta.status, no_meta.reason) == ("not_scorable", "the indicator has no meta")


def test_score_to_dict_is_what_the_api_prints() -> None:
    s = run(ratio("90", scale=10), "85")
    d = s.to_dict()
    assert d["code"] == "R"
    assert d["status"] == "scored"
    assert (d["value"], d["native"], d["scale"], d["rule_kind"]) == ("94.40", "9.44", 10, "ratio")
    assert d["reason"] is None
    assert d["extra"] == {}
    assert d["steps"][0]["values"] == {"result": "85", "meta": "90"}
    assert s.scored
    missing = score_indicator(ratio(), None).to_dict()
    assert (missing["value"], missing["native"], missing["status"]) == (None, None, "missing")


def test_parsed_seed_rule_scores_like_the_built_one() -> None:
    # the JSON form of a rule (what a plan stores) scores the same: 4 750 / 5 000 × 100 = 95.00
    facts = IndicatorFacts(code="J", rule=parse_rule({"kind": "ratio", "scale": 100}), meta=D("5000"))
    assert run(facts, "4750").value == D("95.00")

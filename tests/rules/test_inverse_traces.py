"""Inverse questions ("what result / score / delivery date is needed?") for every rule kind, with the steps a person
reads, worked by hand by inverting the formulas of docs/domain.md §2–3."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest

from metas_rules.engine import (
    IndicatorFacts,
    latest_delivery_for_score,
    required_part_score,
    required_result,
)
from metas_rules.engine.inverse import InverseAnswer
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
from metas_rules.tables import DelayBand, Interval, StepRow, StepTable


def facts(rule: Any, polarity: str = "higher_is_better", meta: str | None = "100", **kw: Any) -> IndicatorFacts:
    return IndicatorFacts(
        code="X",
        rule=rule,
        polarity=polarity,  # type: ignore[arg-type]
        meta=None if meta is None else D(meta),
        **kw,
    )


def solved(answer: InverseAnswer) -> tuple[str, D | None, str | None, D | None]:
    return answer.status, answer.value, answer.direction, answer.achieved


def steps(answer: InverseAnswer) -> list[dict[str, Any]]:
    return [s.to_dict() for s in answer.steps]


# ---------------------------------------------------------------- general rule


def test_general_ambitious_inverse_trace() -> None:
    # score = (R − 80) / (90 − 80) × 100 = 70 → R = 80 + 70 × 10 / 100 = 87
    answer = required_result(facts(GeneralRule(), meta="90", reference_value=D(80)), D(70))
    assert solved(answer) == ("solved", D(87), "at_least", D("70.00"))
    assert answer.quantity == "result"
    assert steps(answer) == [
        {
            "description": "ambitious target: invert score = (R − V0)/(M − V0) × 100",
            "formula": "R = V0 + score × (M − V0) / 100",
            "values": {"score": "70", "V0": "80", "M": "90"},
            "result": "87",
            "table_row": None,
        },
        {
            "description": "check: score the solved result forward",
            "formula": None,
            "values": {"result": "87"},
            "result": "70.00",
            "table_row": None,
        },
    ]


def test_general_ambitious_lower_inverse() -> None:
    # lower: R = 40 + 70 × (30 − 40) / 100 = 33; a better (lower) result also scores 70 or more
    answer = required_result(facts(GeneralRule(), "lower_is_better", "30", reference_value=D(40)), D(70))
    assert solved(answer) == ("solved", D(33), "at_most", D("70.00"))


def test_general_no_v0_inverse_traces() -> None:
    # higher: R = 75 × 200 / 100 = 150
    higher = required_result(facts(GeneralRule(), meta="200"), D(75))
    assert solved(higher) == ("solved", D(150), "at_least", D("75.00"))
    assert steps(higher)[0]["description"] == "no V0: invert score = R / M × 100"
    assert steps(higher)[0]["formula"] == "R = score × M / 100"
    assert steps(higher)[0]["values"] == {"score": "75", "M": "200"}
    # lower: R = 20 × (2 − 75 / 100) = 20 × 1.25 = 25
    lower = required_result(facts(GeneralRule(), "lower_is_better", "20"), D(75))
    assert solved(lower) == ("solved", D(25), "at_most", D("75.00"))
    assert steps(lower)[0]["description"] == "no V0: invert score = (1 − (R − M)/M) × 100"
    assert steps(lower)[0]["formula"] == "R = M × (2 − score / 100)"


def test_general_obs2_inverse_searches_the_table() -> None:
    # meta 97 ≤ V0 97.56; score 80 needs row "95.00–99.99 %": least execution 95 → R = 95 × 97 / 100 = 92.15
    answer = required_result(facts(GeneralRule(), meta="97", reference_value=D("97.56")), D(80))
    assert solved(answer) == ("solved", D("92.15"), "at_least", D(80))
    assert steps(answer)[0] == {
        "description": "OBS2 table: least percentage of execution reaching the score",
        "formula": None,
        "values": {},
        "result": "95",
        "table_row": "row 2: [95, 99.99] -> 80 (95.00 - 99.99 %)",
    }
    assert steps(answer)[1]["description"] == "result giving that percentage of execution"
    assert steps(answer)[1]["values"] == {"execution": "95", "meta": "97"}
    # 81 needs row 1 (≥ 100 %): R = 97
    assert required_result(facts(GeneralRule(), meta="97", reference_value=D("97.56")), D(81)).value == D(97)


def test_general_obs2_lower_inverse() -> None:
    # lower, meta 20 ≥ V0 18; score 60 needs 90 %: seed formula R = 20 × (2 − 90 / 100) = 22
    seed = required_result(facts(GeneralRule(), "lower_is_better", "20", reference_value=D(18)), D(60))
    assert solved(seed) == ("solved", D(22), "at_most", D(60))
    # inverse ratio: R = 20 × 100 / 90 = 22.222… → rounded down (at most) to 22.2222
    rule = GeneralRule(lower_execution="inverse_ratio")
    inv = required_result(facts(rule, "lower_is_better", "20", reference_value=D(18)), D(60))
    assert solved(inv) == ("solved", D("22.2222"), "at_most", D(60))


def test_general_bounds_of_the_question() -> None:
    over = required_result(facts(GeneralRule()), D("100.01"))
    assert (over.status, over.reason) == ("impossible", "the general rule scores at most 100")
    zero = required_result(facts(GeneralRule()), D(0))
    assert (zero.status, zero.reason, zero.value) == ("always", "every result scores at least 0", None)
    assert required_result(facts(GeneralRule(), meta="200"), D(100)).value == D(200)  # exactly 100 is possible
    no_meta = required_result(facts(GeneralRule(), meta=None), D(50))
    assert (no_meta.status, no_meta.reason) == ("impossible", "the indicator has no meta")


# ---------------------------------------------------------------- ratio


def test_ratio_inverse_on_the_0_10_grid_trace() -> None:
    # target 81.82 on a 0–10 rule: score10 must reach 8.182 → next grid point 8.19; R = 8.19 × 10 / 10 = 8.19
    answer = required_result(facts(RatioRule(scale=10), meta="10"), D("81.82"))
    assert solved(answer) == ("solved", D("8.19"), "at_least", D("81.90"))
    assert steps(answer)[0] == {
        "description": "invert score10 = R / target × 10 (score10 on its 2-decimal grid)",
        "formula": "R = score10 × target / 10",
        "values": {"score10": "8.19", "target": "10"},
        "result": "8.19",
        "table_row": None,
    }


def test_ratio_inverse_with_floor_and_lower_polarity() -> None:
    # PAA, meta 90, target 50: score10 5.00 → R = 5 × 90 / 10 = 45, under the floor 70 → R = 70 (scores 77.80)
    rule = RatioRule(scale=10, zero_below_result=D(70))
    answer = required_result(facts(rule, meta="90"), D(50))
    assert solved(answer) == ("solved", D(70), "at_least", D("77.80"))
    assert steps(answer)[1] == {
        "description": "raise to the floor below which the score is 0",
        "formula": None,
        "values": {"floor": "70"},
        "result": "70",
        "table_row": None,
    }
    assert answer.to_dict()["value"] == "70"  # the solved 70 is kept as 7E+1 internally: printed plainly
    assert answer.target == D(50)
    # above the floor nothing is raised: target 90 → 9 × 90 / 10 = 81
    assert required_result(facts(rule, meta="90"), D(90)).value == D(81)
    # a ratio rewards a higher result even where the item prints lower-is-better (VA / VM)
    va_vm = required_result(facts(RatioRule(), "lower_is_better", "5000"), D(95))
    assert solved(va_vm) == ("solved", D(4750), "at_least", D("95.00"))
    over = required_result(facts(RatioRule()), D("100.01"))
    assert (over.status, over.reason) == ("impossible", "a ratio scores at most 100")
    target = required_result(facts(RatioRule(target=D(303)), meta=None), D(50))
    assert target.value == D("151.5")  # 50 × 303 / 100


# ---------------------------------------------------------------- threshold


def test_threshold_inverse() -> None:
    rule = ThresholdRule(pass_when="at_most_meta")
    answer = required_result(facts(rule, "lower_is_better", "5"), D(100))
    assert solved(answer) == ("solved", D(5), "at_most", D(100))
    assert steps(answer)[0] == {
        "description": "threshold: the result must meet the meta",
        "formula": None,
        "values": {"meta": "5"},
        "result": "5",
        "table_row": None,
    }
    assert required_result(facts(ThresholdRule(), meta="5"), D(1)).direction == "at_least"
    always = required_result(facts(ThresholdRule(fail_score=D(20)), meta="5"), D(20))
    assert (always.status, always.reason) == ("always", "even a failing result scores 20")
    zero = required_result(facts(ThresholdRule(), meta="5"), D(0))
    assert (zero.status, zero.reason) == ("always", "even a failing result scores 0")
    over = required_result(facts(ThresholdRule(pass_score=D(90)), meta="5"), D("90.01"))
    assert (over.status, over.reason) == ("impossible", "the threshold scores at most 90")
    assert required_result(facts(ThresholdRule(pass_score=D(90)), meta="5"), D(90)).status == "solved"
    no_meta = required_result(facts(ThresholdRule(), meta=None), D(50))
    assert (no_meta.status, no_meta.reason) == ("impossible", "the indicator has no meta")


# ---------------------------------------------------------------- step tables


HIGH_TABLE = StepTable(
    rows=[
        StepRow(intervals=[Interval(max=D(50), max_inclusive=False)], value=D(0)),
        StepRow(intervals=[Interval(min=D(50), min_inclusive=False, max=D(80))], value=D(50)),
        StepRow(intervals=[Interval(min=D(80), min_inclusive=False)], value=D(100)),
    ]
)
LOW_TABLE = StepTable(
    rows=[
        StepRow(intervals=[Interval(min=D(0), max=D(10), max_inclusive=False)], value=D(100)),
        StepRow(intervals=[Interval(min=D(10), max=D(20))], value=D(50)),
        StepRow(intervals=[Interval(min=D(20), min_inclusive=False, max=D(1000))], value=D(0)),
    ]
)


def test_step_table_on_the_result_inverse() -> None:
    # higher: score 50 needs row 2, whose lower bound 50 is exclusive → 50.01; score 100 → 80.01
    answer = required_result(facts(StepTableRule(input="result", table=HIGH_TABLE)), D(50))
    assert solved(answer) == ("solved", D("50.01"), "at_least", D(50))
    assert steps(answer)[0] == {
        "description": "least demanding table row reaching the score",
        "formula": None,
        "values": {},
        "result": "50.01",
        "table_row": "row 2: (50, 80] -> 50",
    }
    assert required_result(facts(StepTableRule(input="result", table=HIGH_TABLE)), D(51)).value == D("80.01")
    # lower: score 50 → the highest upper bound among rows scoring ≥ 50 is row 2's 20 (inclusive)
    lower = required_result(facts(StepTableRule(input="result", table=LOW_TABLE), "lower_is_better"), D(50))
    assert solved(lower) == ("solved", D(20), "at_most", D(50))
    # the step names that row, the second of the table (rows 1 and 2 both score ≥ 50; row 1 would need 9.99 or less)
    assert steps(lower)[0] == {
        "description": "least demanding table row reaching the score",
        "formula": None,
        "values": {},
        "result": "20",
        "table_row": "row 2: [10, 20] -> 50",
    }
    # score 100 → row 1's exclusive 10 → 9.99
    best = required_result(facts(StepTableRule(input="result", table=LOW_TABLE), "lower_is_better"), D(100))
    assert (best.value, steps(best)[0]["table_row"]) == (D("9.99"), "row 1: [0, 10) -> 100")


def test_step_table_inverse_limits() -> None:
    none = required_result(facts(StepTableRule(input="result", table=HIGH_TABLE)), D("100.01"))
    assert (none.status, none.reason) == ("impossible", "no row of the table scores 100.01 or more")
    open_low = StepTable(rows=[StepRow(intervals=[Interval(max=D(5))], value=D(60))])
    always = required_result(facts(StepTableRule(input="result", table=open_low)), D(50))
    assert (always.status, always.reason) == ("always", "row 1 has no lower bound")
    open_high = StepTable(rows=[StepRow(intervals=[Interval(min=D(5))], value=D(60))])
    always_low = required_result(facts(StepTableRule(input="result", table=open_high), "lower_is_better"), D(50))
    assert (always_low.status, always_low.reason) == ("always", "row 1 has no upper bound")


def test_step_table_on_the_execution_inverse() -> None:
    # score 100 needs execution > 80 → 80.01 %; R = 80.01 × 200 / 100 = 160.02
    answer = required_result(facts(StepTableRule(table=HIGH_TABLE), meta="200"), D(100))
    assert solved(answer) == ("solved", D("160.02"), "at_least", D(100))
    assert steps(answer)[0]["description"] == "step table: least percentage of execution reaching the score"


# ---------------------------------------------------------------- QUAR


def quar(polarity: str = "higher_is_better", m: str = "100", t: str = "5", vc: str = "120", **rule: Any):
    return facts(QuarRealizationRule(**rule), polarity, m, tolerance=D(t), critical_value=D(vc))


@pytest.mark.parametrize(
    ("target", "value", "formula"),
    [
        # R = (M + T) + (rate − 100) × (VC − (M + T)) / 25 = 105 + 11.67 × 15 / 25 = 112.002
        ("111.67", "112.002", "R = (M+T) + (rate − 100) × (VC − (M+T)) / 25"),
        ("125", "120", "R = (M+T) + (rate − 100) × (VC − (M+T)) / 25"),
        ("100", "95", "R = M − T (the band's lower edge)"),
        ("80", "76", "R = rate × (M − T) / 100"),  # 80 × 95 / 100
    ],
)
def test_quar_inverse_higher(target: str, value: str, formula: str) -> None:
    answer = required_result(quar(), D(target))
    assert solved(answer)[:3] == ("solved", D(value), "at_least")
    assert answer.achieved is not None
    assert answer.achieved >= D(target)
    assert steps(answer)[0]["formula"] == formula
    assert steps(answer)[0]["description"] == "invert the QUAR realization rate"
    assert steps(answer)[0]["values"] == {"rate": target, "M": "100", "T": "5", "VC": "120"}


@pytest.mark.parametrize(
    ("target", "value", "formula"),
    [
        # R = (M − T) − (rate − 100) × ((M − T) − VC) / 25 = 28 − 13.89 × 18 / 25 = 17.9992
        ("113.89", "17.9992", "R = (M−T) − (rate − 100) × ((M−T) − VC) / 25"),
        ("100", "32", "R = M + T (the band's upper edge)"),
        ("80", "40", "R = (M + T) × 100 / rate"),  # 32 × 100 / 80
    ],
)
def test_quar_inverse_lower(target: str, value: str, formula: str) -> None:
    answer = required_result(quar("lower_is_better", "30", "2", "10"), D(target))
    assert solved(answer)[:3] == ("solved", D(value), "at_most")
    assert steps(answer)[0]["formula"] == formula


@pytest.mark.parametrize(
    ("polarity", "m", "t", "vc", "target", "value", "achieved"),
    [
        # higher, M 100, T 5, VC 120: just above the band a rate is on the line from M + T = 105 (100 %) to VC (125 %),
        # R = 105 + (rate − 100) × 15 / 25; forward: rate = 100 + 25 × (R − 105) / 15
        ("higher_is_better", "100", "5", "120", "100.01", "105.006", "100.01"),  # 105 + 0.01 × 0.6
        ("higher_is_better", "100", "5", "120", "100.5", "105.3", "100.50"),  # 105 + 0.5 × 0.6; 25 × 0.3 / 15 = 0.5
        ("higher_is_better", "100", "5", "120", "101", "105.6", "101.00"),  # 105 + 0.6; 25 × 0.6 / 15 = 1
        # lower, M 30, T 2, VC 10: R = 28 − (rate − 100) × 18 / 25; forward: rate = 100 + 25 × (28 − R) / 18
        ("lower_is_better", "30", "2", "10", "100.01", "27.9928", "100.01"),  # 28 − 0.01 × 0.72
        ("lower_is_better", "30", "2", "10", "100.5", "27.64", "100.50"),  # 28 − 0.36; 25 × 0.36 / 18 = 0.5
        ("lower_is_better", "30", "2", "10", "101", "27.28", "101.00"),  # 28 − 0.72; 25 × 0.72 / 18 = 1
    ],
)
def test_quar_inverse_just_above_the_band(
    polarity: str, m: str, t: str, vc: str, target: str, value: str, achieved: str
) -> None:
    # a target between 100 and 101 is above the band: inside it the rate is only 100 (R = M ± T would fall short)
    answer = required_result(quar(polarity, m, t, vc), D(target))
    direction = "at_least" if polarity == "higher_is_better" else "at_most"
    assert solved(answer) == ("solved", D(value), direction, D(achieved))
    assert steps(answer)[0]["formula"] == (
        "R = (M+T) + (rate − 100) × (VC − (M+T)) / 25"
        if polarity == "higher_is_better"
        else "R = (M−T) − (rate − 100) × ((M−T) − VC) / 25"
    )


def test_quar_inverse_variants_and_limits() -> None:
    # below_band "meta": R = 80 × 100 / 100 = 80 (higher); R = 30 × 100 / 80 = 37.5 (lower)
    higher = required_result(quar(below_band="meta"), D(80))
    assert (higher.value, steps(higher)[0]["formula"]) == (D(80), "R = rate × M / 100")
    lower = required_result(quar("lower_is_better", "30", "2", "10", below_band="meta"), D(80))
    assert (lower.value, steps(lower)[0]["formula"]) == (D("37.5"), "R = M × 100 / rate")
    # a ceiling of 150: R = 105 + 25 × 15 / 50 = 112.5
    assert required_result(quar(ceiling=D(150)), D(125)).value == D("112.5")
    capped = required_result(quar(), D("125.01"))
    assert (capped.status, capped.reason) == ("impossible", "the rate is capped at 125")
    missing = required_result(facts(QuarRealizationRule(), tolerance=None, critical_value=D(1)), D(50))
    assert (missing.status, missing.reason) == ("impossible", "meta, tolerance and critical value are required")


# ---------------------------------------------------------------- derived and composite


def test_derived_inverse_is_the_mean_grade_trace() -> None:
    # 81.82 on a 0–10 rule → 8.19; mean = 8.19 × 9 / 10 = 7.371
    answer = required_result(facts(DerivedFromTeamsRule(), meta="9"), D("81.82"))
    assert (answer.status, answer.value, answer.direction, answer.quantity) == (
        "solved",
        D("7.371"),
        "at_least",
        "mean",
    )
    assert steps(answer) == [
        {
            "description": "mean team grade (0–10) needed",
            "formula": "mean = score10 × meta / 10",
            "values": {"score10": "8.19", "meta": "9"},
            "result": "7.371",
            "table_row": None,
        }
    ]
    over = required_result(facts(DerivedFromTeamsRule(), meta="9"), D("100.01"))
    assert (over.status, over.reason) == ("impossible", "scores are at most 100")
    no_meta = required_result(facts(DerivedFromTeamsRule(), meta=None), D(50))
    assert (no_meta.status, no_meta.reason) == ("impossible", "the indicator has no meta")


def test_composite_inverse() -> None:
    comps = [CompositeComponent(code="A", weight=D(1))]
    plain = required_result(facts(WeightedCompositeRule(components=comps)), D(70))
    assert (plain.status, plain.value, plain.quantity, plain.direction) == ("solved", D(70), "index", "at_least")
    assert steps(plain)[0]["description"] == "no table: the index must reach the score"
    over = required_result(facts(WeightedCompositeRule(components=comps)), D("100.01"))
    assert (over.status, over.reason) == ("impossible", "scores are at most 100")
    tabled = WeightedCompositeRule(components=comps, table=HIGH_TABLE)
    answer = required_result(facts(tabled), D(50))
    assert (answer.status, answer.value, answer.quantity) == ("solved", D("50.01"), "index")
    assert steps(answer)[0]["table_row"] == "row 2: (50, 80] -> 50"
    assert steps(answer)[0]["description"] == "least composite index reaching the score"
    none = required_result(facts(tabled), D(101))
    assert (none.status, none.quantity, none.reason) == (
        "impossible",
        "index",
        "no row of the table scores 101 or more",
    )
    always = required_result(facts(tabled), D(0))
    assert (always.status, always.quantity, always.reason) == ("always", "index", "row 1 has no lower bound")


def test_products_are_answered_by_delivery_dates() -> None:
    answer = required_result(facts(DelayTableRule()), D(50))
    assert (answer.status, answer.reason) == ("not_supported", "use latest_delivery_for_score for products")


# ---------------------------------------------------------------- latest delivery (products)


OWN = DelayTableRule(
    bands=[
        DelayBand(days_min=a, days_max=b, score=D(s))
        for a, b, s in [(0, 0, "100"), (1, 15, "90"), (16, 30, "80"), (31, 45, "70"), (46, 60, "60"), (61, 360, "50")]
    ]
)


def test_latest_delivery_trace() -> None:
    # 80 or more: bands up to "16–30" → 30 days late at most: 30/11/2014 + 30 = 30/12/2014
    answer = latest_delivery_for_score(OWN, date(2014, 11, 30), D(80), cutoff=date(2015, 1, 30))
    assert (answer.status, answer.value, answer.direction, answer.quantity) == ("solved", D(30), "at_most", "days_late")
    assert [s.to_dict() for s in answer.steps] == [
        {
            "description": "latest delivery still in a band scoring the target",
            "formula": None,
            "values": {"due date": "2014-11-30", "latest": "2014-12-30"},
            "result": "30",
            "table_row": None,
        }
    ]
    assert latest_delivery_for_score(OWN, date(2014, 11, 30), D(100), cutoff=None).value == D(0)
    assert latest_delivery_for_score(OWN, date(2014, 11, 30), D(81), cutoff=None).value == D(15)


def test_latest_delivery_is_limited_by_the_cut_off() -> None:
    # 50 allows 360 days, but the cut-off 30/01/2015 is 41 days after 20/12/2014
    answer = latest_delivery_for_score(OWN, date(2014, 12, 20), D(50), cutoff=date(2015, 1, 30))
    assert (answer.status, answer.value) == ("solved", D(41))
    assert answer.steps[0].to_dict()["values"]["latest"] == "2015-01-30"
    # a cut-off before the due date leaves no delay at all
    assert latest_delivery_for_score(OWN, date(2015, 2, 10), D(50), cutoff=date(2015, 1, 30)).value == D(0)
    # the rule may ignore the cut-off
    free = OWN.model_copy(update={"cutoff": "none"})
    assert latest_delivery_for_score(free, date(2014, 12, 20), D(50), cutoff=date(2015, 1, 30)).value == D(360)


def test_latest_delivery_open_ended_and_impossible() -> None:
    general = DelayTableRule()  # "more than 120 days → 0" is open-ended
    always = latest_delivery_for_score(general, date(2014, 11, 30), D(0), cutoff=None)
    assert (always.status, always.value) == ("always", None)
    assert always.steps[0].to_dict()["values"]["latest"] == "none"
    capped = latest_delivery_for_score(general, date(2014, 11, 30), D(0), cutoff=date(2015, 1, 30))
    assert (capped.status, capped.value) == ("solved", D(61))
    none = latest_delivery_for_score(OWN, date(2014, 11, 30), D("100.01"), cutoff=None)
    assert (none.status, none.reason, none.quantity) == ("impossible", "no band scores that much", "days_late")


# ---------------------------------------------------------------- required score of one goal


PARTS = [("a", D(30), D(100)), ("b", D(30), D(80)), ("c", D(40), None)]


def test_required_part_score_rounds_half_up_trace() -> None:
    # (74 × 100 − (3000 + 2400)) / 40 = 2000 / 40 = 50.00; but 49.99 gives (1999.6 + 5400) / 100 = 73.996 → 74.00
    answer = required_part_score(PARTS, "c", D(74))
    assert (answer.status, answer.value, answer.achieved, answer.quantity) == (
        "solved",
        D("49.99"),
        D("74.00"),
        "score",
    )
    assert [s.to_dict() for s in answer.steps] == [
        {
            "description": "invert Σ(score × weight) / Σ weight for one goal",
            "formula": "needed = (target × Σ weight − Σ others' score × weight) / weight",
            "values": {"target": "74", "Σ weight": "100", "Σ others": "5400", "weight": "40"},
            "result": "50",
            "table_row": None,
        }
    ]


def test_required_part_score_limits() -> None:
    # (100 × 100 − 5400) / 40 = 115, and 114.99 already rounds up: (4599.6 + 5400) / 100 = 99.996 → 100.00
    over = required_part_score(PARTS, "c", D(100))
    assert (over.status, over.value, over.reason) == ("impossible", D("114.99"), "needs 114.99, above the maximum 100")
    assert required_part_score(PARTS, "c", D(100), cap=D(120)).status == "solved"
    # (50 × 100 − 5400) / 40 = −10 → any score will do
    low = required_part_score(PARTS, "c", D(50))
    assert (low.status, low.value) == ("always", D(0))
    # exactly 0 needed: (54 × 100 − 5400) / 40 = 0
    assert required_part_score(PARTS, "c", D(54)).status == "always"
    missing = required_part_score(PARTS, "z", D(50))
    assert (missing.status, missing.reason) == ("impossible", "z is not part of the total")
    weightless = required_part_score([("a", D(0), None), ("b", D(10), D(50))], "a", D(50))
    assert (weightless.status, weightless.reason) == ("impossible", "a has weight 0")


def test_required_part_score_with_a_goal_set_aside() -> None:
    # b set aside leaves both sums: (80 × 70 − 3000) / 40 = 65; 64.99 gives 5599.6 / 70 = 79.994 → 79.99 < 80
    parts = [("a", D(30), D(100)), ("b", D(30), None), ("c", D(40), None)]
    answer = required_part_score(parts, "c", D(80))
    assert (answer.status, answer.value, answer.achieved) == ("solved", D("65.00"), D("80.00"))


def test_answer_to_dict() -> None:
    d = required_part_score(PARTS, "c", D(74)).to_dict()
    assert (d["status"], d["target"], d["value"], d["direction"], d["quantity"], d["achieved"]) == (
        "solved",
        "74",
        "49.99",
        "at_least",
        "score",
        "74.00",
    )
    assert d["reason"] is None
    assert d["steps"][0]["result"] == "50"
    assert InverseAnswer("always", D("1E+2")).to_dict()["target"] == "100"
    empty = InverseAnswer("always", D(0)).to_dict()
    assert (empty["value"], empty["achieved"], empty["steps"]) == (None, None, [])


def test_every_answer_repeats_the_question() -> None:
    comps = [CompositeComponent(code="A", weight=D(1))]
    tabled = WeightedCompositeRule(components=comps, table=HIGH_TABLE)
    cases = [
        (facts(DerivedFromTeamsRule(), meta=None), "50"),
        (facts(DerivedFromTeamsRule()), "101"),
        (facts(DerivedFromTeamsRule()), "50"),
        (facts(WeightedCompositeRule(components=comps)), "101"),
        (facts(WeightedCompositeRule(components=comps)), "50"),
        (facts(tabled), "101"),
        (facts(tabled), "0"),
        (facts(tabled), "50"),
        (facts(DelayTableRule()), "50"),
        (facts(GeneralRule()), "0"),
        (facts(GeneralRule()), "101"),
        (facts(ThresholdRule()), "0"),
        (facts(GeneralRule()), "50"),
    ]
    for f, target in cases:
        assert required_result(f, D(target)).target == D(target), (f.rule.kind, target)
    for parts, code, target in (
        (PARTS, "z", "50"),
        ([("a", D(0), None)], "a", "50"),
        (PARTS, "c", "50"),
        (PARTS, "c", "100"),
        (PARTS, "c", "74"),
    ):
        answer = required_part_score(parts, code, D(target))
        assert answer.target == D(target)
        assert answer.quantity == "score"
    for target, cutoff in (("101", None), ("0", None), ("80", None)):
        assert latest_delivery_for_score(OWN if target != "0" else DelayTableRule(), date(2014, 11, 30), D(target),
                                         cutoff=cutoff).target == D(target)  # fmt: skip
    always = required_part_score(PARTS, "c", D(50))
    assert (always.direction, always.value, always.to_dict()["steps"][0]["result"]) == ("at_least", D(0), "-10")


def test_answers_are_complete() -> None:
    assert required_part_score(PARTS, "z", D(50)).to_dict() == {
        "status": "impossible",
        "target": "50",
        "value": None,
        "direction": None,
        "quantity": "score",
        "achieved": None,
        "reason": "z is not part of the total",
        "steps": [],
    }
    weightless = required_part_score([("a", D(0), None)], "a", D(50)).to_dict()
    assert (weightless["quantity"], weightless["reason"], weightless["target"]) == ("score", "a has weight 0", "50")
    always = required_part_score(PARTS, "c", D(50)).to_dict()
    assert {k: always[k] for k in ("status", "target", "value", "direction", "quantity", "achieved", "reason")} == {
        "status": "always",
        "target": "50",
        "value": "0",
        "direction": "at_least",
        "quantity": "score",
        "achieved": None,
        "reason": None,
    }
    assert len(always["steps"]) == 1
    over = required_part_score(PARTS, "c", D(100)).to_dict()
    assert (over["direction"], over["quantity"], over["achieved"], len(over["steps"])) == ("at_least", "score", None, 1)
    late = latest_delivery_for_score(DelayTableRule(), date(2014, 11, 30), D(0), cutoff=None).to_dict()
    assert (late["status"], late["target"], late["quantity"], late["value"], late["direction"]) == (
        "always",
        "0",
        "days_late",
        None,
        None,
    )
    assert len(late["steps"]) == 1
    tabled = WeightedCompositeRule(components=[CompositeComponent(code="A", weight=D(1))], table=HIGH_TABLE)
    comp = required_result(facts(tabled), D(50)).to_dict()
    assert (comp["direction"], comp["quantity"], comp["target"]) == ("at_least", "index", "50")


def test_required_part_score_edges() -> None:
    # a lone goal of weight 100 must score the target itself: exactly the cap is still possible
    lone = required_part_score([("c", D(100), None)], "c", D(100))
    assert (lone.status, lone.value, lone.achieved) == ("solved", D("100.00"), D("100.00"))
    # a needed score under 1 is walked down to the least that still rounds up to the target:
    # (99.01 × 100 − 99 × 100) / 1 = 1.00; 0.50 gives (0.50 + 9900) / 100 = 99.005 → 99.01; 0.49 → 99.0049 → 99.00
    small = required_part_score([("a", D(99), D(100)), ("c", D(1), None)], "c", D("99.01"))
    assert (small.status, small.value, small.achieved) == ("solved", D("0.50"), D("99.01"))


def test_targets_of_exactly_100() -> None:
    # a ratio reaches 100 exactly at its target: R = 100 × 5 000 / 100 = 5 000 (VA = VM); 100.01 is impossible
    ratio = required_result(facts(RatioRule(), meta="5000"), D(100))
    assert solved(ratio) == ("solved", D(5000), "at_least", D("100.00"))
    # on 0–10 with the PAA floor: score10 10.00 → R = 10 × 90 / 10 = 90 (above the floor 70), 90 / 90 × 10 = 10 → 100
    paa = required_result(facts(RatioRule(scale=10, zero_below_result=D(70)), meta="90"), D(100))
    assert solved(paa) == ("solved", D(90), "at_least", D("100.00"))
    comps = [CompositeComponent(code="A", weight=D(1))]
    assert required_result(facts(WeightedCompositeRule(components=comps)), D(100)).status == "solved"
    derived = required_result(facts(DerivedFromTeamsRule(), meta="10"), D(100))
    assert (derived.status, derived.value) == ("solved", D(10))


def test_derived_inverse_rounds_the_mean_up() -> None:
    # 81.83 → score10 8.19 (next grid point of 8.183); mean = 8.19 × 9.12345 / 10 = 7.47210555 → up to 7.4722
    answer = required_result(facts(DerivedFromTeamsRule(), meta="9.12345"), D("81.83"))
    assert answer.value == D("7.4722")


def test_answers_the_solver_gives_up_on_carry_no_steps() -> None:
    # the solvers refuse a question before writing any step (the target is out of the rule's range, the table has no
    # row for it, or every result already reaches it): the answer has an empty, printable list of steps
    rule = StepTableRule(input="result", table=StepTable(rows=[StepRow(intervals=[Interval(max=D(5))], value=D(60))]))
    cases = [
        (facts(GeneralRule()), "100.01", "impossible", "the general rule scores at most 100"),
        (facts(RatioRule()), "100.01", "impossible", "a ratio scores at most 100"),
        (facts(ThresholdRule(fail_score=D(20)), meta="5"), "20", "always", "even a failing result scores 20"),
        (facts(StepTableRule(input="result", table=HIGH_TABLE)), "100.01", "impossible",
         "no row of the table scores 100.01 or more"),
        (facts(StepTableRule(table=HIGH_TABLE), meta="200"), "100.01", "impossible",
         "no row of the table scores 100.01 or more"),
        (facts(rule), "50", "always", "row 1 has no lower bound"),
        (quar(), "125.01", "impossible", "the rate is capped at 125"),
    ]  # fmt: skip
    for f, target, status, reason in cases:
        answer = required_result(f, D(target))
        assert (answer.status, answer.reason, answer.steps) == (status, reason, ()), (f.rule.kind, target)
        assert answer.to_dict()["steps"] == []

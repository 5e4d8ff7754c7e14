"""Every field of a result on the branches the golden tests do not read field by field (issue 18: the mutants that
survived because a set-aside, missing or owed-but-missing result was only checked on its status).

Figures are worked by hand from docs/domain.md (arithmetic in the comments)."""

from __future__ import annotations

from decimal import Decimal as D

from test_quar_traces import RESULTS, quar_plan

from metas_rules.engine import IndicatorFacts, Observation, score_indicator
from metas_rules.engine.quar_plan import RateResult, evaluate_quar
from metas_rules.engine.trace import Score, Step
from metas_rules.rules import (
    CompositeComponent,
    DerivedFromTeamsRule,
    GeneralRule,
    QuarRealizationRule,
    WeightedCompositeRule,
)

OWED_ZERO = Step("final evaluation: no certified result for an owed item, so it scores 0", raw_result=0)


def general(code: str = "G") -> IndicatorFacts:
    return IndicatorFacts(code=code, rule=GeneralRule(), meta=D("90"), reference_value=D("80"))


def test_set_aside_and_missing_results_carry_every_field() -> None:
    aside = score_indicator(general("G7"), Observation(result=D("87"), set_aside=True, missing_scores_zero=True))
    # set aside wins over the final evaluation's zero: the committee took the item out of the evaluation
    assert aside == Score("G7", "set_aside", rule_kind="general", reason="set aside by the committee")
    for obs in (None, Observation(), Observation(components={"x": D(1)})):
        missing = score_indicator(general("G8"), obs)
        assert missing == Score("G8", "missing", rule_kind="general", reason="no result registered")


def test_an_owed_indicator_without_a_result_scores_zero_in_a_final_evaluation() -> None:
    # docs/domain.md §6: an owed item with no certified result scores 0 (not "missing")
    owed = score_indicator(general("G9"), Observation(missing_scores_zero=True))
    assert owed == Score("G9", "scored", D(0), D(0), 100, "general", (OWED_ZERO,))
    assert owed.to_dict()["steps"] == [
        {
            "description": "final evaluation: no certified result for an owed item, so it scores 0",
            "formula": None,
            "values": {},
            "result": "0",
            "table_row": None,
        }
    ]
    # a registered result is scored as usual: (87 − 80) / (90 − 80) × 100 = 70.00
    scored = score_indicator(general(), Observation(result=D("87"), missing_scores_zero=True))
    assert (scored.status, scored.value) == ("scored", D("70.00"))
    assert OWED_ZERO not in scored.steps


def test_an_owed_composite_with_its_components_is_scored_not_zeroed() -> None:
    rule = WeightedCompositeRule(
        components=[CompositeComponent(code="A", weight=D("0.5")), CompositeComponent(code="B", weight=D("0.5"))]
    )
    facts = IndicatorFacts(code="C", rule=rule)
    # index = 0.5 × 80 + 0.5 × 60 = 70 (no table: the index is the score)
    owed = score_indicator(facts, Observation(components={"A": D(80), "B": D(60)}, missing_scores_zero=True))
    assert (owed.status, owed.value) == ("scored", D("70.00"))
    assert OWED_ZERO not in owed.steps
    # with neither a result nor components it is owed and scores 0
    empty = score_indicator(facts, Observation(missing_scores_zero=True))
    assert (empty.status, empty.value, empty.steps) == ("scored", D(0), (OWED_ZERO,))


def test_a_derived_indicator_is_never_zeroed_by_a_missing_result() -> None:
    # it reads the other teams' grades, not a registered result: mean(8, 9) = 8.5 on 0–10; 8.5 / 8.5 × 10 = 10.00
    facts = IndicatorFacts(code="D", rule=DerivedFromTeamsRule(), meta=D("8.5"), unit_code="A")
    owed = score_indicator(
        facts, Observation(missing_scores_zero=True), team_grades={"B": D(80), "C": D(90)}, plan_units=["A", "B", "C"]
    )
    assert (owed.status, owed.native, owed.value) == ("scored", D("10.00"), D("100.00"))
    assert OWED_ZERO not in owed.steps


# ---------------------------------------------------------------- QUAR roll-up: every level names itself


def test_every_quar_level_carries_its_code_scored_or_not() -> None:
    # The plan of tests/rules/test_quar_traces.py: O1 (I1 60 %, I2 40 %) in P1; O2 (I3) and O3 (I4) in P2.
    plan = quar_plan()
    res = evaluate_quar(plan, RESULTS)
    assert [(k, v.code) for k, v in res.parameters.items()] == [("P1", "P1"), ("P2", "P2")]
    assert (res.final.code, res.final.to_dict()["code"]) == ("final", "final")
    # Nothing registered for O2's only indicator I3: O2 has no rate, is incomplete and still named
    partial = evaluate_quar(plan, {k: v for k, v in RESULTS.items() if k != "I3"})
    assert partial.objectives["O2"] == RateResult("O2", None, False, ())
    # P2 from O3 alone: 125.00, incomplete; the final is incomplete and keeps its name
    assert (partial.parameters["P2"].code, partial.parameters["P2"].rate) == ("P2", D("125.00"))
    assert (partial.final.code, partial.final.complete) == ("final", False)
    # Nothing registered at all: every level is named, with no rate
    empty = evaluate_quar(plan, {})
    assert [r.code for r in (*empty.objectives.values(), *empty.parameters.values(), empty.final)] == [
        "O1",
        "O2",
        "O3",
        "P1",
        "P2",
        "final",
    ]
    assert empty.final == RateResult("final", None, False, ())


def test_dec_passes_a_decimal_through_and_builds_one_from_text() -> None:
    from metas_rules.decimal_ops import dec

    value = D("12.50")
    assert dec(value) is value  # no copy: the same object, exponent and all
    assert (dec("12.50"), dec(7)) == (D("12.50"), D(7))


def test_a_not_scorable_result_carries_its_code_kind_and_reason() -> None:
    facts = IndicatorFacts(code="N1", rule=GeneralRule())  # no meta
    assert score_indicator(facts, Observation(result=D(5))) == Score(
        "N1", "not_scorable", rule_kind="general", reason="the indicator has no meta"
    )


def test_the_quar_rule_parameters_reach_the_rate() -> None:
    # M 100, T 5, VC 120 (docs/domain.md §3.1)
    def quar(r: str, **rule: object) -> D | None:
        facts = IndicatorFacts(
            code="Q",
            rule=QuarRealizationRule(**rule),  # type: ignore[arg-type]
            meta=D(100),
            tolerance=D(5),
            critical_value=D(120),
        )
        return score_indicator(facts, Observation(result=D(r))).value

    # ceiling 150, above the band: 100 + 50 × (112 − 105) / (120 − 105) = 123.333… → 123.33 (default 125: 111.67)
    assert (quar("112", ceiling=D(150)), quar("112")) == (D("123.33"), D("111.67"))
    # below the band: band_edge 76 / 95 × 100 = 80.00; meta 76 / 100 × 100 = 76.00
    assert (quar("76"), quar("76", below_band="meta")) == (D("80.00"), D("76.00"))


def test_a_threshold_without_pass_when_follows_the_polarity_backwards_too() -> None:
    from metas_rules.engine import required_result
    from metas_rules.rules import ThresholdRule

    lower = IndicatorFacts(code="T", rule=ThresholdRule(), polarity="lower_is_better", meta=D(5))
    answer = required_result(lower, D(100))
    # lower is better: the result must be at most the meta 5, which scores 100
    assert (answer.status, answer.value, answer.direction, answer.achieved) == ("solved", D(5), "at_most", D(100))


def test_the_default_tables_print_anexo_iv_with_their_labels() -> None:
    from metas_rules.rules import general_delay_bands, obs2_default_table

    # docs/domain.md §2.2: on time 100; 1–30 days late 80; 31–60 70; 61–90 60; 91–120 50; more than 120 days 0
    assert [(b.days_min, b.days_max, b.score, b.label) for b in general_delay_bands()] == [
        (0, 0, D(100), "on time"),
        (1, 30, D(80), "up to 30 days late"),
        (31, 60, D(70), "31 to 60 days late"),
        (61, 90, D(60), "61 to 90 days late"),
        (91, 120, D(50), "91 to 120 days late"),
        (121, None, D(0), "more than 120 days late"),
    ]
    # docs/domain.md §2.1.1 OBS2: ≥ 100 % → 100; 95–99.99 → 80; 90–94.99 → 60; 80–89.99 → 40; < 80 → 0
    assert [row.describe() for row in obs2_default_table().rows] == [
        "[100, +inf) -> 100 (>= 100 %)",
        "[95, 99.99] -> 80 (95.00 - 99.99 %)",
        "[90, 94.99] -> 60 (90.00 - 94.99 %)",
        "[80, 89.99] -> 40 (80.00 - 89.99 %)",
        "(-inf, 80) -> 0 (< 80 %)",
    ]
    assert obs2_default_table().gap == "error"


# ---------------------------------------------------------------- tables: open ends and the row above


def test_open_ended_rows_on_the_same_side_overlap() -> None:
    from metas_rules.tables import Interval, StepRow, StepTable

    def table(*intervals: Interval) -> StepTable:
        return StepTable(rows=[StepRow(intervals=[iv], value=D(i)) for i, iv in enumerate(intervals)])

    # (−inf, 10] and (−inf, 20] share (−inf, 10]; [10, +inf) and [20, +inf) share [20, +inf)
    assert table(Interval(max=D(10)), Interval(max=D(20))).overlaps() == ["rows 1 (-inf, 10] and 2 (-inf, 20] overlap"]
    assert table(Interval(min=D(10)), Interval(min=D(20))).overlaps() == ["rows 1 [10, +inf) and 2 [20, +inf) overlap"]
    assert table(Interval(max=D(10)), Interval(min=D(20))).overlaps() == []


def test_the_row_above_is_the_nearest_one_whatever_the_row_order() -> None:
    from metas_rules.tables import Interval, StepRow, StepTable

    # rows printed from the top down (like OBS2): [90, +inf) → 100, [80, 85] → 50, (−inf, 70] → 0; 75 is in a gap
    rows = [
        StepRow(intervals=[Interval(min=D(90))], value=D(100)),
        StepRow(intervals=[Interval(min=D(80), max=D(85))], value=D(50)),
        StepRow(intervals=[Interval(max=D(70))], value=D(0)),
    ]
    hit = StepTable(rows=rows, gap="row_above").lookup(D(75))
    # two rows lie above 75; the nearest starts at 80 (row 2), not the first printed (row 1, from 90)
    assert (hit.index, hit.row.value, hit.via_gap) == (1, D(50), "row_above")


def test_a_threshold_at_least_meta_is_solved_at_least() -> None:
    from metas_rules.engine import required_result
    from metas_rules.rules import ThresholdRule

    facts = IndicatorFacts(code="T", rule=ThresholdRule(pass_when="at_least_meta"), meta=D(5))
    answer = required_result(facts, D(100))
    assert (answer.status, answer.value, answer.direction) == ("solved", D(5), "at_least")


# ---------------------------------------------------------------- edges of the inverse solvers and of rule_problems


def test_inverse_edges_meta_equal_to_v0_and_a_result_on_the_floor() -> None:
    from metas_rules.engine import required_result
    from metas_rules.rules import RatioRule

    # meta = V0 is not ambitious (OBS2): a score of 80 needs 95 % of execution; 97 × 0.95 = 92.15
    higher = IndicatorFacts(code="G", rule=GeneralRule(), meta=D(97), reference_value=D(97))
    answer = required_result(higher, D(80))
    assert (answer.status, answer.value, answer.direction) == ("solved", D("92.15"), "at_least")
    # lower is better, seed formula: (1 − (R − 20) / 20) × 100 ≥ 95 ⇔ R ≤ 21
    lower = IndicatorFacts(code="G", rule=GeneralRule(), polarity="lower_is_better", meta=D(20), reference_value=D(20))
    answer = required_result(lower, D(80))
    assert (answer.status, answer.value, answer.direction) == ("solved", D(21), "at_most")
    # ratio on 0–10 with a floor of 70, meta 100: a score of 70 (7.0) needs R = 7 × 100 / 10 = 70, on the floor,
    # so nothing is raised
    floor = IndicatorFacts(code="R", rule=RatioRule(scale=10, zero_below_result=D(70)), meta=D(100))
    answer = required_result(floor, D(70))
    assert (answer.status, answer.value) == ("solved", D(70))
    assert all(s.description != "raise to the floor below which the score is 0" for s in answer.steps)


def test_a_set_aside_product_carries_its_code() -> None:
    from metas_rules.engine import Delivery, ProductFacts, score_product
    from metas_rules.rules import DelayTableRule

    facts = ProductFacts(code="P7", rule=DelayTableRule())
    assert score_product(facts, Delivery(set_aside=True), cutoff=None) == Score(
        "P7", "set_aside", rule_kind="delay_table", reason="set aside by the committee"
    )


def test_rule_problems_keep_every_problem() -> None:
    from metas_rules.rules import rule_problems
    from metas_rules.tables import Interval, StepRow, StepTable

    overlapping = StepTable(
        rows=[
            StepRow(intervals=[Interval(min=D(0), max=D(50))], value=D(0)),
            StepRow(intervals=[Interval(min=D(40), max=D(100))], value=D(100)),
        ]
    )
    overlap = "rows 1 [0, 50] and 2 [40, 100] overlap"
    # weights 0.5 + 0.4 = 0.9 ≠ 1, overlapping buckets of A, an overlapping table: three problems, none lost
    rule = WeightedCompositeRule(
        components=[
            CompositeComponent(code="A", weight=D("0.5"), buckets=overlapping),
            CompositeComponent(code="B", weight=D("0.4")),
        ],
        table=overlapping,
    )
    assert rule_problems(rule, polarity="higher_is_better", meta=None) == [
        "component weights sum to 0.9, not 1",
        f"component A buckets: {overlap}",
        f"table: {overlap}",
    ]
    # a general rule with an overlapping OBS2 table and meta = V0 = 0 (not ambitious): both problems are kept
    general = GeneralRule(obs2_table=overlapping)
    assert rule_problems(general, polarity="lower_is_better", meta=D(0), reference_value=D(0)) == [
        f"obs2_table: {overlap}",
        "meta is 0: the OBS2 percentage of execution would divide by zero",
    ]


def test_inverse_traces_print_plain_decimals_and_the_table_row() -> None:
    from metas_rules.engine import required_result
    from metas_rules.rules import RatioRule, StepTableRule
    from metas_rules.tables import Interval, StepRow, StepTable

    # ratio 0–10 with floor 70, meta 100: R = 70, kept as 7E+1 internally; every step prints it as "70"
    floor = IndicatorFacts(code="R", rule=RatioRule(scale=10, zero_below_result=D(70)), meta=D(100))
    check = required_result(floor, D(70)).steps[-1].to_dict()
    assert (check["values"], check["result"]) == ({"result": "70"}, "70.00")
    # (−inf, 50) → 0, (50, 80] → 50, (80, +inf) → 100: a score of 50 needs row 2, from just above 50: 50.01
    table = StepTable(
        rows=[
            StepRow(intervals=[Interval(max=D(50), max_inclusive=False)], value=D(0)),
            StepRow(intervals=[Interval(min=D(50), min_inclusive=False, max=D(80))], value=D(50)),
            StepRow(intervals=[Interval(min=D(80), min_inclusive=False)], value=D(100)),
        ]
    )
    answer = required_result(IndicatorFacts(code="S", rule=StepTableRule(input="result", table=table)), D(50))
    assert answer.value == D("50.01")
    assert answer.steps[0].to_dict()["table_row"] == "row 2: (50, 80] -> 50"


def test_a_step_table_on_execution_solves_with_its_own_lower_formula() -> None:
    from metas_rules.engine import required_result
    from metas_rules.rules import StepTableRule, obs2_default_table

    def solve(lower: str) -> tuple[D | None, str | None]:
        rule = StepTableRule(table=obs2_default_table(), lower_execution=lower)  # type: ignore[arg-type]
        answer = required_result(IndicatorFacts(code="S", rule=rule, polarity="lower_is_better", meta=D(20)), D(80))
        return answer.value, answer.steps[0].table_row

    row = "row 2: [95, 99.99] -> 80 (95.00 - 99.99 %)"  # a score of 80 needs 95 % of execution
    # inverse_ratio: 20 / R × 100 ≥ 95 ⇔ R ≤ 21.052631… → 21.0526 (rounded down: at most)
    assert solve("inverse_ratio") == (D("21.0526"), row)
    # seed: (1 − (R − 20) / 20) × 100 ≥ 95 ⇔ R ≤ 21
    assert solve("seed") == (D(21), row)

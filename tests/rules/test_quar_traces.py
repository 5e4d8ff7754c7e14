"""QUAR: realisation rates on both sides of every band edge with their explanation, deviation, classification,
weighted roll-ups, relevant objectives and the final mention — worked by hand from docs/domain.md §3
(Lei 66-B/2007 arts. 10, 11, 18; the QUAR 2024 of Instituto de Informática, I.P.)."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from metas_rules.engine import (
    IndicatorFacts,
    Observation,
    QuarObjective,
    QuarParameter,
    QuarPlan,
    classify,
    deviation_percent,
    evaluate_quar,
    final_mention,
    global_weights,
    quar_rate,
    relevant_objectives,
)
from metas_rules.engine.mentions import label
from metas_rules.engine.quar import classification_label, mention_label, weighted_rate
from metas_rules.engine.trace import Trace
from metas_rules.rules import QuarRealizationRule


def rate(
    r: str, polarity: str = "higher_is_better", m: str = "100", t: str = "5", vc: str = "120", **kw: Any
) -> tuple[D, str, dict[str, Any]]:
    trace = Trace()
    value, band = quar_rate(D(r), D(m), D(t), D(vc), polarity, trace=trace, **kw)  # type: ignore[arg-type]
    assert len(trace.steps) == 1
    return value, band, trace.steps[0].to_dict()


HIGH = {"M": "100", "T": "5", "VC": "120"}
LOW = {"M": "30", "T": "2", "VC": "10"}

# ---------------------------------------------------------------- higher is better: M 100, T 5, VC 120


def test_higher_above_the_band_trace() -> None:
    # 100 + 25 × (112 − 105) / (120 − 105) = 100 + 175 / 15 = 111.666… → 111.67
    value, band, step = rate("112")
    assert (value, band) == (D("111.67"), "above")
    assert step == {
        "description": "M+T < R < VC: above the band (Superou)",
        "formula": "rate = 100 + 25 × (R − (M+T)) / (VC − (M+T))",
        "values": {"R": "112", **HIGH},
        "result": "111.67",
        "table_row": None,
    }


def test_higher_ceiling_trace() -> None:
    value, band, step = rate("120")  # R = VC: the ceiling already
    assert (value, band) == (D("125"), "above")
    assert step["description"] == "R ≥ VC: the ceiling"
    assert step["formula"] == "rate = 125"
    assert step["result"] == "125"
    assert step["values"] == {"R": "120", **HIGH}
    assert rate("130")[0] == D("125")


def test_higher_within_the_band_trace() -> None:
    for r in ("105", "100", "95"):  # both edges of [M − T, M + T] are inside
        value, band, step = rate(r)
        assert (value, band) == (D("100.00"), "within"), r
        assert step["description"] == "M−T ≤ R ≤ M+T: within the band (Atingiu)"
        assert (step["formula"], step["result"]) == ("rate = 100", "100")


def test_higher_below_the_band_trace() -> None:
    # 76 / (100 − 5) × 100 = 80.00
    value, band, step = rate("76")
    assert (value, band) == (D("80.00"), "below")
    assert step == {
        "description": "R < M−T: below the band (Não atingiu)",
        "formula": "rate = R / (M−T) × 100",
        "values": {"R": "76", **HIGH},
        "result": "80.00",
        "table_row": None,
    }
    # variant below_band "meta": 76 / 100 × 100 = 76.00
    value, band, step = rate("76", below_band="meta")
    assert (value, band, step["formula"]) == (D("76.00"), "below", "rate = R / M × 100")


@pytest.mark.parametrize(
    ("r", "expected", "band"),
    [
        ("119.99", "124.98", "above"),  # 100 + 25 × 14.99 / 15 = 124.983…
        ("105.01", "100.02", "above"),  # 100 + 25 × 0.01 / 15 = 100.0166…
        ("94.99", "99.99", "below"),  # 94.99 / 95 × 100 = 99.989…
        ("0", "0.00", "below"),
    ],
)
def test_higher_just_inside_each_edge(r: str, expected: str, band: str) -> None:
    value, got_band, _ = rate(r)
    assert (value, got_band) == (D(expected), band)


def test_higher_custom_ceiling() -> None:
    # ceiling 150: 100 + 50 × 7 / 15 = 123.333… → 123.33; R ≥ VC → 150
    value, _, step = rate("112", ceiling=D("150"))
    assert value == D("123.33")
    assert step["formula"] == "rate = 100 + 50 × (R − (M+T)) / (VC − (M+T))"
    assert rate("121", ceiling=D("150"))[0] == D("150")


# ---------------------------------------------------------------- lower is better: M 30, T 2, VC 10


def test_lower_above_the_band_trace() -> None:
    # 100 + 25 × ((30 − 2) − 18) / ((30 − 2) − 10) = 100 + 250 / 18 = 113.888… → 113.89
    value, band, step = rate("18", "lower_is_better", "30", "2", "10")
    assert (value, band) == (D("113.89"), "above")
    assert step == {
        "description": "VC < R < M−T: above the band (Superou, lower is better)",
        "formula": "rate = 100 + 25 × ((M−T) − R) / ((M−T) − VC)",
        "values": {"R": "18", **LOW},
        "result": "113.89",
        "table_row": None,
    }


def test_lower_ceiling_band_and_below_traces() -> None:
    value, band, step = rate("10", "lower_is_better", "30", "2", "10")  # R = VC
    assert (value, band, step["description"]) == (D("125"), "above", "R ≤ VC: the ceiling (lower is better)")
    assert step["formula"] == "rate = 125"
    for r in ("28", "30", "32"):
        value, band, step = rate(r, "lower_is_better", "30", "2", "10")
        assert (value, band, step["formula"]) == (D("100"), "within", "rate = 100"), r
        assert step["description"] == "M−T ≤ R ≤ M+T: within the band (Atingiu)"
    # (30 + 2) / 40 × 100 = 80.00; variant meta: 30 / 40 × 100 = 75.00
    value, band, step = rate("40", "lower_is_better", "30", "2", "10")
    assert (value, band) == (D("80.00"), "below")
    assert step["description"] == "R > M+T: below the band (Não atingiu, lower is better)"
    assert (step["formula"], step["result"]) == ("rate = (M+T) / R × 100", "80.00")
    value, _, step = rate("40", "lower_is_better", "30", "2", "10", below_band="meta")
    assert (value, step["formula"]) == (D("75.00"), "rate = M / R × 100")


@pytest.mark.parametrize(
    ("r", "expected", "band"),
    [
        ("9", "125", "above"),
        ("10.01", "124.99", "above"),  # 100 + 25 × 17.99 / 18 = 124.986…
        ("27.99", "100.01", "above"),  # 100 + 25 × 0.01 / 18 = 100.0138…
        ("32.01", "99.97", "below"),  # 32 / 32.01 × 100 = 99.968…
    ],
)
def test_lower_just_inside_each_edge(r: str, expected: str, band: str) -> None:
    value, got_band, _ = rate(r, "lower_is_better", "30", "2", "10")
    assert (value, got_band) == (D(expected), band)


def test_quar_rate_without_a_trace_still_computes() -> None:
    assert quar_rate(D(112), D(100), D(5), D(120), "higher_is_better") == (D("111.67"), "above")


# ---------------------------------------------------------------- deviation, classification, labels


@pytest.mark.parametrize(
    ("r", "m", "expected"),
    [
        ("112", "100", "12.00"),
        ("30", "35", "-14.29"),  # −5 / 35 × 100 = −14.2857…
        ("100.005", "100", "0.01"),  # 0.005 rounds half up
        ("100", "100", "0.00"),
        ("150", "50", "200.00"),
    ],
)
def test_deviation_percent(r: str, m: str, expected: str) -> None:
    assert str(deviation_percent(D(r), D(m))) == expected


def test_deviation_of_a_zero_meta_is_undefined() -> None:
    assert deviation_percent(D(5), D(0)) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("100.01", "exceeded"),
        ("125", "exceeded"),
        ("100", "achieved"),
        ("100.00", "achieved"),
        ("99.99", "not_achieved"),
    ],
)
def test_classify(value: str, expected: str) -> None:
    assert classify(D(value)) == expected


def test_labels_are_versioned_reference_data() -> None:
    assert mention_label("good") == "Desempenho bom"
    assert mention_label("satisfactory") == "Desempenho satisfatório"
    assert mention_label("insufficient") == "Desempenho insuficiente"
    assert classification_label("exceeded") == "Superou"
    assert classification_label("achieved") == "Atingiu"
    assert classification_label("not_achieved") == "Não atingiu"
    assert label("achieved", "lei-66-b-2007") == "Atingiu"
    with pytest.raises(KeyError):
        label("achieved", "dl-12-2024")


# ---------------------------------------------------------------- roll-ups


def test_weighted_rate_trace() -> None:
    # (60 × 111.67 + 40 × 80) / 100 = (6700.2 + 3200) / 100 = 99.002 → 99.00
    wr = weighted_rate([("I1", D(60), D("111.67")), ("I2", D(40), D(80))], "objective O1 rate")
    assert wr.rate == D("99.00")
    assert [s.to_dict() for s in wr.steps.steps] == [
        {
            "description": "objective O1 rate = Σ weight × rate / Σ weight",
            "formula": "60% × 111.67 + 40% × 80 over 100%",
            "values": {"I1": "60% × 111.67", "I2": "40% × 80"},
            "result": "99.00",
            "table_row": None,
        }
    ]


def test_weighted_rate_divides_by_the_weights_present() -> None:
    # (30 × 100 + 20 × 125) / 50 = 5500 / 50 = 110.00; one part alone keeps its rate
    assert weighted_rate([("a", D(30), D(100)), ("b", D(20), D(125))], "x").rate == D("110.00")
    assert weighted_rate([("a", D(60), D("90.005"))], "x").rate == D("90.01")
    with pytest.raises(ValueError, match=r"^x: no weighted parts$"):
        weighted_rate([("a", D(0), D(100))], "x")


# ---------------------------------------------------------------- relevant objectives (§3.4)


@pytest.mark.parametrize(
    ("weights", "threshold", "expected"),
    [
        # A 30 (not above 50), B 55 (above, but 2 < 3 taken), C 75 with 3 taken → stop
        ({"A": 30, "B": 25, "C": 20, "D": 15, "E": 10}, "50", ["A", "B", "C"]),
        # exactly 50 after two of four is not above 50: a third is taken
        ({"A": 25, "B": 25, "C": 25, "D": 25}, "50", ["A", "B", "C"]),
        # above 50 with the first, but at least half (3 of 5) must be taken
        ({"A": 60, "B": 10, "C": 10, "D": 10, "E": 10}, "50", ["A", "B", "C"]),
        # sorted by weight descending, ties in input order: c 60, b 20, a 20
        ({"b": 20, "a": 20, "c": 60}, "50", ["c", "b"]),
        # another threshold: 75 is not above 75 → D is taken too
        ({"A": 30, "B": 25, "C": 20, "D": 15, "E": 10}, "75", ["A", "B", "C", "D"]),
        ({"A": 30, "B": 25, "C": 20, "D": 15, "E": 10}, "74.99", ["A", "B", "C"]),
        ({}, "50", []),
    ],
)
def test_relevant_objectives(weights: dict[str, int], threshold: str, expected: list[str]) -> None:
    assert relevant_objectives({k: D(v) for k, v in weights.items()}, D(threshold)) == expected


def test_relevant_objectives_default_threshold_is_50() -> None:
    assert relevant_objectives({"A": D(25), "B": D(25), "C": D(25), "D": D(25)}) == ["A", "B", "C"]


# ---------------------------------------------------------------- final mention (art. 18)


def test_final_mention_and_its_reasons() -> None:
    assert final_mention({"A": "not_achieved", "B": "exceeded", "C": "not_achieved"}, ["C", "A"]) == (
        "insufficient",
        "relevant objective(s) not achieved: C, A",
    )
    assert final_mention({"A": "achieved", "B": "exceeded"}, ["A"]) == (
        "good",
        "all objectives achieved and some exceeded",
    )
    assert final_mention({"A": "achieved", "B": "achieved"}, ["A"]) == (
        "satisfactory",
        "all objectives achieved, none exceeded",
    )
    # a non-relevant miss: satisfactory even with an objective exceeded (never good)
    assert final_mention({"A": "exceeded", "B": "not_achieved"}, ["A"]) == (
        "satisfactory",
        "all relevant objectives achieved (some others not achieved)",
    )
    # a relevant objective absent from the classifications does not count as missed
    assert final_mention({"A": "achieved"}, ["Z"])[0] == "satisfactory"


# ---------------------------------------------------------------- whole QUAR evaluation


def quar_ind(code: str, objective: str, weight: str, polarity: str = "higher_is_better") -> IndicatorFacts:
    return IndicatorFacts(
        code=code,
        rule=QuarRealizationRule(),
        polarity=polarity,  # type: ignore[arg-type]
        meta=D(100),
        tolerance=D(5),
        critical_value=D(120),
        weight=D(weight),
        objective_code=objective,
    )


def quar_plan(**kw: Any) -> QuarPlan:
    return QuarPlan(
        indicators=(
            quar_ind("I1", "O1", "60"),
            quar_ind("I2", "O1", "40"),
            quar_ind("I3", "O2", "100"),
            quar_ind("I4", "O3", "100"),
        ),
        objectives=(
            QuarObjective("O1", "P1", D(100), relevant=True),
            QuarObjective("O2", "P2", D(50)),
            QuarObjective("O3", "P2", D(50), relevant=False),
        ),
        parameters=(QuarParameter("P1", D(60)), QuarParameter("P2", D(40))),
        **kw,
    )


RESULTS = {
    "I1": Observation(result=D(112)),  # 111.67
    "I2": Observation(result=D(76)),  # 80.00
    "I3": Observation(result=D(100)),  # 100
    "I4": Observation(result=D(130)),  # 125
}


def test_evaluate_quar_rolls_up_and_classifies() -> None:
    res = evaluate_quar(quar_plan(), RESULTS)
    # O1 = (60 × 111.67 + 40 × 80) / 100 = 99.00 → Não atingiu; O2 = 100 → Atingiu; O3 = 125 → Superou
    assert {k: (v.rate, v.classification, v.label) for k, v in res.objectives.items()} == {
        "O1": (D("99.00"), "not_achieved", "Não atingiu"),
        "O2": (D("100.00"), "achieved", "Atingiu"),
        "O3": (D("125.00"), "exceeded", "Superou"),
    }
    # P1 = 99.00; P2 = (50 × 100 + 50 × 125) / 100 = 112.50; final = (60 × 99 + 40 × 112.5) / 100 = 104.40
    assert (res.parameters["P1"].rate, res.parameters["P2"].rate) == (D("99.00"), D("112.50"))
    assert (res.final.rate, res.final.complete) == (D("104.40"), True)
    assert res.final.steps[0].to_dict()["formula"] == "60% × 99.00 + 40% × 112.50 over 100%"
    # explicit relevance: O1 only, and it is not achieved → insufficient (the final rate does not decide)
    assert res.relevant == ("O1",)
    assert (res.mention, res.mention_label) == ("insufficient", "Desempenho insuficiente")
    assert res.mention_reason == "relevant objective(s) not achieved: O1"


def test_evaluate_quar_reports_both_deviations() -> None:
    res = evaluate_quar(quar_plan(), RESULTS)
    i1 = res.indicators["I1"]
    assert (i1.code, i1.status, i1.native, i1.scale, i1.rule_kind, i1.reason) == (
        "I1",
        "scored",
        D("111.67"),
        100,
        "quar_realization",
        None,
    )
    assert res.objectives["O1"].code == "O1"
    assert res.objectives["O1"].steps[0].description == "objective O1 rate = Σ weight × rate / Σ weight"
    assert res.parameters["P2"].steps[0].description == "parameter P2 rate = Σ weight × rate / Σ weight"
    assert res.final.steps[0].description == "final rate = Σ weight × rate / Σ weight"
    o1 = res.objectives["O1"].to_dict()
    assert set(o1) == {"code", "rate", "complete", "classification", "label", "deviation", "steps"}
    assert (o1["code"], o1["rate"], o1["complete"], o1["classification"], o1["label"]) == (
        "O1",
        "99.00",
        True,
        "not_achieved",
        "Não atingiu",
    )
    assert len(o1["steps"]) == 1
    top = res.to_dict()
    assert set(top) == {
        "indicators",
        "objectives",
        "parameters",
        "final",
        "relevant_objectives",
        "mention",
        "mention_label",
        "mention_reason",
        "labels_version",
    }
    assert top["parameters"]["P2"]["rate"] == "112.50"
    assert top["mention_reason"] == "relevant objective(s) not achieved: O1"
    # I1: rate 111.67 − 100 = 11.67; (112 − 100) / 100 × 100 = 12.00
    assert dict(res.indicators["I1"].extra) == {"deviation_rate": "11.67", "deviation_result_percent": "12.00"}
    # I2: 80.00 − 100 = −20.00; (76 − 100) / 100 × 100 = −24.00
    assert dict(res.indicators["I2"].extra) == {"deviation_rate": "-20.00", "deviation_result_percent": "-24.00"}
    assert res.indicators["I1"].value == D("111.67")
    assert res.indicators["I1"].steps[0].description == "M+T < R < VC: above the band (Superou)"
    d = res.to_dict()
    assert d["objectives"]["O1"]["deviation"] == "-1.00"
    assert d["final"]["rate"] == "104.40"
    assert d["relevant_objectives"] == ["O1"]
    assert (d["mention"], d["mention_label"], d["labels_version"]) == (
        "insufficient",
        "Desempenho insuficiente",
        "lei-66-b-2007",
    )
    assert d["indicators"]["I2"]["extra"]["deviation_rate"] == "-20.00"


def test_evaluate_quar_computed_relevance() -> None:
    # global weights: O1 60 × 100 / 100 = 60, O2 40 × 50 / 100 = 20, O3 20; half of 3 is 2 → O1, O2
    plan = quar_plan(relevance="computed")
    assert global_weights(plan) == {"O1": D("60.00"), "O2": D("20.00"), "O3": D("20.00")}
    good = {**RESULTS, "I2": Observation(result=D(100))}  # O1 = (60 × 111.67 + 40 × 100) / 100 = 107.00
    res = evaluate_quar(plan, good)
    assert res.relevant == ("O1", "O2")
    assert res.objectives["O1"].rate == D("107.00")
    assert (res.mention, res.mention_reason) == ("good", "all objectives achieved and some exceeded")
    # with a threshold of 80, the 80 reached after O2 is not above it: O3 joins
    assert evaluate_quar(quar_plan(relevance="computed", relevance_threshold_percent=D(80)), good).relevant == (
        "O1",
        "O2",
        "O3",
    )


def test_evaluate_quar_incomplete_without_a_mention() -> None:
    res = evaluate_quar(quar_plan(), {k: v for k, v in RESULTS.items() if k != "I2"})
    # O1 from I1 alone: 111.67, incomplete; P1 incomplete; final = (60 × 111.67 + 40 × 112.5) / 100 = 112.00
    assert (res.objectives["O1"].rate, res.objectives["O1"].complete) == (D("111.67"), False)
    assert res.parameters["P1"].complete is False
    assert res.parameters["P2"].complete is True
    assert (res.final.rate, res.final.complete) == (D("112.00"), False)
    assert (res.mention, res.mention_label, res.mention_reason) == (None, None, None)
    assert res.indicators["I2"].status == "missing"
    assert res.indicators["I2"].extra == ()
    nothing = evaluate_quar(quar_plan(), {})
    assert (nothing.final.rate, nothing.final.complete, nothing.objectives["O1"].rate) == (None, False, None)
    assert nothing.to_dict()["final"]["deviation"] is None


def test_evaluate_quar_deviation_edge_cases() -> None:
    # I5: M 0 (T 5, VC 20): R 3 is within [−5, 5] → 100, but (R − M) / M is undefined → ""
    # I6: no tolerance → not scorable although it has a result and a meta: no deviation at all
    plan = quar_plan()
    zero_meta = IndicatorFacts(
        code="I5", rule=QuarRealizationRule(), meta=D(0), tolerance=D(5), critical_value=D(20), weight=D(0),
        objective_code="O2",
    )  # fmt: skip
    no_tolerance = IndicatorFacts(
        code="I6", rule=QuarRealizationRule(), meta=D(10), critical_value=D(20), weight=D(0), objective_code="O3"
    )
    plan = QuarPlan(
        indicators=(*plan.indicators, zero_meta, no_tolerance), objectives=plan.objectives, parameters=plan.parameters
    )
    res = evaluate_quar(plan, {**RESULTS, "I5": Observation(result=D(3)), "I6": Observation(result=D(12))})
    assert dict(res.indicators["I5"].extra) == {"deviation_rate": "0.00", "deviation_result_percent": ""}
    assert res.indicators["I6"].status == "not_scorable"
    assert res.indicators["I6"].extra == ()


def test_evaluate_quar_an_incomplete_objective_alone_makes_its_parameter_incomplete() -> None:
    # P2's objectives O2 (I3) and O3 (I4) both have rates, but O2 has a second indicator without a result
    plan = quar_plan()
    plan = QuarPlan(
        indicators=(*plan.indicators, quar_ind("I5", "O2", "0")),
        objectives=plan.objectives,
        parameters=plan.parameters,
    )
    res = evaluate_quar(plan, RESULTS)
    assert res.objectives["O2"].complete is False
    assert res.parameters["P2"].complete is False
    assert res.final.complete is False
    assert res.mention is None

"""QUAR realization rates and roll-ups, computed by hand from docs/domain.md §3 and the QUAR 2024."""

from __future__ import annotations

from decimal import Decimal as D

from rules_seed_facts import quar_indicator, quar_plan

from metas_rules import Polarity
from metas_rules.engine import Observation, evaluate_quar, quar_rate, relevant_objectives, score_indicator
from metas_rules.engine.quar_plan import global_weights

HIGH: Polarity = "higher_is_better"
LOW: Polarity = "lower_is_better"


def test_domain_worked_examples_higher_is_better() -> None:
    # M=100, T=5, VC=120. R=112: 100 + 25 × (112 − 105) / (120 − 105) = 100 + 175/15 = 111.666… → 111.67
    assert quar_rate(D(112), D(100), D(5), D(120), HIGH) == (D("111.67"), "above")
    # R=130 ≥ VC → 125
    assert quar_rate(D(130), D(100), D(5), D(120), HIGH) == (D("125.00"), "above")
    # R=96 within [95, 105] → 100
    assert quar_rate(D(96), D(100), D(5), D(120), HIGH) == (D("100.00"), "within")
    # R=76 < M−T=95: 76 / 95 × 100 = 80.00
    assert quar_rate(D(76), D(100), D(5), D(120), HIGH) == (D("80.00"), "below")
    # variant R / M: 76 / 100 × 100 = 76.00
    assert quar_rate(D(76), D(100), D(5), D(120), HIGH, below_band="meta")[0] == D("76.00")


def test_domain_worked_examples_lower_is_better() -> None:
    # M=30, T=2, VC=10, R=18: 100 + 25 × ((30−2) − 18) / ((30−2) − 10) = 100 + 250/18 = 113.888… → 113.89
    assert quar_rate(D(18), D(30), D(2), D(10), LOW) == (D("113.89"), "above")
    # R=40 > M+T=32: 32 / 40 × 100 = 80.00
    assert quar_rate(D(40), D(30), D(2), D(10), LOW) == (D("80.00"), "below")
    # R=10 ≤ VC → 125; R=31 in [28, 32] → 100
    assert quar_rate(D(10), D(30), D(2), D(10), LOW)[0] == D("125.00")
    assert quar_rate(D(31), D(30), D(2), D(10), LOW)[0] == D("100.00")


def test_seed_ind4_restoration_time_is_lower_is_better() -> None:
    ind4 = quar_indicator("Ind.4")  # meta 35 min, tolerance 5, critical 20
    assert ind4.polarity == LOW
    # R=25: 100 + 25 × (30 − 25) / (30 − 20) = 112.50
    assert score_indicator(ind4, Observation(result=D(25))).value == D("112.50")
    # R=42 > 40: 40 / 42 × 100 = 95.238… → 95.24
    assert score_indicator(ind4, Observation(result=D(42))).value == D("95.24")
    # R=38 within [30, 40] → 100; R=20 → 125
    assert score_indicator(ind4, Observation(result=D(38))).value == D("100.00")
    assert score_indicator(ind4, Observation(result=D(20))).value == D("125.00")


def test_seed_ind3_ind12_ind1() -> None:
    # Ind.3: M=99.0, T=0.5, VC=99.9; R=99.7: 100 + 25 × 0.2 / 0.4 = 112.50
    assert score_indicator(quar_indicator("Ind.3"), Observation(result=D("99.7"))).value == D("112.50")
    # Ind.12 (Likert): M=3.9, T=0.3, VC=4.5; R=4.3: 100 + 25 × 0.1 / 0.3 = 108.333… → 108.33
    assert score_indicator(quar_indicator("Ind.12"), Observation(result=D("4.3"))).value == D("108.33")
    # Ind.1: M=90, T=3, VC=100; R=85 < 87: 85 / 87 × 100 = 97.701… → 97.70
    score = score_indicator(quar_indicator("Ind.1"), Observation(result=D(85)))
    assert score.value == D("97.70")
    assert score.steps[-1].formula == "rate = R / (M−T) × 100"


def _at_meta() -> dict[str, Observation]:
    plan = quar_plan()
    return {i.code: Observation(result=i.meta) for i in plan.indicators}


def test_everything_at_meta_is_satisfactory() -> None:
    result = evaluate_quar(quar_plan(), _at_meta())
    assert result.final.rate == D("100.00")
    assert all(o.classification == "achieved" for o in result.objectives.values())
    assert result.mention == "satisfactory"
    assert result.mention_label == "Desempenho satisfatório"


def test_one_exceeded_objective_is_good_and_rolls_up_by_weight() -> None:
    obs = _at_meta()
    obs["Ind.1"] = Observation(result=D(100))  # R = VC → 125; OP1 has only Ind.1 (100 %)
    result = evaluate_quar(quar_plan(), obs)
    assert result.objectives["OP1"].rate == D("125.00")
    assert result.objectives["OP1"].label == "Superou"
    # Eficácia: 30 % × 125 + 24 % × 100 + 16 % × 100 + 30 % × 100 = 37.5 + 24 + 16 + 30 = 107.50
    assert result.parameters["eficacia"].rate == D("107.50")
    # final: 35 % × 107.50 + 25 % × 100 + 40 % × 100 = 37.625 + 25 + 40 = 102.625 → 102.63
    assert result.final.rate == D("102.63")
    assert result.mention == "good"


def test_non_relevant_miss_keeps_satisfactory_relevant_miss_is_insufficient() -> None:
    obs = _at_meta()
    obs["Ind.1"] = Observation(result=D(100))
    obs["Ind.3"] = Observation(result=D(97))  # < 98.5: 97 / 98.5 × 100 = 98.477… → 98.48
    result = evaluate_quar(quar_plan(), obs)
    # OP3 = (60 × 98.48 + 40 × 100) / 100 = 99.088 → 99.09 → Não atingiu (OP3 is not relevant)
    assert result.indicators["Ind.3"].value == D("98.48")
    assert result.objectives["OP3"].rate == D("99.09")
    assert result.objectives["OP3"].label == "Não atingiu"
    # Eficácia = 30 % × 125 + 24 % × 100 + 16 % × 99.09 + 30 % × 100 = 107.3544 → 107.35
    assert result.parameters["eficacia"].rate == D("107.35")
    # final = 35 % × 107.35 + 25 + 40 = 102.5725 → 102.57
    assert result.final.rate == D("102.57")
    assert result.mention == "satisfactory"
    obs["Ind.2"] = Observation(result=D(80))  # OP2 relevant: 80 / 85 × 100 = 94.12 → Não atingiu
    result = evaluate_quar(quar_plan(), obs)
    assert result.objectives["OP2"].rate == D("94.12")
    assert result.mention == "insufficient"
    assert result.mention_label == "Desempenho insuficiente"


def test_relevant_objectives_computed_match_the_seed_flags() -> None:
    plan = quar_plan()
    weights = global_weights(plan)
    # parameter × objective weight: OP1 35 × 30 % = 10.5, OP5 25 × 40 % = 10.0, OP10 40 × 22 % = 8.8 …
    assert (weights["OP1"], weights["OP5"], weights["OP10"], weights["OP9"]) == (
        D("10.50"),
        D("10.00"),
        D("8.80"),
        D("4.00"),
    )
    # 10.5 + 10.5 + 10.0 + 8.8 + 8.8 + 8.4 = 57.0 > 50 with 6 taken; half of 14 is 7 → + 6.4 = 63.4
    computed = relevant_objectives(weights)
    assert sorted(computed) == sorted(["OP1", "OP2", "OP4", "OP5", "OP10", "OP11", "OP14"])
    assert sum(weights[c] for c in computed) == D("63.40")
    explicit = evaluate_quar(quar_plan(), _at_meta()).relevant
    assert sorted(explicit) == sorted(computed)


def test_missing_result_makes_the_evaluation_incomplete_without_a_mention() -> None:
    obs = _at_meta()
    del obs["Ind.20"]
    result = evaluate_quar(quar_plan(), obs)
    assert result.indicators["Ind.20"].status == "missing"
    assert result.objectives["OP14"].complete is False
    assert result.final.complete is False
    assert result.mention is None

"""Acordo indicator rules with the real seed 004 values; arithmetic by hand from docs/domain.md §2.1."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from rules_seed_facts import acordo_indicator

from metas_rules import parse_rule
from metas_rules.engine import IndicatorFacts, Observation, revised_planned_value, score_indicator


def score(facts: IndicatorFacts, result: str, **kw: object) -> D | None:
    return score_indicator(facts, Observation(result=D(result), **kw)).value  # type: ignore[arg-type]


def test_general_ambitious_higher_vaccines() -> None:
    ds2 = acordo_indicator("diretoria_saude", "2")  # higher, V0 50 000, meta 53 000
    # (52 000 − 50 000) / (53 000 − 50 000) × 100 = 2000/3000 × 100 = 66.666… → 66.67
    assert score(ds2, "52000") == D("66.67")
    # OBS1: (49 000 − 50 000) / 3000 × 100 = −33.33 → 0
    assert score(ds2, "49000") == D("0.00")
    # above the meta: 4000/3000 × 100 = 133.33 → capped at 100
    assert score(ds2, "54000") == D("100.00")


def test_general_ambitious_lower_funeral_aid() -> None:
    dp4 = acordo_indicator("diretoria_previdencia", "4")  # lower, V0 6.49, meta 6 (< V0: ambitious)
    # (6.2 − 6.49) / (6 − 6.49) × 100 = −0.29 / −0.49 × 100 = 59.183… → 59.18
    assert score(dp4, "6.2") == D("59.18")
    # worse than V0: (6.6 − 6.49) / (−0.49) × 100 = −22.4 → 0 (OBS1)
    assert score(dp4, "6.6") == D("0.00")


def test_general_ambitious_money_revenue() -> None:
    dpgf6 = acordo_indicator("diretoria_planejamento_gestao_financas", "06")  # V0 78 324 000, M 78 800 000
    # (78 600 000 − 78 324 000) / (78 800 000 − 78 324 000) × 100 = 276 000 / 476 000 × 100 = 57.983… → 57.98
    assert score(dpgf6, "78600000.00") == D("57.98")


def test_general_ambitious_vaccination_coverage() -> None:
    ds5 = acordo_indicator("diretoria_saude", "5")  # higher, V0 45.98, meta 50
    # (48 − 45.98) / (50 − 45.98) × 100 = 2.02 / 4.02 × 100 = 50.248… → 50.25
    assert score(ds5, "48") == D("50.25")


def test_obs2_lower_is_better_seed_formula() -> None:
    proc1 = acordo_indicator("procuradoria", "1")  # lower, V0 1.98, meta 2.3 (≥ V0: OBS2)
    # execution = (1 − (2.4 − 2.3) / 2.3) × 100 = (1 − 0.0434…) × 100 = 95.652… → 95.65 → row 95–99.99 → 80
    s = score_indicator(proc1, Observation(result=D("2.4")))
    assert s.value == D("80.00")
    assert any(step.table_row and "95" in step.table_row for step in s.steps)
    # 2.6: (1 − 0.3/2.3) × 100 = 86.956… → 86.96 → row 80–89.99 → 40
    assert score(proc1, "2.6") == D("40.00")
    # 2.0: (1 + 0.3/2.3) × 100 = 113.04 → ≥ 100 → 100
    assert score(proc1, "2.0") == D("100.00")
    # configurable reading: meta / result × 100 = 2.3 / 2.4 × 100 = 95.833… → 95.83 → 80
    inverse = replace(proc1, rule=parse_rule({"kind": "general", "lower_execution": "inverse_ratio"}))
    assert score(inverse, "2.4") == D("80.00")
    # 2.3 / 2.9 × 100 = 79.31 → < 80 → 0 (the seed formula gives (1 − 0.6/2.3) × 100 = 73.91 → 0 too)
    assert score(inverse, "2.9") == D("0.00")


def test_obs2_lower_missed_calls() -> None:
    ds4 = acordo_indicator("diretoria_saude", "4")  # lower, V0 17.67, meta 25 (≥ V0: OBS2)
    # 26: (1 − 1/25) × 100 = 96.00 → 80; 20: (1 + 5/25) × 100 = 120 → 100
    assert score(ds4, "26") == D("80.00")
    assert score(ds4, "20") == D("100.00")


def test_obs2_higher_rounds_execution_before_the_lookup() -> None:
    dpgf7 = acordo_indicator("diretoria_planejamento_gestao_financas", "07")  # higher, V0 91.67, meta 90
    # 86 / 90 × 100 = 95.555… → 95.56 → 80
    assert score(dpgf7, "86") == D("80.00")
    # 85.5 / 90 × 100 = 95.00 → 80 ; 85.49 / 90 × 100 = 94.988… → 94.99 → 60
    assert score(dpgf7, "85.5") == D("80.00")
    assert score(dpgf7, "85.49") == D("60.00")
    # 89.9955 / 90 × 100 = 99.995 → 100.00 (half up) → 100, the gap 99.99–100 never happens
    assert score(dpgf7, "89.9955") == D("100.00")
    # 71.99 / 90 × 100 = 79.988… → 79.99 → < 80 → 0
    assert score(dpgf7, "71.99") == D("0.00")


def test_obs2_meta_equal_to_v0() -> None:
    dpgf4 = acordo_indicator("diretoria_planejamento_gestao_financas", "04")  # IAC, V0 100 = meta 100
    assert score(dpgf4, "100") == D("100.00")
    # 99.99 / 100 × 100 = 99.99 → 80
    assert score(dpgf4, "99.99") == D("80.00")


def test_no_v0_formulas() -> None:
    lower = IndicatorFacts(code="x", rule=parse_rule({"kind": "general"}), polarity="lower_is_better", meta=D(13))
    # (1 − (14 − 13) / 13) × 100 = 92.307… → 92.31
    assert score(lower, "14") == D("92.31")
    higher = IndicatorFacts(code="y", rule=parse_rule({"kind": "general"}), polarity="higher_is_better", meta=D(303))
    # 250 / 303 × 100 = 82.508… → 82.51; 320 / 303 → 105.61 → capped 100
    assert score(higher, "250") == D("82.51")
    assert score(higher, "320") == D("100.00")


def test_paa_ratio_times_10_with_floor() -> None:
    paa = acordo_indicator("auditoria_seccional", "1")  # meta 95, scale 0–10, zero below 70.00
    s = score_indicator(paa, Observation(result=D(90)))
    # 90 / 95 × 10 = 9.4736… → 9.47 on 0–10 → 94.70 internal
    assert (s.native, s.value, s.scale) == (D("9.47"), D("94.70"), 10)
    # 70 / 95 × 10 = 7.368… → 7.37 → 73.70
    assert score(paa, "70") == D("73.70")
    # 69.99 < 70.00 → zero
    assert score(paa, "69.99") == D("0.00")
    # 100 / 95 × 10 = 10.53 → capped at 10 → 100
    assert score(paa, "100") == D("100.00")


def test_spending_limit_plain_ratio() -> None:
    va_vm = acordo_indicator("diretoria_planejamento_gestao_financas", "05")  # meta 27 000 000
    # 25 000 000 / 27 000 000 × 100 = 92.592… → 92.59 ; 28 000 000 → 103.7 → 100
    assert score(va_vm, "25000000.00") == D("92.59")
    assert score(va_vm, "28000000.00") == D("100.00")


def test_idle_stock_threshold_with_meta_table() -> None:
    idle = acordo_indicator("diretoria_planejamento_gestao_financas", "01")  # lower, meta 5
    assert score(idle, "5") == D("100.00")  # equal to the meta → 100 (Obs.)
    assert score(idle, "5.01") == D("0.00")
    # reference index 60 % (> 50 %) → meta 20 %: 18 → 100, 21 → 0
    assert score(idle, "18", reference_index=D(60)) == D("100.00")
    assert score(idle, "21", reference_index=D(60)) == D("0.00")
    # reference index 15 % → row "≥ 0 and ≤ 15" → meta 5: 6 → 0 ; 25.01 → row "> 25 and ≤ 50" → meta 15
    assert score(idle, "6", reference_index=D(15)) == D("0.00")
    assert score(idle, "15", reference_index=D("25.01")) == D("100.00")


def _purchasing(x: str, y: str) -> D | None:
    plan = acordo_indicator("diretoria_planejamento_gestao_financas", "02")
    return score_indicator(plan, Observation(components={"X": D(x), "Y": D(y)})).value


def test_purchasing_plan_buckets_then_score_table() -> None:
    # X 85 % → 1 (70–130), Y 60 % → 0.7 (50–70): (0.5 × 1 + 0.5 × 0.7) × 100 = 85 → row 70–100 → 100
    assert _purchasing("85", "60") == D("100.00")
    # X 140 % → 0.7, Y 40 % → 0.5: (0.35 + 0.25) × 100 = 60 → row [60, 70) → 80
    assert _purchasing("140", "40") == D("80.00")
    # X 210 % → 0 (> 200), Y 100 % → 1: (0 + 0.5) × 100 = 50 → row [50, 60) → 60
    assert _purchasing("210", "100") == D("60.00")
    # X 25 % → 0, Y 55 % → 0.7: 35 → < 50 → 0
    assert _purchasing("25", "55") == D("0.00")


def test_revised_plan_weighting_seed_example() -> None:
    # 10 000 000 × 4/10 + 8 000 000 × 6/10 = 4 000 000 + 4 800 000 = 8 800 000
    planned = revised_planned_value(D("10000000.00"), D(4), D("8000000.00"), D(6), D(10))
    assert planned == D("8800000")
    rule = parse_rule(
        {
            "kind": "weighted_composite",
            "multiplier": "100",
            "components": [
                {
                    "code": "X",
                    "weight": "0.5",
                    "source": "revised_plan_ratio",
                    "buckets": {
                        "rows": [
                            {"interval": {"min": "70", "max": "130"}, "value": "1"},
                            {"interval": {"min": "0", "max": "70", "max_inclusive": False}, "value": "0"},
                        ]
                    },
                },
                {
                    "code": "Y",
                    "weight": "0.5",
                    "buckets": {
                        "rows": [
                            {"interval": {"min": "70", "max": "100"}, "value": "1"},
                            {"interval": {"min": "0", "max": "70", "max_inclusive": False}, "value": "0"},
                        ]
                    },
                },
            ],
        }
    )
    facts = IndicatorFacts(code="compras", rule=rule, meta=D(70))
    inputs = {
        "X.numerator": D("7040000"),
        "X.initial": D("10000000"),
        "X.months_initial": D(4),
        "X.revised": D("8000000"),
        "X.months_revised": D(6),
        "X.months_total": D(10),
        "Y": D(75),
    }
    s = score_indicator(facts, Observation(components=inputs))
    # X = 7 040 000 / 8 800 000 × 100 = 80 % → 1; Y 75 % → 1: (0.5 + 0.5) × 100 = 100, no table → 100
    assert s.value == D("100.00")
    assert any("8800000" in (step.result or "") for step in s.steps)


def _regionalisation(a: str, b: str, c: str) -> D | None:
    reg = acordo_indicator("diretoria_planejamento_gestao_financas", "03")
    return score_indicator(reg, Observation(components={"%ATrefis": D(a), "%ATrefin": D(b), "%Refin": D(c)})).value


def test_regionalisation_weighted_composite_then_step_table() -> None:
    # 0.3 × 100 + 0.3 × 100 + 0.4 × 90 = 96 → 90–100 → 100
    assert _regionalisation("100", "100", "90") == D("100.00")
    # 0.3 × 50 + 0.3 × 40 + 0.4 × 45 = 15 + 12 + 18 = 45 → 40–49 → 50
    assert _regionalisation("50", "40", "45") == D("50.00")
    # 0.3 × 5 + 0.3 × 2 + 0.4 × 1 = 1.5 + 0.6 + 0.4 = 2.5 → 1–9 → 10
    assert _regionalisation("5", "2", "1") == D("10.00")
    assert _regionalisation("0", "0", "0") == D("0.00")


def test_regionalisation_gap_is_decided_by_the_table_policy() -> None:
    # 0.3 × 95 + 0.3 × 90 + 0.4 × 85 = 28.5 + 27 + 34 = 89.5: between "80–89" and "90–100";
    # the seed translation reads it as not yet 90 (gap policy row_below) → 90
    reg = acordo_indicator("diretoria_planejamento_gestao_financas", "03")
    s = score_indicator(reg, Observation(components={"%ATrefis": D(95), "%ATrefin": D(90), "%Refin": D(85)}))
    assert s.value == D("90.00")
    assert "row_below" in (s.steps[-1].table_row or "")


def test_missing_result_and_missing_component() -> None:
    ds2 = acordo_indicator("diretoria_saude", "2")
    assert score_indicator(ds2, None).status == "missing"
    reg = acordo_indicator("diretoria_planejamento_gestao_financas", "03")
    s = score_indicator(reg, Observation(components={"%ATrefis": D(95)}))
    assert s.status == "not_scorable"
    assert "%ATrefin" in (s.reason or "")

"""Inverse questions solved by hand: the result needed for a score, the score needed for a team grade."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from rules_seed_facts import acordo_indicator, acordo_product, quar_indicator

from metas_rules import DelayTableRule, parse_rule
from metas_rules.engine import IndicatorFacts, latest_delivery_for_score, required_part_score, required_result


def quar_facts(m: str, t: str, vc: str, polarity: str = "higher_is_better") -> IndicatorFacts:
    return IndicatorFacts(
        code="q",
        rule=parse_rule({"kind": "quar_realization"}),
        polarity=polarity,  # type: ignore[arg-type]
        meta=D(m),
        tolerance=D(t),
        critical_value=D(vc),
    )


def test_quar_inverse_worked_examples() -> None:
    f = quar_facts("100", "5", "120")
    # 111.67 = 100 + 25 × (R − 105) / 15 → R = 105 + 11.67 × 15 / 25 = 105 + 7.002 = 112.002
    a = required_result(f, D("111.67"))
    assert (a.status, a.value, a.direction, a.achieved) == ("solved", D("112.002"), "at_least", D("111.67"))
    # 125 → R = VC = 120 ; 100 → R = M − T = 95 ; 80 → R = 80 × 95 / 100 = 76
    assert required_result(f, D(125)).value == D(120)
    assert required_result(f, D(100)).value == D(95)
    assert required_result(f, D(80)).value == D(76)
    assert required_result(f, D("125.01")).status == "impossible"
    lower = quar_facts("30", "2", "10", "lower_is_better")
    # 80 = 32 / R × 100 → R = 40 at most
    a = required_result(lower, D(80))
    assert (a.value, a.direction) == (D(40), "at_most")


def test_quar_seed_ind4_inverse() -> None:
    # Ind.4: M 35, T 5, VC 20, lower. 112.50 = 100 + 25 × (30 − R) / 10 → R = 30 − 12.5 × 10 / 25 = 25
    a = required_result(quar_indicator("Ind.4"), D("112.50"))
    assert (a.value, a.direction) == (D(25), "at_most")


def test_general_ambitious_inverse() -> None:
    ds2 = acordo_indicator("diretoria_saude", "2")  # V0 50 000, meta 53 000
    # R = V0 + score × (M − V0) / 100 = 50 000 + 66.67 × 3000 / 100 = 52 000.1
    a = required_result(ds2, D("66.67"))
    assert (a.value, a.achieved) == (D("52000.1"), D("66.67"))
    assert required_result(ds2, D(0)).status == "always"
    assert required_result(ds2, D("100.01")).status == "impossible"


def test_obs2_inverse_searches_the_table() -> None:
    dpgf7 = acordo_indicator("diretoria_planejamento_gestao_financas", "07")  # higher, meta 90, OBS2
    # score 80 needs execution ≥ 95.00 → R = 95 × 90 / 100 = 85.5 ; 70 → also row "95–99.99" (least row ≥ 70)
    assert required_result(dpgf7, D(80)).value == D("85.5")
    assert required_result(dpgf7, D(70)).value == D("85.5")
    # 100 → execution 100 → R = 90 ; 40 → execution 80 → R = 72
    assert required_result(dpgf7, D(100)).value == D(90)
    assert required_result(dpgf7, D(40)).value == D(72)
    proc1 = acordo_indicator("procuradoria", "1")  # lower, meta 2.3, OBS2 with the seed formula
    # execution 95 = (1 − (R − 2.3) / 2.3) × 100 → R = 2.3 × (2 − 0.95) = 2.415, at most
    a = required_result(proc1, D(80))
    assert (a.value, a.direction) == (D("2.415"), "at_most")


def test_ratio_inverse_and_floor() -> None:
    paa = acordo_indicator("auditoria_seccional", "1")  # meta 95, 0–10, zero below 70
    # internal 94.70 → R = 94.70 × 95 / 100 = 89.965 ; forward 89.965 / 95 × 10 = 9.47
    a = required_result(paa, D("94.70"))
    assert (a.value, a.achieved) == (D("89.965"), D("94.70"))
    # 50 → 47.5 is below the floor 70 → at least 70 (forward 73.70)
    a = required_result(paa, D(50))
    assert (a.value, a.achieved) == (D(70), D("73.70"))


def test_threshold_and_composite_inverse() -> None:
    idle = acordo_indicator("diretoria_planejamento_gestao_financas", "01")
    assert (required_result(idle, D(100)).value, required_result(idle, D(100)).direction) == (D(5), "at_most")
    reg = acordo_indicator("diretoria_planejamento_gestao_financas", "03")
    # score 90 → least row reaching it: "80–89" → index 80
    a = required_result(reg, D(90))
    assert (a.quantity, a.value) == ("index", D(80))


def test_derived_inverse_is_the_mean_grade() -> None:
    derived = acordo_indicator("auditoria_seccional", "2")  # meta 10 on 0–10
    # internal 95 = mean / 10 × 10 × 10 → mean = 95 × 10 / 100 = 9.5
    a = required_result(derived, D(95))
    assert (a.quantity, a.value) == ("mean", D("9.5"))


def test_required_score_for_the_team_rounds_half_up() -> None:
    parts = [("paa", D(50), D("94.70")), ("media", D(50), None)]
    # (95 × 100 − 94.70 × 50) / 50 = (9500 − 4735) / 50 = 95.30; but 95.29 gives
    # (95.29 × 50 + 4735) / 100 = 94.995 → 95.00 (half up), so 95.29 is enough
    a = required_part_score(parts, "media", D(95))
    assert (a.status, a.value, a.achieved) == ("solved", D("95.29"), D("95.00"))
    # 100 for the team would need 105.30 > 100
    assert required_part_score(parts, "media", D(100)).status == "impossible"
    # 40: (4000 − 4735) / 50 < 0 → always
    assert required_part_score(parts, "media", D(40)).status == "always"


def test_latest_delivery_for_a_score() -> None:
    cartilha = acordo_product("diretoria_saude", "01")  # due 31/12/2014
    rule = cartilha.rule
    assert isinstance(rule, DelayTableRule)
    assert cartilha.due_date is not None
    cutoff = date(2015, 1, 30)
    # 90 → 15 days late at most (31/12 + 15 = 15/01/2015)
    assert latest_delivery_for_score(rule, cartilha.due_date, D(90), cutoff=cutoff).value == D(15)
    # 50 → band up to 360 days, but the cut-off 30/01/2015 is 30 days after the due date
    assert latest_delivery_for_score(rule, cartilha.due_date, D(50), cutoff=cutoff).value == D(30)
    assert latest_delivery_for_score(rule, cartilha.due_date, D(101), cutoff=cutoff).status == "impossible"

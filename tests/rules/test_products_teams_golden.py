"""Products (delay tables, cut-off, partial, stages), team grades, productivity, derived
indicators in dependency order — hand arithmetic from docs/domain.md §2.2–2.3 and the Acordo."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from rules_seed_facts import acordo_indicator, acordo_indicators, acordo_product, acordo_products, acordo_units

from metas_rules import parse_rule
from metas_rules.engine import (
    AcordoPlan,
    Delivery,
    DependencyCycleError,
    IndicatorFacts,
    Observation,
    ProductFacts,
    Score,
    WeightedItem,
    evaluate_acordo,
    last_business_day_of_january,
    product_cutoff,
    productivity,
    score_product,
    team_order,
    team_score,
)

# 31/01/2015 is a Saturday: the last business day of January 2015 is Friday 30/01/2015
CUTOFF_2015 = date(2015, 1, 30)


def delivered(day: date) -> Delivery:
    return Delivery(status="delivered", delivered_on=day)


def test_january_cutoff_is_the_last_business_day() -> None:
    assert product_cutoff(2014) == CUTOFF_2015
    # a jurisdiction closing on Friday 30/01 moves it to Thursday 29/01
    assert last_business_day_of_january(2015, lambda d: d.weekday() < 5 and d != date(2015, 1, 30)) == date(2015, 1, 29)


def test_seed_product_own_delay_table() -> None:
    cartilha = acordo_product("diretoria_saude", "01")  # due 31/12/2014, own table 1–15 → 90 …
    assert score_product(cartilha, delivered(date(2014, 12, 31)), cutoff=CUTOFF_2015).value == D("100.00")
    # 10 days late → 90
    assert score_product(cartilha, delivered(date(2015, 1, 10)), cutoff=CUTOFF_2015).value == D("90.00")
    # 30/01/2015: 30 days late → 16–30 → 80 (still on the cut-off day)
    assert score_product(cartilha, delivered(CUTOFF_2015), cutoff=CUTOFF_2015).value == D("80.00")
    # 02/02/2015: after the cut-off → not evaluated → 0
    late = score_product(cartilha, delivered(date(2015, 2, 2)), cutoff=CUTOFF_2015)
    assert late.value == D("0.00")
    assert "cut-off" in late.steps[0].description


def test_seed_product_61_to_360_band() -> None:
    p03 = acordo_product("diretoria_planejamento_gestao_financas", "03")  # due 01/07/2014
    # 01/07 → 01/08 = 31 days, → 01/09 = 31, → 15/09 = 14: 76 days late → 61–360 → 50
    assert score_product(p03, delivered(date(2014, 9, 15)), cutoff=CUTOFF_2015).value == D("50.00")
    # 01/07 → 15/08: 31 + 14 = 45 days → 31–45 → 70
    assert score_product(p03, delivered(date(2014, 8, 15)), cutoff=CUTOFF_2015).value == D("70.00")


def test_general_product_table() -> None:
    rule = parse_rule({"kind": "delay_table"})
    p = ProductFacts(code="p", rule=rule, due_date=date(2014, 9, 30))
    # 30/09 → 31/10 = 31 days → 31–60 → 70 ; 30/09 → 29/01/2015 = 121 days → > 120 → 0
    assert score_product(p, delivered(date(2014, 10, 31)), cutoff=CUTOFF_2015).value == D("70.00")
    assert score_product(p, delivered(date(2015, 1, 29)), cutoff=CUTOFF_2015).value == D("0.00")
    # 30/09 → 28/01/2015 = 120 days → 91–120 → 50
    assert score_product(p, delivered(date(2015, 1, 28)), cutoff=CUTOFF_2015).value == D("50.00")


def test_partial_delivery_is_a_committee_score_up_to_50() -> None:
    p = acordo_product("procuradoria", "1")
    ok = Delivery(status="partial", partial_score=D(45), justification="70 % do fluxo entregue")
    assert score_product(p, ok, cutoff=CUTOFF_2015).value == D("45.00")
    too_high = Delivery(status="partial", partial_score=D("50.01"), justification="x")
    assert score_product(p, too_high, cutoff=CUTOFF_2015).status == "not_scorable"
    unjustified = Delivery(status="partial", partial_score=D(30))
    assert score_product(p, unjustified, cutoff=CUTOFF_2015).status == "not_scorable"


def test_not_delivered_pending_and_missing() -> None:
    p = acordo_product("procuradoria", "1")  # due 30/11/2014
    assert score_product(p, Delivery(status="not_delivered"), cutoff=CUTOFF_2015).value == D("0.00")
    assert score_product(p, None, cutoff=CUTOFF_2015, as_of=date(2014, 6, 30)).status == "pending"
    assert score_product(p, None, cutoff=CUTOFF_2015).status == "missing"
    # evaluated after the cut-off with nothing registered: 0
    assert score_product(p, None, cutoff=CUTOFF_2015, as_of=date(2015, 2, 2)).value == D("0.00")
    # evaluated between the due date and the cut-off: still missing (it may yet be delivered)
    assert score_product(p, None, cutoff=CUTOFF_2015, as_of=date(2014, 12, 15)).status == "missing"


def test_sigas_stages_mean() -> None:
    sigas = acordo_product("diretoria_saude", "02")  # stages due 30/06, 30/09, 30/11/2014
    codes = [s.code for s in sigas.stages]
    assert len(codes) == 3
    stages = {
        codes[0]: delivered(date(2014, 7, 10)),  # 10 days → 90
        codes[1]: delivered(date(2014, 9, 30)),  # on time → 100
        codes[2]: delivered(date(2014, 12, 20)),  # 20 days → 80
    }
    # (90 + 100 + 80) / 3 = 90.00
    assert score_product(sigas, Delivery(stages=stages), cutoff=CUTOFF_2015).value == D("90.00")
    stages[codes[2]] = delivered(date(2014, 12, 1))  # 1 day → 90: (90 + 100 + 90) / 3 = 93.333… → 93.33
    assert score_product(sigas, Delivery(stages=stages), cutoff=CUTOFF_2015).value == D("93.33")


def test_quantity_product_regra_geral() -> None:
    p = acordo_product("diretoria_previdencia", "2", quantity_target="303")
    # 250 / 303 × 100 = 82.508… → 82.51
    assert score_product(p, Delivery(quantity=D(250)), cutoff=CUTOFF_2015).value == D("82.51")


def _item(code: str, weight: int, value: str | None, status: str = "scored") -> WeightedItem:
    return WeightedItem(code, D(weight), Score(code, status, None if value is None else D(value)))  # type: ignore[arg-type]


def test_team_score_and_set_aside_redistribution() -> None:
    items = [
        _item("a", 20, "100"),
        _item("b", 20, "80"),
        _item("c", 20, "60"),
        _item("d", 20, "90"),
        _item("e", 20, "70"),
    ]
    # (100 + 80 + 60 + 90 + 70) × 20 / 100 = 80.00
    assert team_score("t", items).value == D("80.00")
    items[4] = _item("e", 20, None, "set_aside")
    # e set aside: (100 + 80 + 60 + 90) × 20 / 80 = 82.50 (each remaining weight 20 → 25)
    t = team_score("t", items)
    assert (t.value, t.complete, t.set_aside) == (D("82.50"), True, ("e",))
    # unequal weights: 50 × 91.25 + 30 × 77.5 + 20 × 0 over 100 = 45.625 + 23.25 = 68.875 → 68.88
    assert team_score("u", [_item("x", 50, "91.25"), _item("y", 30, "77.5"), _item("z", 20, "0")]).value == D("68.88")


def test_productivity() -> None:
    # 0.70 × 95 + 0.30 × 82.50 = 66.5 + 24.75 = 91.25
    assert productivity(D(95), D("82.50"))[0] == D("91.25")
    # 0.70 × 90.15 + 0.30 × 90 = 63.105 + 27 = 90.105 → 90.11 (half up; banker's rounding would give 90.10)
    assert productivity(D("90.15"), D(90))[0] == D("90.11")


def test_team_order_and_cycles() -> None:
    assert team_order(["proc", "aud", "ds"], {"proc": ["ds"], "aud": ["ds"]}) == ["ds", "proc", "aud"]
    with pytest.raises(DependencyCycleError):
        team_order(["a", "b"], {"a": ["b"], "b": ["a"]})


def _full_acordo_observations() -> tuple[dict[str, Observation], dict[str, Delivery]]:
    obs: dict[str, Observation] = {}
    for ind in acordo_indicators():
        obs[ind.code] = Observation(result=ind.meta)
    obs["diretoria_planejamento_gestao_financas-I02"] = Observation(components={"X": D(85), "Y": D(60)})
    obs["diretoria_planejamento_gestao_financas-I03"] = Observation(
        components={"%ATrefis": D(100), "%ATrefin": D(100), "%Refin": D(90)}
    )
    deliveries: dict[str, Delivery] = {}
    for p in acordo_products():
        if p.stages:
            deliveries[p.code] = Delivery(stages={s.code: delivered(s.due_date) for s in p.stages})
        else:
            assert p.due_date is not None
            deliveries[p.code] = delivered(p.due_date)
    return obs, deliveries


def test_whole_seed_acordo_every_goal_met() -> None:
    plan = AcordoPlan(acordo_units(), tuple(acordo_indicators()), tuple(acordo_products()), cutoff=CUTOFF_2015)
    obs, deliveries = _full_acordo_observations()
    result = evaluate_acordo(plan, obs, deliveries, n1=D("90.00"))
    # derived teams come after the three teams they read
    assert result.order.index("procuradoria") > result.order.index("diretoria_saude")
    assert result.order.index("auditoria_seccional") > result.order.index("diretoria_planejamento_gestao_financas")
    for unit in ("diretoria_saude", "diretoria_previdencia", "diretoria_planejamento_gestao_financas"):
        assert result.teams[unit].value == D("100.00")
    # média das notas: (10.00 + 10.00 + 10.00) / 3 = 10.00 → 10 / 10 × 10 = 10 → 100
    assert result.indicators["procuradoria-I3"].value == D("100.00")
    # PAA at meta: 95 / 95 × 10 = 10 → 100; Auditoria = (100 × 50 + 100 × 50) / 100 = 100
    assert result.teams["auditoria_seccional"].value == D("100.00")
    # productivity = 0.70 × 90 + 0.30 × 100 = 93.00
    assert result.productivity["procuradoria"][0] == D("93.00")


def test_whole_seed_acordo_derived_from_real_grades() -> None:
    plan = AcordoPlan(acordo_units(), tuple(acordo_indicators()), tuple(acordo_products()), cutoff=CUTOFF_2015)
    obs, deliveries = _full_acordo_observations()
    # DS vaccines 52 000 → 66.67 (ambitious), weight 10 of 100:
    obs["diretoria_saude-I2"] = Observation(result=D(52000))
    # DS grade = (90 × 100 + 10 × 66.67) / 100 = (9000 + 666.7) / 100 = 96.667 → 96.67
    # DPGF cartilha-like product P01 10 days late → 90, weight 15 of 100:
    deliveries["diretoria_planejamento_gestao_financas-P01"] = delivered(date(2015, 1, 10))
    # DPGF grade = (85 × 100 + 15 × 90) / 100 = 98.50 ; DP grade = 100
    # média (0–10): 9.667 → 9.67, 9.85, 10.00 → (9.67 + 9.85 + 10.00) / 3 = 29.52 / 3 = 9.84
    # score10 = 9.84 / 10 × 10 = 9.84 → internal 98.40
    obs["auditoria_seccional-I1"] = Observation(result=D(90))  # PAA → 94.70
    result = evaluate_acordo(plan, obs, deliveries)
    assert result.teams["diretoria_saude"].value == D("96.67")
    assert result.teams["diretoria_planejamento_gestao_financas"].value == D("98.50")
    derived = result.indicators["auditoria_seccional-I2"]
    assert (derived.native, derived.value) == (D("9.84"), D("98.40"))
    # Auditoria = (94.70 × 50 + 98.40 × 50) / 100 = 96.55
    assert result.teams["auditoria_seccional"].value == D("96.55")


def test_evaluation_rejects_a_cycle_between_derived_indicators() -> None:
    derived = {"kind": "derived_from_teams", "include_units": ["b"]}
    back = {"kind": "derived_from_teams", "include_units": ["a"]}
    plan = AcordoPlan(
        ("a", "b"),
        (
            IndicatorFacts(code="ia", rule=parse_rule(derived), meta=D(10), unit_code="a", weight=D(100)),
            IndicatorFacts(code="ib", rule=parse_rule(back), meta=D(10), unit_code="b", weight=D(100)),
        ),
    )
    with pytest.raises(DependencyCycleError):
        evaluate_acordo(plan, {}, {})


def test_paa_team_uses_the_seed_weights() -> None:
    assert acordo_indicator("auditoria_seccional", "1").weight == D(50)

"""The plan document and its validation: seeds import clean, round-trip, and every check fires."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from planning_seeds import load_plan

from planning.domain.document import content_hash, dump_document, parse_document
from planning.domain.validation import (
    ValidationReport,
    check_document,
    computed_relevant_objectives,
    printed_date,
)


def errors_of(data: dict[str, Any]) -> ValidationReport:
    _doc, report = check_document(data)
    return report


def codes_at(report: ValidationReport) -> set[tuple[str, str]]:
    return {(e.code, e.path) for e in report.errors}


def index(items: list[dict[str, Any]], code: str) -> int:
    return next(i for i, x in enumerate(items) if x["code"] == code)


# --- the two seeds ------------------------------------------------------------------------------


def test_quar_seed_counts_and_weights(quar: dict[str, Any]) -> None:
    doc, report = check_document(quar)
    assert doc is not None
    assert report.errors == []
    assert len(doc.strategic_objectives) == 4
    assert len(doc.operational_objectives) == 14
    assert len(doc.indicators) == 20
    assert [(p.code, p.weight) for p in doc.parameters] == [
        ("eficacia", Decimal(35)),
        ("eficiencia", Decimal(25)),
        ("qualidade", Decimal(40)),
    ]
    assert len(doc.initiatives) == 157
    assert sum(1 for i in doc.initiatives if i.sub_activities) == 15
    # README item 3: the seven relevant objectives; their final weights 10.5+8.4+10.5+10+8.8+6.4+8.8 = 63.4
    relevant = [o for o in doc.operational_objectives if o.relevant]
    assert [o.code for o in relevant] == ["OP1", "OP2", "OP4", "OP5", "OP10", "OP11", "OP14"]
    weight = {p.code: p.weight for p in doc.parameters}
    final = sum((weight[o.parameter_code] * o.weight / 100 for o in relevant), Decimal(0))
    assert final == Decimal("63.4")
    ind4 = next(i for i in doc.indicators if i.code == "Ind.4")
    assert (ind4.polarity.value, ind4.meta, ind4.tolerance, ind4.critical_value) == (
        "lower_is_better",
        Decimal(35),
        Decimal(5),
        Decimal(20),
    )
    assert ind4.scoring_rule.kind == "quar_realization"


def test_acordo_seed_counts_and_team_weights(acordo: dict[str, Any]) -> None:
    doc, report = check_document(acordo)
    assert doc is not None
    assert report.errors == []
    assert [u.code for u in doc.units] == ["PROC", "AUDSEC", "DS", "DP", "DPGF"]
    assert len(doc.indicators) == 26
    assert len(doc.products) == 12
    sigas = next(p for p in doc.products if p.code == "DS-P02")
    assert [(s.code, s.due_date.isoformat()) for s in sigas.stages] == [
        ("DS-P02-E1", "2014-06-30"),
        ("DS-P02-E2", "2014-09-30"),
        ("DS-P02-E3", "2014-11-30"),
    ]
    # README: DP indicators 45 + products 55 = 100
    dp_ind = sum((i.weight for i in doc.indicators if i.unit_code == "DP"), Decimal(0))
    dp_prod = sum((p.weight for p in doc.products if p.unit_code == "DP"), Decimal(0))
    assert (dp_ind, dp_prod) == (Decimal(45), Decimal(55))
    kinds = {i.code: i.scoring_rule.kind for i in doc.indicators}
    assert kinds["PROC-I3"] == kinds["AUDSEC-I2"] == "derived_from_teams"
    assert kinds["DPGF-I01"] == "threshold"
    assert kinds["DPGF-I02"] == kinds["DPGF-I03"] == "weighted_composite"
    assert kinds["AUDSEC-I1"] == kinds["DPGF-I05"] == "ratio"
    assert next(p for p in doc.products if p.code == "DP-P2").quantity_target == Decimal(303)


def test_seeds_round_trip_exactly() -> None:
    for name in ("ii-2024-quar", "ipsm-2014-acordo"):
        raw = load_plan(name)
        doc = parse_document(raw)
        assert dump_document(doc) == raw
        assert content_hash(parse_document(dump_document(doc))) == content_hash(doc)


def test_acordo_source_facts_are_warnings_not_fixes(acordo: dict[str, Any]) -> None:
    report = errors_of(acordo)
    assert report.errors == []
    warned = {(w.code, w.path) for w in report.warnings}
    p = {code: index(acordo["products"], code) for code in ("PROC-P1", "PROC-P2", "DP-P4")}
    for code in ("PROC-P1", "PROC-P2", "DP-P4"):
        assert ("impossible_printed_date", f"products[{p[code]}].as_printed.detail.due_date") in warned
        # the fact stays as printed, the table's 30/11/2014 is the date used
        assert acordo["products"][p[code]]["as_printed"]["detail.due_date"] == "31/11/2014"
        assert acordo["products"][p[code]]["due_date"] == "2014-11-30"
    assert ("duplicate_product", f"products[{p['DP-P4']}]") in warned
    ds1 = index(acordo["indicators"], "DS-I1")
    assert ("source_note", f"indicators[{ds1}].polarity") in warned
    assert acordo["indicators"][ds1]["polarity"] == "lower_is_better"


def test_quar_source_facts_are_warnings(quar: dict[str, Any]) -> None:
    report = errors_of(quar)
    warned = {(w.code, w.path) for w in report.warnings}
    op8 = index(quar["operational_objectives"], "OP8")
    assert ("name_variant_collision", f"operational_objectives[{op8}].name_variants[1]") in warned
    assert ("missing_name", "indicators[0].name") in warned
    outside = [w for w in report.warnings if w.code == "deadline_outside_cycle"]
    assert sorted(quar["initiatives"][int(w.path.split("[")[1].split("]")[0])]["deadline"] for w in outside) == [
        "2022-12-27",
        "2023-12-27",
    ]


def test_printed_date_reading() -> None:
    assert printed_date("31/11/2014") == (True, None)
    assert str(printed_date("30/11/2014")[1]) == "2014-11-30"
    assert printed_date("2024/06/28")[1] is not None
    assert printed_date("dentro do prazo estabelecido") == (False, None)


# --- every validation error -----------------------------------------------------------------------


def test_impossible_date_is_a_schema_error_with_path(acordo: dict[str, Any]) -> None:
    acordo["products"][0]["due_date"] = "2014-11-31"
    doc, report = check_document(acordo)
    assert doc is None
    assert ("schema", "products[0].due_date") in codes_at(report)


def test_schema_errors_are_all_listed(acordo: dict[str, Any]) -> None:
    acordo["indicators"][2]["weight"] = "vinte"
    acordo["units"][1]["colour"] = "blue"
    acordo["plan"]["cycle_year"] = "2014"  # strict: a string is not an int
    report = errors_of(acordo)
    got = codes_at(report)
    assert ("schema", "indicators[2].weight") in got
    assert ("schema", "units[1].colour") in got
    assert ("schema", "plan.cycle_year") in got


def test_quar_indicator_weights_must_sum_100(quar: dict[str, Any]) -> None:
    i = index(quar["indicators"], "Ind.3")
    quar["indicators"][i]["weight"] = "50"  # Ind.3 50 + Ind.4 40 = 90 in OP3
    report = errors_of(quar)
    op3 = index(quar["operational_objectives"], "OP3")
    assert codes_at(report) == {("weights_sum", f"operational_objectives[{op3}]")}
    assert "sum to 90" in report.errors[0].message


def test_quar_parameter_and_objective_weights_must_sum_100(quar: dict[str, Any]) -> None:
    quar["parameters"][0]["weight"] = "36"  # 36 + 25 + 40 = 101
    op1 = index(quar["operational_objectives"], "OP1")
    quar["operational_objectives"][op1]["weight"] = "31"  # eficácia OPs 31+24+16+30 = 101
    got = codes_at(errors_of(quar))
    assert got == {("weights_sum", "parameters"), ("weights_sum", "parameters[0]")}


def test_acordo_team_weights_must_sum_100(acordo: dict[str, Any]) -> None:
    p = index(acordo["products"], "DS-P01")
    acordo["products"][p]["weight"] = "25"  # DS: 60 + 45 = 105
    report = errors_of(acordo)
    assert codes_at(report) == {("weights_sum", "units[2]")}
    assert "sum to 105" in report.errors[0].message


def test_sub_activity_and_stage_weights(quar: dict[str, Any], acordo: dict[str, Any]) -> None:
    i = index(quar["initiatives"], "DAD-15")
    quar["initiatives"][i]["sub_activities"][0]["weight"] = "30"  # 25 → 30: sum 105
    assert codes_at(errors_of(quar)) == {("weights_sum", f"initiatives[{i}].sub_activities")}
    p = index(acordo["products"], "DS-P02")
    acordo["products"][p]["stages"][0]["weight"] = "50"  # one weighted stage, two without
    assert codes_at(errors_of(acordo)) == {("weights_sum", f"products[{p}].stages")}


def test_duplicate_codes(acordo: dict[str, Any]) -> None:
    acordo["indicators"][1]["code"] = acordo["indicators"][0]["code"]
    acordo["units"][4]["code"] = "DP"  # also breaks every DPGF reference
    acordo["products"][3]["stages"][1]["code"] = "DS-I1"  # item codes share one namespace
    got = codes_at(errors_of(acordo))
    assert ("duplicate_code", "indicators[1].code") in got
    assert ("duplicate_code", "units[4].code") in got
    assert ("duplicate_code", "products[3].stages[1].code") in got


def test_ratio_rule_with_meta_zero(acordo: dict[str, Any]) -> None:
    i = index(acordo["indicators"], "DPGF-I05")
    acordo["indicators"][i]["meta"] = "0"
    report = errors_of(acordo)
    assert codes_at(report) == {("rule_problem", f"indicators[{i}].scoring_rule")}
    assert "divide by zero" in report.errors[0].message


def test_critical_value_on_wrong_side_for_polarity(quar: dict[str, Any]) -> None:
    i4 = index(quar["indicators"], "Ind.4")  # lower is better: critical must be below the meta 35
    quar["indicators"][i4]["critical_value"] = "40"
    i3 = index(quar["indicators"], "Ind.3")  # higher is better: critical must be above the meta 99
    quar["indicators"][i3]["critical_value"] = "98"
    got = codes_at(errors_of(quar))
    assert ("critical_value_side", f"indicators[{i4}].critical_value") in got
    assert ("critical_value_side", f"indicators[{i3}].critical_value") in got
    assert ("rule_problem", f"indicators[{i4}].scoring_rule") in got


def test_dependency_cycle_between_derived_indicators(acordo: dict[str, Any]) -> None:
    # Procuradoria ind. 3 reads DS (not excluded); make a DS indicator read Procuradoria's grade.
    ds = index(acordo["indicators"], "DS-I2")
    acordo["indicators"][ds]["scoring_rule"] = {
        "kind": "derived_from_teams",
        "include_units": ["PROC"],
        "team_grade_scale": 10,
        "scale": 10,
    }
    report = errors_of(acordo)
    cycles = [e for e in report.errors if e.code == "dependency_cycle"]
    assert len(cycles) == 1
    assert "PROC-I3" in cycles[0].message
    assert "DS-I2" in cycles[0].message


def test_derived_indicator_reading_its_own_team_is_a_cycle(acordo: dict[str, Any]) -> None:
    i = index(acordo["indicators"], "AUDSEC-I2")
    acordo["indicators"][i]["scoring_rule"]["include_units"] = ["AUDSEC", "DS"]
    acordo["indicators"][i]["scoring_rule"]["exclude_units"] = []
    report = errors_of(acordo)
    assert [e.code for e in report.errors] == ["dependency_cycle"]


def test_unknown_references(quar: dict[str, Any]) -> None:
    quar["indicators"][0]["objective_code"] = "OP99"
    quar["initiatives"][0]["unit_code"] = "XYZ"
    quar["initiatives"][1]["indicator_code"] = "Ind.99"
    got = codes_at(errors_of(quar))
    assert ("unknown_reference", "indicators[0].objective_code") in got
    assert ("unknown_reference", "initiatives[0].unit_code") in got
    assert ("unknown_reference", "initiatives[1].indicator_code") in got


def test_framework_mismatch(acordo: dict[str, Any]) -> None:
    acordo["plan"]["quar"] = {"relevance": "explicit", "relevance_threshold_percent": "50"}
    got = codes_at(errors_of(acordo))
    assert got == {("framework_mismatch", "plan.quar")}


def test_every_error_is_reported_at_once(acordo: dict[str, Any]) -> None:
    acordo["products"][0]["weight"] = "21"  # PROC 101
    i = index(acordo["indicators"], "DPGF-I05")
    acordo["indicators"][i]["meta"] = "0"
    acordo["indicators"][1]["code"] = acordo["indicators"][0]["code"]
    report = errors_of(acordo)
    assert {e.code for e in report.errors} == {"weights_sum", "rule_problem", "duplicate_code"}
    assert len(report.warnings) > 0


def test_negative_tolerance(quar: dict[str, Any]) -> None:
    i = index(quar["indicators"], "Ind.12")
    quar["indicators"][i]["tolerance"] = "-0.3"
    got = codes_at(errors_of(quar))
    assert ("negative_tolerance", f"indicators[{i}].tolerance") in got


def test_dates_out_of_order(acordo: dict[str, Any]) -> None:
    acordo["plan"]["valid_from"] = "2015-01-01"  # after valid_to 2014-12-31
    p = index(acordo["products"], "DS-P02")
    acordo["products"][p]["stages"][0]["due_date"] = "2014-12-15"  # after the product's 2014-11-30
    got = codes_at(errors_of(acordo))
    assert got == {("date_order", "plan.valid_to"), ("date_order", f"products[{p}].stages[0].due_date")}


def test_relevant_objectives_rule_matches_the_seed(quar: dict[str, Any]) -> None:
    # global weights: OP1 35x30=10.5, OP4 10.5, OP5 25x40=10.0, OP10 40x22=8.8, OP14 8.8, OP2 35x24=8.4,
    # OP11 40x16=6.4: after six 57.0 % > 50 % but 6 < 7 (half of 14), so the seventh is taken: 63.4 %.
    doc, report = check_document(quar)
    assert doc is not None
    assert sorted(computed_relevant_objectives(doc)) == sorted(["OP1", "OP4", "OP5", "OP10", "OP14", "OP2", "OP11"])
    assert not [w for w in report.warnings if w.code == "relevance_differs"]
    op3 = index(quar["operational_objectives"], "OP3")
    quar["operational_objectives"][op3]["relevant"] = True
    warned = {(w.code, w.path) for w in errors_of(quar).warnings}
    assert ("relevance_differs", f"operational_objectives[{op3}].relevant") in warned

"""The final-evaluation readings of the pure domain (docs/domain.md §6), on the IPSM 2014 plan, by hand."""

from __future__ import annotations

from typing import Any

from scoring_support import IPSM, plan_document

from scoring.domain.evaluate import evaluate, make_inputs, registration_cutoff


def certified(code: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "item_code": code,
        "period": "2014-12",
        "registered": True,
        "payload": payload,
        "certification": "certified",
        "certified": True,
    }


def final(rows: list[dict[str, Any]], committee: dict[str, Any] | None = None) -> dict[str, Any]:
    return evaluate(make_inputs(plan_document(IPSM), {"items": rows}, committee=committee, final=True))


def test_missing_stages_score_zero_and_derived_indicators_are_not_owed() -> None:
    results = final([certified("DS-P02-E1", {"completeness": "full", "delivered_on": "2014-06-30"})])
    # DS-P02: stages E1 on time (100), E2 and E3 without a certified delivery (0): mean (no stage weights)
    # = 100 / 3 = 33.33
    assert results["products"]["DS-P02"]["value"] == "33.33"
    assert results["applied"]["DS-P02"] == "scored (stages missing → 0: DS-P02-E2, DS-P02-E3)"
    # AUDSEC-I2 is derived from the other teams' grades: computed, never owed, so not "missing → 0"
    assert results["applied"]["AUDSEC-I2"] == "scored"
    assert results["applied"]["AUDSEC-I1"] == "missing → 0"
    # DS = 20 × 33.33 / 100 = 6.666 → 6.67
    assert results["summary"]["teams"]["DS"] == "6.67"


def test_a_set_aside_item_leaves_the_sums_and_uncertified_results_do_not_count() -> None:
    rows = [certified("DS-I2", {"value": "52000"}), {**certified("DS-I1", {"value": "97"}), "certified": False}]
    results = final(rows, {"set_aside": ["DS-I3"], "reasons": {"DS-I3": "indicador extinto"}})
    assert results["applied"]["DS-I3"] == "set aside"
    assert results["applied"]["DS-I1"] == "missing → 0"
    # DS: 10 × 66.67 over 100 − 10 = 90 → 666.7 / 90 = 7.4078 → 7.41
    assert results["summary"]["teams"]["DS"] == "7.41"


def test_a_provisional_run_has_no_applied_rules_and_leaves_missing_items_out() -> None:
    results = evaluate(make_inputs(plan_document(IPSM), {"items": [certified("DS-I2", {"value": "52000"})]}))
    assert "applied" not in results
    assert results["summary"]["teams"]["DS"] == "66.67"
    assert results["teams"]["DS"]["complete"] is False


def test_the_registration_cutoff_is_the_last_business_day_of_january_after_the_cycle() -> None:
    # 31/01/2015 is a Saturday in Minas Gerais → Friday 30/01/2015
    assert registration_cutoff(plan_document(IPSM)).isoformat() == "2015-01-30"


def test_a_value_changed_since_certified_counts_provisionally_and_not_at_the_final() -> None:
    # A certified DS-I2 whose registrar sent a new value (docs/domain.md §2.4): execution's snapshot says
    # submitted and certified: false, with the new value, until a certifier certifies it again.
    changed = {**certified("DS-I2", {"value": "52000"}), "certification": "submitted", "certified": False}
    provisional = evaluate(make_inputs(plan_document(IPSM), {"items": [changed]}))
    # The provisional run scores the latest value, as the certified one above (DS = 66.67 with DS-I2 alone).
    assert provisional["summary"]["teams"]["DS"] == "66.67"
    # The final run reads certified values only: the new value is not counted.
    assert final([changed])["applied"]["DS-I2"] == "missing → 0"

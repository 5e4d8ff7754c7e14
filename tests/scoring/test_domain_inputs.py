"""Pure readings of the evaluation inputs (scoring.domain.inputs / evaluate), no HTTP, no DB."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from scoring_support import QUAR, plan_document

from scoring.domain.evaluate import cutoff_for, evaluate, make_inputs
from scoring.domain.inputs import Committee, latest_payloads, observations


def _row(code: str, period: str, payload: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {"item_code": code, "period": period, "registered": True, "payload": payload, **kw}


def test_latest_registered_period_up_to_period_to_and_rejections_ignored() -> None:
    regs = {
        "items": [
            _row("A", "2024-03", {"value": "1"}),
            _row("A", "2024-05", {"value": "2"}),
            _row("A", "2024-07", {"value": "3"}),
            _row("B", "2024-02", {"value": "4"}),
            _row("B", "2024-04", {"value": "5"}, certification="rejected"),
            {"item_code": "C", "period": "2024-01", "registered": False, "payload": None},
        ]
    }
    payloads = latest_payloads(regs, period_to="2024-06")
    assert payloads == {"A": {"value": "2"}, "B": {"value": "4"}}
    certified = latest_payloads(
        {"items": [_row("A", "2024-01", {"value": "1"}, certified=True), _row("A", "2024-02", {"value": "9"})]},
        period_to=None,
        certified_only=True,
    )
    assert certified == {"A": {"value": "1"}}


def test_quar_indicator_from_the_initiatives_that_feed_it() -> None:
    doc = plan_document(QUAR)
    feeding = list(doc["initiatives"][:2])
    for ini in feeding:
        ini["indicator_code"] = "Ind.1"
    payloads = {feeding[0]["code"]: {"execution_rate": "104.00"}, feeding[1]["code"]: {"execution_rate": "95.00"}}
    obs = observations(doc, payloads, Committee())
    # mean of the execution rates: (104 + 95) / 2 = 99.50
    assert obs["Ind.1"].result == D("99.50")
    regs = {"items": [_row(code, "2024-12", p) for code, p in payloads.items()]}
    results = evaluate(make_inputs(doc, regs))
    # Ind.1: M 90, T 3, VC 100; 93 < 99.50 < 100: 100 + 25 × (99.5 − 93) / (100 − 93) = 123.214… → 123.21
    assert results["indicators"]["Ind.1"]["value"] == "123.21"


def test_committee_decisions_reach_the_engine() -> None:
    committee = Committee.from_json(
        {
            "set_aside": ["X"],
            "partial_scores": {"P": {"score": "40", "justification": "metade"}},
            "inputs": {"C": {"components": {"a": "1.5"}, "reference_index": "60", "quantity": "250"}},
        }
    )
    assert committee.set_aside == frozenset({"X"})
    assert committee.partial_scores["P"] == (D(40), "metade")
    assert committee.components["C"] == {"a": D("1.5")}
    assert (committee.reference_index["C"], committee.quantities["C"]) == (D(60), D(250))


def test_cutoff_uses_the_plan_calendar() -> None:
    ipsm = plan_document("ipsm-2014-acordo")
    # 31/01/2015 is a Saturday → Friday 30/01/2015 (no Minas Gerais holiday that day)
    assert str(cutoff_for(ipsm)) == "2015-01-30"
    ipsm["plan"]["calendar"]["closures"] = [{"date": "2015-01-30", "name": "ponto facultativo"}]
    assert str(cutoff_for(ipsm)) == "2015-01-29"
    assert cutoff_for(plan_document(QUAR)) is None

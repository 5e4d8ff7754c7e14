"""Simulations (nothing stored) and inverse questions, by hand from docs/domain.md."""

from __future__ import annotations

from typing import Any

from scoring_support import IPSM, QUAR, VIEWER, Service, plan_document


async def _simulate(svc: Service, body: dict[str, Any], path: str = "/v1/simulations") -> dict[str, Any]:
    response = await svc.http.post(path, json=body, headers=VIEWER)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_inline_plan_simulation_stores_nothing(service: Service) -> None:
    before = (await service.http.get("/v1/evaluations", headers=VIEWER)).json()["items"]
    body = {
        "plan": plan_document(QUAR),
        "results": {"Ind.4": {"value": "25"}, "Ind.3": {"value": "99.7"}},
    }
    out = await _simulate(service, body)
    assert out["stored"] is False
    res = out["results"]
    # Ind.4 (lower): 100 + 25 × (30 − 25) / (30 − 20) = 112.50 ; Ind.3: 100 + 25 × 0.2 / 0.4 = 112.50
    assert res["indicators"]["Ind.4"]["value"] == "112.50"
    # OP3 = (60 × 112.50 + 40 × 112.50) / 100 = 112.50; the other indicators have no result → incomplete
    assert res["objectives"]["OP3"]["rate"] == "112.50"
    assert res["summary"]["complete"] is False
    assert res["summary"]["mention"] is None
    after = (await service.http.get("/v1/evaluations", headers=VIEWER)).json()["items"]
    assert len(after) == len(before)


async def test_simulation_over_current_registrations(service: Service) -> None:
    body = {"plan_id": IPSM, "use_registrations": True, "results": {"DS-I2": {"value": "53000"}}}
    out = await _simulate(service, body)
    # DS-I2 now at its meta → 100: DS = 10 × 600 + 20 × 90 + 20 × 100 = 9800 / 100 = 98.00
    assert out["results"]["summary"]["teams"]["DS"] == "98.00"
    assert out["cutoff"] == "2015-01-30"


async def test_inverse_result_for_a_score(service: Service) -> None:
    body = {"plan_id": IPSM, "item_code": "DS-I2", "target": {"kind": "score", "value": "66.67"}}
    out = await _simulate(service, body, "/v1/simulations:inverse")
    # R = V0 + score × (M − V0) / 100 = 50 000 + 66.67 × 3000 / 100 = 52 000.1
    assert out["required_result"]["value"] == "52000.1"
    assert out["required_result"]["direction"] == "at_least"


async def test_inverse_for_a_team_grade(service: Service) -> None:
    body = {
        "plan_id": IPSM,
        "use_registrations": True,
        "item_code": "DS-I2",
        "target": {"kind": "team_grade", "value": "95"},
    }
    out = await _simulate(service, body, "/v1/simulations:inverse")
    # others: 5 × 10 × 100 + 20 × 90 + 20 × 100 = 8800; (95 × 100 − 8800) / 10 = 70.00, but the grade is
    # rounded half up: 69.95 gives (699.5 + 8800) / 100 = 94.995 → 95.00, 69.94 gives 94.994 → 94.99
    assert out["required_score"]["value"] == "69.95"
    # R = 50 000 + 69.95 × 3000 / 100 = 52 098.5
    assert out["required_result"]["value"] == "52098.5"


async def test_inverse_for_an_objective_rate(service: Service) -> None:
    body = {
        "plan_id": QUAR,
        "use_registrations": True,
        "item_code": "Ind.3",
        "target": {"kind": "objective_rate", "value": "100"},
    }
    out = await _simulate(service, body, "/v1/simulations:inverse")
    # OP3 = (60 × s + 40 × 100) / 100 ≥ 100 → s = 100 (99.99 gives 99.994 → 99.99); rate 100 → R = M − T = 98.5
    assert out["required_score"]["value"] == "100.00"
    assert out["required_result"]["value"] == "98.5"


async def test_inverse_for_a_product_delivery(service: Service) -> None:
    body = {"plan_id": IPSM, "item_code": "DS-P01", "target": {"kind": "score", "value": "90"}}
    out = await _simulate(service, body, "/v1/simulations:inverse")
    # own table: 1–15 days late → 90
    assert (out["required_result"]["quantity"], out["required_result"]["value"]) == ("days_late", "15")


async def test_simulation_input_errors(service: Service) -> None:
    both = await service.http.post(
        "/v1/simulations", json={"plan_id": QUAR, "plan": plan_document(QUAR)}, headers=VIEWER
    )
    assert both.status_code == 422
    neither = await service.http.post("/v1/simulations", json={}, headers=VIEWER)
    assert neither.status_code == 422
    doc = plan_document(QUAR)
    doc["indicators"][0]["scoring_rule"] = {"kind": "ratio", "scale": 7}
    bad_rule = await service.http.post("/v1/simulations", json={"plan": doc}, headers=VIEWER)
    assert bad_rule.status_code == 422
    assert bad_rule.headers["content-type"].startswith("application/problem+json")
    unknown = await service.http.post(
        "/v1/simulations:inverse",
        json={"plan_id": QUAR, "item_code": "Ind.99", "target": {"value": "100"}},
        headers=VIEWER,
    )
    assert unknown.status_code == 422
    assert (await service.http.post("/v1/simulations", json={"plan_id": QUAR})).status_code == 401


async def test_a_cycle_between_derived_indicators_is_refused(service: Service) -> None:
    doc = plan_document(IPSM)
    # DS-I1 now averages PROC's grade while PROC-I3 averages DS's (and DP's, DPGF's): a cycle
    ds1 = next(i for i in doc["indicators"] if i["code"] == "DS-I1")
    ds1["scoring_rule"] = {"kind": "derived_from_teams", "include_units": ["PROC"], "scale": 10}
    response = await service.http.post("/v1/simulations", json={"plan": doc}, headers=VIEWER)
    assert response.status_code == 422
    assert "cycle" in response.json()["errors"][0]["message"]

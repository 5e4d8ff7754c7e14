"""Evaluation runs through the API, reading the real planning and execution services.

Expected grades are computed by hand from docs/domain.md §2–3 (arithmetic in the comments)."""

from __future__ import annotations

import base64
import json
from decimal import Decimal as D
from typing import Any

import httpx
from fastapi import FastAPI
from scoring_support import ADMIN, IPSM, IPSM_COMMITTEE, PLANNER, QUAR, REGISTRAR, VIEWER, Service

from scoring.metrics import TEAM_GRADE, publish_from_database


async def _evaluate(svc: Service, body: dict[str, Any], headers: dict[str, str] = PLANNER) -> dict[str, Any]:
    response = await svc.http.post("/v1/evaluations", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/evaluations/{response.json()['id']}"
    data: dict[str, Any] = response.json()
    return data


IPSM_BODY: dict[str, Any] = {"plan_id": IPSM, "period_to": "2014-12", "n1": "90", "committee": IPSM_COMMITTEE}


async def test_ipsm_evaluation_grades_by_hand(service: Service) -> None:
    run = await _evaluate(service, IPSM_BODY)
    teams = run["summary"]["teams"]
    # DS: 10 × (5 × 100 + 66.67) + 20 × 90 + 20 × 100 = 5666.7 + 1800 + 2000 = 9466.7 / 100 = 94.667 → 94.67
    #   (DS-I2: (52 000 − 50 000) / (53 000 − 50 000) × 100 = 66.67; DS-P01 10 days late → 90)
    assert teams["DS"] == "94.67"
    # DP (DP-I6 set aside, weight 10 leaves): 35 × 100 + 15 × 100 + 10 × 82.51 + 15 × 100 + 15 × 100
    #   = 8825.1 over 90 = 98.0566… → 98.06   (DP-P2: 250 / 303 × 100 = 82.51)
    assert teams["DP"] == "98.06"
    # DPGF: indicators 5450 (I03: 0.3 × 95 + 0.3 × 90 + 0.4 × 85 = 89.5 → gap, row below → 90)
    #   + products 15 × 100 + 10 × 100 + 10 × 40 (partial) + 10 × 100 = 3900 → 9350 / 100 = 93.50
    assert teams["DPGF"] == "93.50"
    # média (0–10): 9.467 → 9.47, 9.806 → 9.81, 9.35 → (9.47 + 9.81 + 9.35) / 3 = 9.543 → 9.54 → 95.40
    # PROC: (4 × 20 × 100 + 20 × 95.40) / 100 = 99.08 ; AUDSEC: (50 × 100 + 50 × 95.40) / 100 = 97.70
    assert teams["PROC"] == "99.08"
    assert teams["AUDSEC"] == "97.70"
    # productivity DS = 0.70 × 90 + 0.30 × 94.67 = 63 + 28.401 = 91.401 → 91.40
    assert run["summary"]["productivity"]["DS"] == "91.40"
    assert run["results"]["indicators"]["DP-I6"]["status"] == "set_aside"
    assert run["results"]["order"][-2:] == ["PROC", "AUDSEC"]
    assert run["plan_version"] == 1
    assert run["rules_version"]


async def test_every_score_carries_a_followable_explanation(service: Service) -> None:
    run = await _evaluate(service, IPSM_BODY)
    item = await service.http.get(f"/v1/evaluations/{run['id']}/items/DS-I2", headers=VIEWER)
    assert item.status_code == 200
    body = item.json()
    assert body["value"] == "66.67"
    first = body["steps"][0]
    assert first["formula"] == "score = (result − V0) / (meta − V0) × 100"
    assert first["values"] == {"result": "52000", "V0": "50000", "meta": "53000"}
    reg = await service.http.get(f"/v1/evaluations/{run['id']}/items/DPGF-I03", headers=VIEWER)
    assert "row_below" in reg.json()["steps"][-1]["table_row"]
    product = await service.http.get(f"/v1/evaluations/{run['id']}/items/DS-P01", headers=VIEWER)
    steps = product.json()["steps"]
    assert steps[0]["result"] == "10"  # 31/12/2014 → 10/01/2015
    assert steps[1]["table_row"].startswith("band 2")
    missing = await service.http.get(f"/v1/evaluations/{run['id']}/items/NOPE", headers=VIEWER)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


async def test_quar_evaluation_rates_and_mention(service: Service) -> None:
    cause = "Migração de centro de dados atrasou a monitorização"
    run = await _evaluate(service, {"plan_id": QUAR, "period_to": "2024-12", "committee": {"causes": {"Ind.3": cause}}})
    summary = run["summary"]
    assert run["results"]["deviation_causes"] == {"Ind.3": cause}
    # desvio of Ind.3: rate − 100 = 98.48 − 100 = −1.52 ; (R − M) / M = (97 − 99) / 99 × 100 = −2.0202… → −2.02
    assert dict(run["results"]["indicators"]["Ind.3"]["extra"]) == {
        "deviation_rate": "-1.52",
        "deviation_result_percent": "-2.02",
    }
    # Ind.1 = VC → 125; Ind.3 = 97 < 98.5 → 97 / 98.5 × 100 = 98.48; OP3 = (60 × 98.48 + 40 × 100) / 100 = 99.09
    assert summary["objectives"]["OP1"] == "125.00"
    assert summary["objectives"]["OP3"] == "99.09"
    # Eficácia = 30 % × 125 + 24 % × 100 + 16 % × 99.09 + 30 % × 100 = 107.3544 → 107.35
    assert summary["parameters"]["eficacia"] == "107.35"
    # final = 35 % × 107.35 + 25 % × 100 + 40 % × 100 = 102.5725 → 102.57
    assert summary["final_rate"] == "102.57"
    # OP3 not achieved but not relevant → satisfatório
    assert (summary["mention"], summary["mention_label"]) == ("satisfactory", "Desempenho satisfatório")
    assert run["results"]["objectives"]["OP1"]["label"] == "Superou"


async def test_snapshot_is_immutable_and_reproducible(service: Service) -> None:
    run = await _evaluate(service, {"plan_id": QUAR, "period_to": "2024-12"})
    again = await service.http.post(f"/v1/evaluations/{run['id']}:reproduce", headers=VIEWER)
    assert again.status_code == 200
    assert again.json()["identical"] is True
    inputs = (await service.http.get(f"/v1/evaluations/{run['id']}/inputs", headers=VIEWER)).json()
    assert inputs["inputs"]["plan"]["plan"]["id"] == QUAR
    assert {r["item_code"] for r in inputs["inputs"]["registrations"]["items"]} >= {"Ind.1", "Ind.20"}
    assert inputs["inputs_sha256"] == run["inputs_sha256"]


async def test_list_paginates_newest_first_and_filters_by_plan(service: Service) -> None:
    first = await _evaluate(service, {"plan_id": QUAR, "period_to": "2024-12"})
    second = await _evaluate(service, {"plan_id": QUAR, "period_to": "2024-12"})
    page = await service.http.get("/v1/evaluations", params={"plan_id": QUAR, "limit": 1}, headers=VIEWER)
    assert page.status_code == 200
    assert [i["id"] for i in page.json()["items"]] == [second["id"]]
    cursor = page.json()["next_cursor"]
    assert cursor
    nxt = await service.http.get(
        "/v1/evaluations", params={"plan_id": QUAR, "limit": 1, "cursor": cursor}, headers=VIEWER
    )
    assert nxt.json()["items"][0]["id"] == first["id"]
    other = await service.http.get("/v1/evaluations", params={"plan_id": "nope"}, headers=VIEWER)
    assert other.json() == {"items": [], "next_cursor": None}


async def test_idempotency_key_replays_the_same_run(service: Service) -> None:
    headers = {**PLANNER, "idempotency-key": "eval-quar-1"}
    body = {"plan_id": QUAR, "period_to": "2024-12"}

    async def stored() -> tuple[int, int]:
        runs = await service.http.get("/v1/evaluations", params={"plan_id": QUAR, "limit": 500}, headers=VIEWER)
        audit = await service.http.get("/v1/audit", params={"entity_type": "evaluation", "limit": 500}, headers=ADMIN)
        return len(runs.json()["items"]), len(audit.json()["items"])

    before = await stored()
    a = await service.http.post("/v1/evaluations", json=body, headers=headers)
    b = await service.http.post("/v1/evaluations", json=body, headers=headers)
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] == b.json()["id"]
    assert b.headers.get("idempotent-replayed") == "true"
    assert b.headers["location"] == a.headers["location"]
    c = await service.http.post("/v1/evaluations", json={**body, "period_to": "2024-11"}, headers=headers)
    assert c.status_code == 422
    # one run and one audit event for the three requests
    assert await stored() == (before[0] + 1, before[1] + 1)


async def test_roles_unknown_plan_and_bad_input(service: Service) -> None:
    forbidden = await service.http.post("/v1/evaluations", json={"plan_id": QUAR}, headers=REGISTRAR)
    assert forbidden.status_code == 403
    unauth = await service.http.get("/v1/evaluations")
    assert unauth.status_code == 401
    unknown = await service.http.post("/v1/evaluations", json={"plan_id": "no-such-plan"}, headers=ADMIN)
    assert unknown.status_code == 404
    bad = await service.http.post("/v1/evaluations", json={"plan_id": QUAR, "period_to": "2024-13"}, headers=ADMIN)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"].endswith("period_to")
    assert (await service.http.get("/v1/evaluations/nope", headers=VIEWER)).status_code == 404


async def test_metrics_publish_latest_grades(service: Service) -> None:
    await _evaluate(service, IPSM_BODY)
    text = (await service.http.get("/metrics")).text
    assert 'metas_scoring_team_grade{plan="ipsm-2014-acordo",unit="DS"} 94.67' in text
    assert "metas_scoring_evaluation_duration_seconds_count" in text
    await _evaluate(service, {"plan_id": QUAR, "period_to": "2024-12"})
    text = (await service.http.get("/metrics")).text
    assert 'metas_scoring_objective_rate{objective="OP1",plan="ii-2024-quar"} 125.0' in text
    assert D("102.57") == D(text.split('metas_scoring_final_rate{plan="ii-2024-quar"} ')[1].split()[0])


async def test_grade_gauges_are_rebuilt_from_the_database(service: Service) -> None:
    # A replica that did not run the evaluation (or this one after a restart) has empty gauges; the periodic
    # refresh fills them from the stored evaluations, so every replica exports the same grades.
    await _evaluate(service, IPSM_BODY)
    TEAM_GRADE.clear()
    assert "metas_scoring_team_grade{" not in (await service.http.get("/metrics")).text
    await publish_from_database(service.app)
    text = (await service.http.get("/metrics")).text
    assert 'metas_scoring_team_grade{plan="ipsm-2014-acordo",unit="DS"} 94.67' in text


async def test_a_past_grade_survives_later_registrations(service: Service, execution_app: FastAPI) -> None:
    first = await _evaluate(service, {"plan_id": QUAR, "period_to": "2024-12"})
    transport = httpx.ASGITransport(app=execution_app)

    async def register(value: str, at: str) -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://execution.test") as http:
            row = {
                "item_code": "Ind.20",
                "period": "2024-12",
                "payload": {"value": value},
                "justification": "Desvio explicado.",
                "registered_at": at,
            }
            response = await http.post(
                f"/v1/plans/{QUAR}/registrations:import",
                json={"reason": "correction", "registrations": [row]},
                headers=ADMIN,
            )
            assert response.status_code in (200, 201), response.text

    await register("50", "2025-01-07T12:00:00Z")
    try:
        second = await _evaluate(service, {"plan_id": QUAR, "period_to": "2024-12"})
        # Ind.20: M 85, T 5 → 50 < 80: 50 / 80 × 100 = 62.50; OP14 = (50 × 100 + 50 × 62.50) / 100 = 81.25,
        # a relevant objective not achieved → insuficiente
        assert second["summary"]["objectives"]["OP14"] == "81.25"
        assert second["summary"]["mention"] == "insufficient"
        # the first run still reads as it was, and recomputes identically from its snapshot
        stored = (await service.http.get(f"/v1/evaluations/{first['id']}", headers=VIEWER)).json()
        assert stored["summary"]["final_rate"] == "102.57"
        again = await service.http.post(f"/v1/evaluations/{first['id']}:reproduce", headers=VIEWER)
        assert again.json()["identical"] is True
    finally:
        await register("85", "2025-01-08T12:00:00Z")


async def test_timestamps_carry_their_offset_and_forged_cursors_are_refused(service: Service) -> None:
    await _evaluate(service, {"plan_id": QUAR, "period_to": "2024-12"})
    run = await _evaluate(service, {"plan_id": QUAR, "period_to": "2024-12"})
    # RFC 3339 with an offset on both backends (SQLite hands the stored UTC instant back naive)
    assert run["created_at"].endswith("Z")
    listed = (await service.http.get("/v1/evaluations", params={"limit": 1}, headers=VIEWER)).json()
    assert listed["items"][0]["created_at"].endswith("Z")
    audit = (await service.http.get("/v1/audit", params={"entity_id": run["id"]}, headers=ADMIN)).json()
    assert audit["items"][0]["at"].endswith("Z")
    forged = [
        base64.urlsafe_b64encode(json.dumps(c).encode()).decode().rstrip("=")
        for c in ({"seq": "abc"}, {"seq": None}, {"seq": 2**70}, {"id": [1]})
    ]
    for cursor in [*forged, listed["next_cursor"][:-2] + "xx", "[" * 2000]:
        response = await service.http.get("/v1/evaluations", params={"cursor": cursor}, headers=VIEWER)
        assert response.status_code == 400, (cursor[:40], response.text)
        assert response.headers["content-type"].startswith("application/problem+json")

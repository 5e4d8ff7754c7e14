"""End to end through the gateway, five real processes: import both seed plans, register the
scenario results, evaluate, and find the hand-computed grades (same scenario as the API tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from scoring_support import IPSM, IPSM_COMMITTEE, PLANS, QUAR, ipsm_registrations, quar_registrations

from metas_dev.cluster import Cluster

pytestmark = pytest.mark.integration


def _import_and_approve(gw: str, headers: dict[str, str], plan_id: str) -> None:
    body = (PLANS / f"{plan_id}.yaml").read_bytes()
    imported = httpx.post(
        f"{gw}/api/planning/v1/plans:import",
        content=body,
        headers={**headers, "content-type": "application/yaml"},
        timeout=60,
    )
    assert imported.status_code in (200, 201), imported.text
    data = imported.json()
    if data["status"] == "draft":
        approved = httpx.post(
            f"{gw}/api/planning/v1/plans/{plan_id}/versions/{data['version']}:approve",
            headers={**headers, "if-match": data["etag"]},
            timeout=30,
        )
        assert approved.status_code == 200, approved.text


def _register(gw: str, headers: dict[str, str], plan_id: str, rows: list[dict[str, Any]]) -> None:
    response = httpx.post(
        f"{gw}/api/execution/v1/plans/{plan_id}/registrations:import",
        json={"reason": "e2e scoring scenario", "registrations": rows},
        headers=headers,
        timeout=60,
    )
    assert response.status_code in (200, 201), response.text


def test_both_seed_plans_evaluated_through_the_gateway(cluster: Cluster, token_for: Callable[..., str]) -> None:
    gw = cluster.config.url("gateway")
    admin = {"authorization": token_for("admin")}
    for plan_id, rows in ((IPSM, ipsm_registrations()), (QUAR, quar_registrations())):
        _import_and_approve(gw, admin, plan_id)
        _register(gw, admin, plan_id, rows)
    planner = {"authorization": token_for("planner")}
    ipsm = httpx.post(
        f"{gw}/api/scoring/v1/evaluations",
        json={"plan_id": IPSM, "period_to": "2014-12", "n1": "90", "committee": IPSM_COMMITTEE},
        headers=planner,
        timeout=60,
    )
    assert ipsm.status_code == 201, ipsm.text
    # hand arithmetic: see test_api_evaluations.test_ipsm_evaluation_grades_by_hand
    assert ipsm.json()["summary"]["teams"] == {
        "DS": "94.67",
        "DP": "98.06",
        "DPGF": "93.50",
        "PROC": "99.08",
        "AUDSEC": "97.70",
    }
    quar = httpx.post(
        f"{gw}/api/scoring/v1/evaluations",
        json={"plan_id": QUAR, "period_to": "2024-12"},
        headers=planner,
        timeout=60,
    )
    assert quar.status_code == 201, quar.text
    # 35 % × 107.35 + 25 % × 100 + 40 % × 100 = 102.5725 → 102.57, satisfatório (OP3 is not relevant)
    assert (quar.json()["summary"]["final_rate"], quar.json()["summary"]["mention"]) == ("102.57", "satisfactory")
    run_id = quar.json()["id"]
    viewer = {"authorization": token_for("viewer")}
    item = httpx.get(f"{gw}/api/scoring/v1/evaluations/{run_id}/items/Ind.3", headers=viewer, timeout=30)
    assert item.status_code == 200
    assert item.json()["steps"][0]["formula"] == "rate = R / (M−T) × 100"
    again = httpx.post(f"{gw}/api/scoring/v1/evaluations/{run_id}:reproduce", headers=viewer, timeout=30)
    assert again.json()["identical"] is True

"""The data the scorecard browser tests read: copies of the two seed plans (so the final evaluation locks none of
the periods other tests write in), each with a scenario of registrations worked by hand in test_scorecards.py."""

from __future__ import annotations

from typing import Any

import httpx
import yaml
from console_support import ROOT

ACORDO = "ipsm-2014-scorecard"
QUAR = "ii-2024-scorecard"
# DS-I2 over the last four months (meta 53 000, V0 50 000): the trend chart's points.
WHY = "scorecard test scenario: a result off its meta"  # execution asks why a result misses its meta
DS_I2 = {"2014-09": "50500", "2014-10": "51200", "2014-11": "51800", "2014-12": "52000"}


def plan_copy(seed: str, plan_id: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "data" / "plans" / f"{seed}.yaml").read_text(encoding="utf-8"))
    document["plan"]["id"] = plan_id
    document["plan"]["title"] += " (scorecard)"
    return document


def import_and_approve(planner: httpx.Client, document: dict[str, Any]) -> None:
    plan_id = document["plan"]["id"]
    made = planner.post("/api/planning/v1/plans:import", json=document)
    assert made.status_code == 201, made.text
    approved = planner.post(
        f"/api/planning/v1/plans/{plan_id}/versions/{made.json()['version']}:approve",
        headers={"if-match": made.json()["etag"]},
    )
    assert approved.status_code == 200, approved.text


def acordo_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    """December 2014, registered on 5 January 2015 (on time): every owed item at its meta, products on their due
    dates, except DS-I2 = 52 000 (with three earlier months) and DS-I3 = 12."""
    at = "2015-01-05T12:00:00Z"
    rows = [
        {
            "item_code": "DS-I2",
            "period": period,
            "payload": {"value": value},
            "registered_at": f"{period}-28T12:00:00Z",
            "justification": WHY,
        }
        for period, value in DS_I2.items()
        if period != "2014-12"
    ]
    special = {"DS-I2": DS_I2["2014-12"], "DS-I3": "12"}
    for indicator in document["indicators"]:
        if indicator["scoring_rule"]["kind"] == "derived_from_teams":
            continue
        value = special.get(indicator["code"], indicator["meta"])
        row = {"item_code": indicator["code"], "period": "2014-12", "payload": {"value": value}, "registered_at": at}
        rows.append({**row, "justification": WHY} if indicator["code"] in special else row)
    for product in document["products"]:
        for target in product["stages"] or [product]:
            payload: dict[str, Any] = {"completeness": "full", "delivered_on": target["due_date"], "evidence": ["SEI"]}
            if product.get("quantity_target"):
                payload = {"completeness": "full", "delivered_on": target["due_date"], "evidence": ["planilha"]}
            rows.append({"item_code": target["code"], "period": "2014-12", "payload": payload, "registered_at": at})
    return rows


def quar_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    """December 2024: every indicator at its meta except Ind.1 = 100 (its critical value) and Ind.3 = 97."""
    special = {"Ind.1": "100", "Ind.3": "97"}
    return [
        {
            "item_code": i["code"],
            "period": "2024-12",
            "payload": {"value": special.get(i["code"], i["meta"])},
            "registered_at": "2025-01-06T12:00:00Z",
            **({"justification": WHY} if i["code"] in special else {}),
        }
        for i in document["indicators"]
    ]


def prepare(planner: httpx.Client, admin: httpx.Client) -> None:
    for seed, plan_id, rows in (("ipsm-2014-acordo", ACORDO, acordo_rows), ("ii-2024-quar", QUAR, quar_rows)):
        document = plan_copy(seed, plan_id)
        import_and_approve(planner, document)
        answer = admin.post(
            f"/api/execution/v1/plans/{plan_id}/registrations:import",
            json={"reason": "scorecard browser test", "registrations": rows(document)},
        )
        assert answer.status_code in (200, 201), answer.text

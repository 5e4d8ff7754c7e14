"""Constants and helpers of the scoring tests: tokens, plan ids, the registrations of the scenarios."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from fastapi import FastAPI
from harness.tokens import TEST_JWT_SECRET, bearer
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "data" / "plans"
SECRET = TEST_JWT_SECRET
IPSM = "ipsm-2014-acordo"
QUAR = "ii-2024-quar"
FINAL = "ipsm-2014-final"  # a copy of the IPSM plan whose only certified result is DS-I2 = 52 000
OTHER = "outra-2014-acordo"  # the IPSM plan under another organisation (`outra`), reusing its unit codes


def token(*roles: str, sub: str = "alice") -> dict[str, str]:
    return bearer(*roles, sub=sub)


def org_token(*grants: tuple[str, str], sub: str = "olga") -> dict[str, str]:
    """A token with (role, organisation) grants."""
    return bearer(sub=sub, grants=grants)


ADMIN = token("admin", sub="admin")
PLANNER = token("planner", sub="paulo")
VIEWER = token("viewer", sub="vera")
REGISTRAR = token("registrar", sub="ana")
CERTIFIER = token("certifier", sub="carla")


def plan_document(plan_id: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((PLANS / f"{plan_id}.yaml").read_text(encoding="utf-8"))
    return data


@dataclass
class Service:
    app: FastAPI
    http: httpx.AsyncClient


def ipsm_registrations() -> list[dict[str, Any]]:
    """The IPSM scenario (period 2014-12): every indicator at its meta except DS-I2 = 52 000;
    every product delivered on its due date except DS-P01 on 10/01/2015."""
    doc = plan_document(IPSM)
    rows: list[dict[str, Any]] = []
    at = "2015-01-05T12:00:00Z"
    for ind in doc["indicators"]:
        if ind["scoring_rule"]["kind"] == "derived_from_teams":
            continue
        value = "52000" if ind["code"] == "DS-I2" else ind["meta"]
        rows.append(
            {
                "item_code": ind["code"],
                "period": "2014-12",
                "payload": {"value": value},
                "justification": "Desvio explicado.",
                "registered_at": at,
            }
        )
    for prod in doc["products"]:
        targets = prod["stages"] or [prod]
        for t in targets:
            delivered = "2015-01-10" if t["code"] == "DS-P01" else t["due_date"]
            payload = {"completeness": "full", "delivered_on": delivered, "evidence": ["SEI 1"]}
            if prod["code"] == "DP-P2":
                payload = {"completeness": "full", "delivered_on": t["due_date"], "evidence": ["planilha"]}
            rows.append({"item_code": t["code"], "period": "2014-12", "payload": payload, "registered_at": at})
    return rows


IPSM_COMMITTEE: dict[str, Any] = {
    "set_aside": ["DP-I6"],
    "partial_scores": {"DPGF-P03": {"score": "40", "justification": "metade do regulamento entregue"}},
    "inputs": {
        "DPGF-I02": {"components": {"X": "85", "Y": "60"}},
        "DPGF-I03": {"components": {"%ATrefis": "95", "%ATrefin": "90", "%Refin": "85"}},
        "DP-P2": {"quantity": "250"},
    },
}


def quar_registrations() -> list[dict[str, Any]]:
    """The QUAR scenario (period 2024-12): every indicator at its meta except Ind.1 = 100 (its
    critical value) and Ind.3 = 97 (below the band)."""
    doc = plan_document(QUAR)
    special = {"Ind.1": "100", "Ind.3": "97"}
    return [
        {
            "item_code": ind["code"],
            "period": "2024-12",
            "payload": {"value": special.get(ind["code"], ind["meta"])},
            "justification": "Desvio explicado.",
            "registered_at": "2025-01-06T12:00:00Z",
        }
        for ind in doc["indicators"]
    ]


def extra_plans() -> dict[str, dict[str, Any]]:
    """Plans the scoring tests load into planning beside the seed plans."""
    final = plan_document(IPSM)
    final["plan"]["id"] = FINAL
    other = plan_document(IPSM)
    other["plan"]["id"] = OTHER
    other["organisation"] = {**other["organisation"], "code": "outra", "name": "Outra Autarquia", "acronym": "OA"}
    return {FINAL: final, OTHER: other}


def final_scenario() -> list[tuple[str, list[dict[str, Any]]]]:
    """FINAL: DS-I2 = 52 000 (certified afterwards) and DS-I1 at its meta, registered but never certified."""
    at = "2015-01-05T12:00:00Z"
    rows = [
        {
            "item_code": "DS-I2",
            "period": "2014-12",
            "payload": {"value": "52000"},
            "justification": "Desvio explicado.",
            "registered_at": at,
        },
        {
            "item_code": "DS-I1",
            "period": "2014-12",
            "payload": {"value": "100"},
            "justification": "Desvio explicado.",
            "registered_at": at,
        },
    ]
    return [(FINAL, rows), (OTHER, ipsm_registrations())]


async def certify(http: httpx.AsyncClient, plan_id: str, item_code: str, period: str) -> None:
    url = f"/v1/plans/{plan_id}/registrations/{item_code}/{period}"
    current = await http.get(url, headers=CERTIFIER)
    assert current.status_code == 200, current.text
    done = await http.post(url + ":certify", headers={**CERTIFIER, "if-match": current.headers["etag"]})
    assert done.status_code == 200, done.text


def pdf_text(content: bytes) -> str:
    """The text of every page, whitespace collapsed (table cells wrap long texts over lines)."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())

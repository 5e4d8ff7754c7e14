"""Organisations are tenants: evaluations, simulations of a stored plan and their reads are checked against the
plan's organisation. OTHER is the IPSM plan under organisation `outra`, with the same unit codes (DS, DP…)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from scoring_support import ADMIN, IPSM, OTHER, Service, org_token

IPSM_PLANNER = org_token(("planner", "ipsm"), sub="ines")
IPSM_VIEWER = org_token(("viewer", "ipsm"), sub="ivo")
OTHER_PLANNER = org_token(("planner", "outra"), sub="otto")
# plans in `outra`, only reads in `ipsm`
MIXED = org_token(("planner", "outra"), ("viewer", "ipsm"), sub="maria")
BODY = {"period_to": "2014-12", "n1": "90"}


async def test_evaluating_another_organisations_plan_is_a_404(service: Service) -> None:
    other = await service.http.post("/v1/evaluations", json={"plan_id": OTHER, **BODY}, headers=IPSM_PLANNER)
    unknown = await service.http.post("/v1/evaluations", json={"plan_id": "no-such-plan"}, headers=IPSM_PLANNER)
    assert other.status_code == unknown.status_code == 404
    assert other.headers["content-type"].startswith("application/problem+json")
    own = await service.http.post("/v1/evaluations", json={"plan_id": OTHER, **BODY}, headers=OTHER_PLANNER)
    assert own.status_code == 201, own.text
    # IPSM's figures (a copy of its plan and registrations; DS needs no committee decision): DS = 94.67
    assert own.json()["summary"]["teams"]["DS"] == "94.67"
    # visible but not evaluable: a planner of `outra` only reads `ipsm`
    mixed = await service.http.post("/v1/evaluations", json={"plan_id": IPSM, **BODY}, headers=MIXED)
    assert mixed.status_code == 403


async def test_reads_and_lists_stay_inside_the_organisation(service: Service) -> None:
    mine = await service.http.post("/v1/evaluations", json={"plan_id": IPSM, **BODY}, headers=IPSM_PLANNER)
    theirs = await service.http.post("/v1/evaluations", json={"plan_id": OTHER, **BODY}, headers=OTHER_PLANNER)
    assert mine.status_code == theirs.status_code == 201
    theirs_id = theirs.json()["id"]
    for path in ("", "/inputs", "/items/DS-I2"):
        hidden = await service.http.get(f"/v1/evaluations/{theirs_id}{path}", headers=IPSM_VIEWER)
        assert hidden.status_code == 404, path
    assert (await service.http.post(f"/v1/evaluations/{theirs_id}:reproduce", headers=IPSM_VIEWER)).status_code == 404
    assert (await service.http.get(f"/v1/evaluations/{mine.json()['id']}", headers=IPSM_VIEWER)).status_code == 200

    async def every_id(headers: dict[str, str], **params: str) -> list[str]:
        ids: list[str] = []
        cursor = None
        while True:
            query = {**params, "limit": "1", **({"cursor": cursor} if cursor else {})}
            page = (await service.http.get("/v1/evaluations", params=query, headers=headers)).json()
            ids += [i["id"] for i in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                return ids

    seen = await every_id(IPSM_VIEWER)
    assert mine.json()["id"] in seen
    assert theirs_id not in seen
    assert await every_id(IPSM_VIEWER, plan_id=OTHER) == []
    both = await every_id(ADMIN)
    assert {mine.json()["id"], theirs_id} <= set(both)


async def test_simulating_another_organisations_plan_is_a_404(service: Service) -> None:
    body = {"plan_id": OTHER, "use_registrations": True, "results": {"DS-I2": {"value": "52000"}}}
    assert (await service.http.post("/v1/simulations", json=body, headers=IPSM_VIEWER)).status_code == 404
    inverse = {**body, "item_code": "DS-I2", "target": {"kind": "score", "value": "80"}}
    assert (await service.http.post("/v1/simulations:inverse", json=inverse, headers=IPSM_VIEWER)).status_code == 404
    ok = await service.http.post("/v1/simulations", json=body, headers=OTHER_PLANNER)
    assert ok.status_code == 200, ok.text


async def test_a_final_of_another_organisation_locks_nothing(service: Service, execution_app: FastAPI) -> None:
    refused = await service.http.post("/v1/evaluations:final", json={"plan_id": OTHER}, headers=IPSM_PLANNER)
    assert refused.status_code == 404
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=execution_app), base_url="http://x") as http:
        locks = (await http.get(f"/v1/plans/{OTHER}/locks", headers=ADMIN)).json()
    assert (locks["items"] if isinstance(locks, dict) else locks) == []


async def test_the_audit_trail_of_one_organisation_is_invisible_to_the_other(service: Service) -> None:
    mine = await service.http.post("/v1/evaluations", json={"plan_id": IPSM, **BODY}, headers=IPSM_PLANNER)
    theirs = await service.http.post("/v1/evaluations", json={"plan_id": OTHER, **BODY}, headers=OTHER_PLANNER)
    auditor = org_token(("auditor", "ipsm"), sub="aurora")
    seen = (await service.http.get("/v1/audit", params={"limit": "500"}, headers=auditor)).json()["items"]
    ids = {e["entity_id"] for e in seen}
    assert mine.json()["id"] in ids
    assert theirs.json()["id"] not in ids
    assert {e["organisation_code"] for e in seen} == {"ipsm"}
    direct = await service.http.get("/v1/audit", params={"entity_id": theirs.json()["id"]}, headers=auditor)
    assert direct.json()["items"] == []
    everyone = await service.http.get("/v1/audit", params={"entity_id": theirs.json()["id"]}, headers=ADMIN)
    assert [e["organisation_code"] for e in everyone.json()["items"]] == ["outra"]

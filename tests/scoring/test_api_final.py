"""Final evaluations through the API (docs/domain.md §6), reading the real planning and execution services.

FINAL is a copy of the IPSM 2014 Acordo whose only certified result is DS-I2 = 52 000 (DS-I1 is registered but
never certified). Figures worked by hand in the comments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from scoring_support import ADMIN, FINAL, IPSM, PLANNER, QUAR, VIEWER, Service, pdf_text, plan_document

BODY: dict[str, Any] = {"plan_id": FINAL, "n1": "90"}


async def _final(svc: Service, body: dict[str, Any], headers: dict[str, str] = PLANNER) -> httpx.Response:
    return await svc.http.post("/v1/evaluations:final", json=body, headers=headers)


async def test_a_final_waits_for_the_registration_cutoff(service: Service) -> None:
    # The 2014 registrations close on the last business day of January 2015 (Friday 30/01/2015 in Minas Gerais).
    service.app.state.clock = lambda: datetime(2015, 1, 30, 20, tzinfo=UTC)
    try:
        early = await _final(service, BODY)
    finally:
        service.app.state.clock = lambda: datetime(2015, 2, 2, 9, tzinfo=UTC)
    assert early.status_code == 409, early.text
    assert early.json()["type"].endswith("/final-too-early")
    assert "2015-01-30" in early.json()["detail"]
    nothing = await service.http.get("/v1/evaluations", params={"plan_id": FINAL}, headers=VIEWER)
    assert nothing.json()["items"] == []


async def test_the_final_grade_counts_missing_items_as_zero(service: Service, execution_app: FastAPI) -> None:
    # The provisional reading of the certified results leaves the missing items out: DS = 66.67, incomplete.
    provisional = await service.http.post(
        "/v1/evaluations", json={"plan_id": FINAL, "certified_only": True}, headers=PLANNER
    )
    assert provisional.json()["summary"]["teams"]["DS"] == "66.67"
    assert provisional.json()["kind"] == "provisional"

    response = await _final(service, BODY)
    assert response.status_code == 201, response.text
    run = response.json()
    assert (run["kind"], run["revision"], run["revises"]) == ("final", 1, None)
    # DS owes 6 indicators of weight 10 and 2 products of weight 20 (Σ 100). DS-I2: (52 000 − 50 000) /
    # (53 000 − 50 000) × 100 = 66.67; every other DS item has no certified result → 0 (DS-I1 was registered but
    # never certified). DS = 10 × 66.67 / 100 = 6.667 → 6.67, not 66.67.
    assert run["summary"]["teams"]["DS"] == "6.67"
    # productivity DS = 0.70 × 90 + 0.30 × 6.67 = 63 + 2.001 = 65.001 → 65.00
    assert run["summary"]["productivity"]["DS"] == "65.00"
    # Nothing else is certified: DP and DPGF score 0 on every item.
    assert run["summary"]["teams"]["DP"] == "0.00"
    applied = run["results"]["applied"]
    assert (applied["DS-I1"], applied["DS-I2"], applied["DS-P01"]) == ("missing → 0", "scored", "missing → 0")
    item = (await service.http.get(f"/v1/evaluations/{run['id']}/items/DS-I1", headers=VIEWER)).json()
    assert (item["value"], item["applied"]) == ("0.00", "missing → 0")
    assert "scores 0" in item["steps"][0]["description"]
    # Every period of the cycle is locked in execution, by the scoring service's identity.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=execution_app), base_url="http://x") as http:
        locks = (await http.get(f"/v1/plans/{FINAL}/locks", headers=ADMIN)).json()
    rows = locks["items"] if isinstance(locks, dict) else locks
    assert sorted(r["period"] for r in rows) == [f"2014-{m:02d}" for m in range(1, 13)]
    assert {r["locked_by"] for r in rows} == {"service:scoring"}
    again = await service.http.post(f"/v1/evaluations/{run['id']}:reproduce", headers=VIEWER)
    assert again.json()["identical"] is True
    report = await service.http.get(f"/v1/evaluations/{run['id']}/report", headers=VIEWER)
    text = pdf_text(report.content)
    assert f"Evaluation {run['id']} — Final" in text
    assert "Team grade (N2): 6.67" in text
    assert "Productivity: 65.00" in text


async def test_one_final_per_version_and_an_audited_revision(service: Service) -> None:
    first = await service.http.get("/v1/evaluations", params={"plan_id": FINAL, "kind": "final"}, headers=VIEWER)
    (published,) = first.json()["items"]
    twice = await _final(service, BODY)
    assert twice.status_code == 409
    assert twice.json()["final_evaluation_id"] == published["id"]

    set_aside: dict[str, Any] = {"set_aside": ["DS-I1"]}
    unexplained = await _final(service, {**BODY, "committee": set_aside, "revision_reason": "DS-I1 set aside"})
    assert unexplained.status_code == 422
    assert unexplained.json()["errors"][0]["path"] == "committee.reasons.DS-I1"

    reason = "o indicador DS-I1 deixou de ser apurado pela Secretaria"
    body = {
        **BODY,
        "committee": {**set_aside, "reasons": {"DS-I1": reason}},
        "revision_reason": "a comissão desconsidera DS-I1",
    }
    headers = {**PLANNER, "idempotency-key": "final-revision-1"}
    revised = await _final(service, body, headers)
    assert revised.status_code == 201, revised.text
    replayed = await _final(service, body, headers)
    assert replayed.json()["id"] == revised.json()["id"]
    assert replayed.headers["idempotent-replayed"] == "true"
    other = await _final(service, {**body, "n1": "80"}, headers)
    assert other.status_code == 422
    run = revised.json()
    assert (run["revision"], run["revises"], run["reason"]) == (2, published["id"], "a comissão desconsidera DS-I1")
    # DS-I1 set aside leaves both sums: 10 × 66.67 / 90 = 7.4078 → 7.41
    assert run["summary"]["teams"]["DS"] == "7.41"
    assert run["results"]["applied"]["DS-I1"] == "set aside"
    inputs = (await service.http.get(f"/v1/evaluations/{run['id']}/inputs", headers=VIEWER)).json()["inputs"]
    (decision,) = inputs["committee"]["decisions"]
    assert (decision["item_code"], decision["decision"], decision["reason"], decision["by"]) == (
        "DS-I1",
        "set_aside",
        reason,
        "paulo",
    )
    assert decision["at"].startswith("2015-02-02T09:00:00")
    audit = await service.http.get("/v1/audit", params={"entity_id": run["id"]}, headers=ADMIN)
    (event,) = audit.json()["items"]
    assert event["action"] == "evaluation.revise"
    assert event["changes"]["reason"] == "a comissão desconsidera DS-I1"
    finals = await service.http.get("/v1/evaluations", params={"plan_id": FINAL, "kind": "final"}, headers=VIEWER)
    assert [i["id"] for i in finals.json()["items"]] == [run["id"], published["id"]]


async def test_a_revision_needs_a_final_to_revise(service: Service) -> None:
    service.app.state.clock = lambda: datetime(2025, 3, 3, 9, tzinfo=UTC)  # after the 2024 cut-off
    nothing = await _final(service, {"plan_id": QUAR, "revision_reason": "no final yet"})
    assert nothing.status_code == 422
    assert nothing.json()["errors"][0]["path"] == "revision_reason"


UNAPPROVED = "ipsm-2014-versions"  # a copy of the IPSM plan: version 1 superseded, 2 approved, 3 a draft


async def _versions_of_a_plan(planning_app: FastAPI) -> None:
    """Make UNAPPROVED's three versions in planning once (the planning app is shared by both backends' runs)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=planning_app), base_url="http://p") as http:
        base = f"/v1/plans/{UNAPPROVED}/versions"
        if (await http.get(base, headers=ADMIN)).status_code == 200:
            return
        document = plan_document(IPSM)
        document["plan"]["id"] = UNAPPROVED
        assert (await http.post("/v1/plans:import", json=document, headers=ADMIN)).status_code == 201
        for number in (1, 2):
            etag = (await http.get(f"{base}/{number}", headers=ADMIN)).headers["etag"]
            approved = await http.post(f"{base}/{number}:approve", headers={**ADMIN, "if-match": etag})
            assert approved.status_code == 200, approved.text
            assert (await http.post(f"{base}/{number}:revise", headers=ADMIN)).status_code == 201
        statuses = [v["status"] for v in (await http.get(base, headers=ADMIN)).json()["items"]]
        assert statuses == ["superseded", "approved", "draft"], statuses


async def test_only_the_approved_version_has_a_final(service: Service, planning_app: FastAPI) -> None:
    await _versions_of_a_plan(planning_app)
    for version, status in ((3, "draft"), (1, "superseded")):
        refused = await _final(service, {"plan_id": UNAPPROVED, "version": version})
        assert refused.status_code == 409, refused.text
        problem = refused.json()
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert problem["type"].endswith("/plan-version-not-approved")
        assert (problem["plan_version"], problem["version_status"]) == (version, status)
    nothing = await service.http.get("/v1/evaluations", params={"plan_id": UNAPPROVED}, headers=VIEWER)
    assert nothing.json()["items"] == []

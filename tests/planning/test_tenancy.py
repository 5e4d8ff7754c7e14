"""Organisations are tenants (PostgreSQL and SQLite): the IPSM plan and a copy of it under another organisation
(`sedese`, same unit codes DS, DP, …) side by side; every route tried by every role of one organisation against
its own and the other's plan."""

from __future__ import annotations

from typing import Any

import pytest
from harness.tokens import principal_for
from planning_api import ADMIN, SECRET, Api
from planning_seeds import load_plan

from metas_kit.auth import issue_token

OWN, OTHER = "ipsm", "sedese"
PLAN = {OWN: "ipsm-2014-acordo", OTHER: "sedese-2014-acordo"}
READ_ROLES = ("viewer", "planner", "registrar", "certifier", "budget", "auditor")


def headers(role: str, org: str, **extra: str) -> dict[str, str]:
    principal = principal_for(role, org=org, units=["DS"] if role == "registrar" else (), sub=f"{role}-{org}")
    return {"authorization": "Bearer " + issue_token(principal, SECRET), **extra}


def other_document() -> dict[str, Any]:
    """The IPSM plan under another organisation: the same unit codes, items and rules."""
    doc = load_plan("ipsm-2014-acordo")
    doc["organisation"] = {**doc["organisation"], "code": OTHER, "name": "Secretaria de Desenvolvimento Social"}
    doc["organisation"].pop("acronym", None)
    doc["plan"]["id"] = PLAN[OTHER]
    return doc


@pytest.fixture(scope="module")
async def tenants(api_server: Api) -> Api:
    """Both organisations' plans imported (installation-wide admin) once per module and backend."""
    await api_server.wipe()
    for doc in (load_plan("ipsm-2014-acordo"), other_document()):
        resp = await api_server.client.post("/v1/plans:import", json=doc, headers=ADMIN)
        assert resp.status_code == 201, resp.text
    return api_server


def reads(plan_id: str) -> list[str]:
    base = f"/v1/plans/{plan_id}"
    return [
        base,
        f"{base}/tree",
        f"{base}/export",
        f"{base}/versions",
        f"{base}/versions/1",
        f"{base}/indicators",
        f"{base}/indicators/DS-I1",
        f"{base}/units/DS",
    ]


@pytest.mark.parametrize("role", READ_ROLES)
async def test_every_read_of_the_own_organisation_passes_and_of_the_other_is_404(tenants: Api, role: str) -> None:
    who = headers(role, OWN)
    for path in reads(PLAN[OWN]):
        resp = await tenants.client.get(path, headers=who)
        assert resp.status_code == 200, (path, resp.text)
    for path in reads(PLAN[OTHER]):
        resp = await tenants.client.get(path, headers=who)
        assert resp.status_code == 404, (path, resp.status_code)
        assert resp.headers["content-type"].startswith("application/problem+json")
        # the same answer as for a plan that does not exist: nothing tells the id is taken
        assert resp.json()["detail"] == f"No plan {PLAN[OTHER]!r}."
    assert (await tenants.client.get(f"/v1/organisations/{OWN}", headers=who)).status_code == 200
    assert (await tenants.client.get(f"/v1/organisations/{OTHER}", headers=who)).status_code == 404


async def test_a_conditional_read_of_the_other_organisation_tells_nothing(tenants: Api) -> None:
    etag = (await tenants.client.get(f"/v1/plans/{PLAN[OTHER]}/tree", headers=ADMIN)).headers["etag"]
    resp = await tenants.client.get(
        f"/v1/plans/{PLAN[OTHER]}/tree", headers=headers("viewer", OWN, **{"if-none-match": etag})
    )
    assert resp.status_code == 404  # not 304: a matching ETag does not confirm the plan exists


async def test_lists_hold_only_the_callers_organisations_on_every_page(tenants: Api) -> None:
    who = headers("viewer", OWN)
    every = (await tenants.client.get("/v1/plans", headers=ADMIN)).json()["items"]
    own_plans = [p["id"] for p in every if p["organisation_code"] == OWN]
    assert PLAN[OWN] in own_plans
    assert len(own_plans) < len(every)
    for path, key in (("/v1/plans", "id"), ("/v1/organisations", "code")):
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 1} | ({"cursor": cursor} if cursor else {})
            page = (await tenants.client.get(path, params=params, headers=who)).json()
            seen += [item[key] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == (list(own_plans) if key == "id" else [OWN])
    # asking for the other organisation by filter gives nothing, not an error that would confirm it
    filtered = await tenants.client.get("/v1/plans", params={"organisation": OTHER}, headers=who)
    assert filtered.json() == {"items": [], "next_cursor": None}
    # installation-wide grants see both, as before grants existed
    everyone = (await tenants.client.get("/v1/plans", headers=headers("viewer", "*"))).json()["items"]
    assert {PLAN[OWN], PLAN[OTHER]} <= {p["id"] for p in everyone}


async def test_a_grant_for_both_organisations_sees_both(tenants: Api) -> None:
    principal = principal_for(grants=[("viewer", OWN), ("auditor", OTHER)], sub="two-hats")
    who = {"authorization": "Bearer " + issue_token(principal, SECRET)}
    plans = (await tenants.client.get("/v1/plans", headers=who)).json()["items"]
    assert {p["organisation_code"] for p in plans} == {OWN, OTHER}


async def _draft_etag(api: Api, plan_id: str) -> str:
    resp = await api.client.get(f"/v1/plans/{plan_id}/versions/1", headers=ADMIN)
    return str(resp.headers["etag"])


async def test_writes_on_the_other_organisations_plan_are_404_and_change_nothing(tenants: Api) -> None:
    planner = headers("planner", OWN)
    base = f"/v1/plans/{PLAN[OTHER]}"
    etag = await _draft_etag(tenants, PLAN[OTHER])
    with_etag = {**planner, "if-match": etag}
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", f"{base}/versions/1:approve", {}),
        ("POST", f"{base}/versions/1:revise", {}),
        ("PATCH", f"{base}/indicators/DS-I1", {"json": {"name": "taken over"}}),
        ("POST", f"{base}/products", {"json": {"code": "X-1"}}),
        ("DELETE", f"{base}/indicators/DS-I1", {}),
        ("PUT", f"{base}/versions/1/document", {"json": other_document()}),
    ]
    for method, path, kwargs in attempts:
        resp = await tenants.client.request(method, path, headers=with_etag, **kwargs)
        assert resp.status_code == 404, (method, path, resp.text)
    assert await _draft_etag(tenants, PLAN[OTHER]) == etag  # nothing was written
    # importing into the other organisation is refused outright (there is nothing to hide: the caller names it)
    imported = await tenants.client.post("/v1/plans:import", json=other_document(), headers=planner)
    assert imported.status_code == 403, imported.text
    dry = await tenants.client.post("/v1/plans:import", json=other_document(), headers=planner, params={"dry_run": 1})
    assert dry.status_code == 403
    # and a document cannot move an existing plan to another organisation, whoever sends it
    moved = load_plan("ipsm-2014-acordo")
    moved["organisation"] = other_document()["organisation"]
    resp = await tenants.client.post("/v1/plans:import", json=moved, headers=ADMIN)
    assert resp.status_code == 409, resp.text
    assert (await tenants.client.get(f"/v1/plans/{PLAN[OWN]}", headers=ADMIN)).json()["organisation_code"] == OWN


@pytest.mark.parametrize("role", ["viewer", "registrar", "certifier", "budget", "auditor"])
async def test_roles_that_do_not_plan_get_403_on_their_own_plan(tenants: Api, role: str) -> None:
    who = headers(role, OWN)
    etag = await _draft_etag(tenants, PLAN[OWN])
    resp = await tenants.client.post(f"/v1/plans/{PLAN[OWN]}/versions/1:approve", headers={**who, "if-match": etag})
    assert resp.status_code == 403
    resp = await tenants.client.post("/v1/plans:import", json=load_plan("ipsm-2014-acordo"), headers=who)
    assert resp.status_code == 403


async def test_a_planner_of_one_organisation_plans_it(tenants: Api) -> None:
    """The own organisation's planner imports, edits and approves a plan; the other's planner cannot touch any
    of it, and an admin of the other organisation is no admin here."""
    api = tenants
    planner = headers("planner", OWN)
    doc = load_plan("ipsm-2014-acordo")
    doc["plan"]["id"] = "ipsm-2014-bis"
    created = await api.client.post("/v1/plans:import", json=doc, headers=planner)
    assert created.status_code == 201, created.text
    base = "/v1/plans/ipsm-2014-bis"
    etag = created.headers["etag"]
    for stranger in (headers("planner", OTHER), headers("admin", OTHER)):
        resp = await api.client.patch(
            f"{base}/indicators/DS-I1", json={"name": "x"}, headers={**stranger, "if-match": etag}
        )
        assert resp.status_code == 404
    patched = await api.client.patch(
        f"{base}/indicators/DS-I1", json={"name": "Renamed"}, headers={**planner, "if-match": etag}
    )
    assert patched.status_code == 200, patched.text
    approved = await api.client.post(
        f"{base}/versions/1:approve", headers={**planner, "if-match": patched.headers["etag"]}
    )
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")
    own_admin = await api.client.post(f"{base}/versions/1:revise", headers=headers("admin", OWN))
    assert own_admin.status_code == 201


async def test_service_identity_reads_every_organisation(tenants: Api) -> None:
    service = headers("service", "*")
    for plan_id in PLAN.values():
        resp = await tenants.client.get(f"/v1/plans/{plan_id}/tree", headers=service)
        assert resp.status_code == 200


def test_the_copy_reuses_the_unit_codes() -> None:
    own, other = load_plan("ipsm-2014-acordo"), other_document()
    assert [u["code"] for u in own["units"]] == [u["code"] for u in other["units"]]
    assert "DS" in {u["code"] for u in other["units"]}


async def test_the_audit_trail_of_one_organisation_is_invisible_to_the_others_auditor(tenants: Api) -> None:
    own = (await tenants.client.get("/v1/audit", params={"limit": 500}, headers=headers("auditor", OWN))).json()
    other = (await tenants.client.get("/v1/audit", params={"limit": 500}, headers=headers("auditor", OTHER))).json()
    everyone = (await tenants.client.get("/v1/audit", params={"limit": 500}, headers=ADMIN)).json()
    assert {e["organisation_code"] for e in own["items"]} == {OWN}
    assert {e["organisation_code"] for e in other["items"]} == {OTHER}
    assert {(e["entity_type"], e["entity_id"]) for e in other["items"]} >= {
        ("organisation", OTHER),
        ("plan", f"{PLAN[OTHER]}/v1"),
    }
    assert not any(PLAN[OTHER] in e["entity_id"] for e in own["items"])
    # the installation-wide auditor sees both, and nothing is in neither
    assert len(everyone["items"]) == len(own["items"]) + len(other["items"])
    # filters cannot reach past the scope either
    probe = await tenants.client.get(
        "/v1/audit", params={"entity_id": f"{PLAN[OTHER]}/v1"}, headers=headers("auditor", OWN)
    )
    assert probe.json() == {"items": [], "next_cursor": None}

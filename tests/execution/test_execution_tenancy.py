"""Organisations are tenants in execution (issue 16), on PostgreSQL and SQLite.

A second organisation, ``outra``, runs a copy of the IPSM plan (``outra-2014-acordo``: same unit codes DS, DP, …)
in the same installation. Every read and write is tried by each role of one organisation against its own plan and
the other's: another organisation's plan is a 404, a visible plan the role may not write a 403; lists, the scoring
snapshot, the inbox, compliance (JSON and CSV) and the audit trail only hold what the caller may see. The ``service``
identity (scoring reading registrations) reads both.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from execution_support import IPSM, PLANS, SECRET, SERVICE, WHY, Clock, Service, fresh_database, planning_client_for
from fastapi import FastAPI
from harness.databases import fresh_database_async

from execution.app import create_app
from execution.settings import Settings
from metas_kit.auth import Grant, Principal, issue_token

OTHER = "outra-2014-acordo"


def person(sub: str, *grants: tuple[str, str, tuple[str, ...]]) -> dict[str, str]:
    principal = Principal(sub, grants=[Grant(role, org, frozenset(units)) for role, org, units in grants])
    return {"authorization": "Bearer " + issue_token(principal, SECRET)}


def _copy_of_ipsm(directory: Path) -> None:
    """The IPSM plan document under another organisation code and plan id (same units and items)."""
    text = (PLANS / f"{IPSM}.yaml").read_text(encoding="utf-8")
    text = text.replace("\n  code: ipsm\n", "\n  code: outra\n", 1).replace(
        f"\n  id: {IPSM}\n", f"\n  id: {OTHER}\n", 1
    )
    assert "code: outra" in text
    assert f"id: {OTHER}" in text
    (directory / f"{OTHER}.yaml").write_text(text, encoding="utf-8")
    (directory / f"{IPSM}.yaml").write_text((PLANS / f"{IPSM}.yaml").read_text(encoding="utf-8"), encoding="utf-8")


@pytest.fixture(scope="module")
async def two_orgs_planning(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    from planning.app import ALEMBIC_INI as PLANNING_INI
    from planning.app import create_app as create_planning
    from planning.seed import load
    from planning.settings import Settings as PlanningSettings

    plans = tmp_path_factory.mktemp("two-orgs-plans")
    _copy_of_ipsm(plans)
    url = await fresh_database_async("sqlite", "planning_two_orgs", tmp_path_factory.mktemp("planning"), PLANNING_INI)
    assert {r["plan_id"] for r in await load(plans, url)} == {IPSM, OTHER}
    app = create_planning(PlanningSettings(database_url=url, jwt_secret=SECRET, log_json=False, log_level="WARNING"))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
async def svc(
    request: pytest.FixtureRequest, two_orgs_planning: FastAPI, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Service]:
    url = await fresh_database(str(request.param), "tenancy", tmp_path_factory.mktemp("execution"))
    settings = Settings(
        database_url=url,
        jwt_secret=SECRET,
        migrate_on_start=False,
        metrics_refresh_seconds=0,
        log_json=False,
        log_level="WARNING",
    )
    app = create_app(settings, planning=planning_client_for(two_orgs_planning))
    clock = Clock(datetime(2014, 3, 10, 12, tzinfo=UTC))
    app.state.clock = clock
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://execution.test") as http:
            service = Service(app, http, clock)
            await _seed(service)
            yield service


# Each organisation's people. A registrar's units are DS of their own organisation only.
REG_IPSM = person("ana", ("registrar", "ipsm", ("DS",)))
REG_OUTRA = person("otto", ("registrar", "outra", ("DS",)))
CERT_IPSM = person("carla", ("certifier", "ipsm", ()))
CERT_OUTRA = person("cesar", ("certifier", "outra", ()))
PLAN_IPSM = person("paulo", ("planner", "ipsm", ()))
VIEW_IPSM = person("vera", ("viewer", "ipsm", ()))
AUDIT_IPSM = person("aldo", ("auditor", "ipsm", ()))
AUDIT_OUTRA = person("alma", ("auditor", "outra", ()))
ADMIN_IPSM = person("adao", ("admin", "ipsm", ()))
EVERYWHERE = person("wanda", ("viewer", "*", ()))
ROLES = {
    "registrar": REG_IPSM,
    "certifier": CERT_IPSM,
    "planner": PLAN_IPSM,
    "viewer": VIEW_IPSM,
    "auditor": AUDIT_IPSM,
    "admin": ADMIN_IPSM,
}


def regs(plan: str) -> str:
    return f"/v1/plans/{plan}/registrations"


async def _seed(svc: Service) -> None:
    """DS-I1 and DP-I1 of 2014-02 registered in both plans (DP by an installation-wide admin)."""
    admin = person("root", ("admin", "*", ()))
    for plan, who in ((IPSM, REG_IPSM), (OTHER, REG_OUTRA)):
        done = await svc.http.put(
            f"{regs(plan)}/DS-I1/2014-02", json={"payload": {"value": "1"}, "justification": WHY}, headers=who
        )
        assert done.status_code == 201, done.text[:300]
        done = await svc.http.put(
            f"{regs(plan)}/DP-I1/2014-02", json={"payload": {"value": "2"}, "justification": WHY}, headers=admin
        )
        assert done.status_code == 201, done.text[:300]


@pytest.mark.parametrize("role", sorted(ROLES))
async def test_reads_of_the_other_organisation_are_404_and_own_are_200(svc: Service, role: str) -> None:
    who = ROLES[role]
    paths = [
        "{r}?limit=5",
        "{r}/current?period_to=2014-02",
        "{r}/DS-I1/2014-02",
        "{r}/DS-I1/2014-02/versions",
        "/v1/plans/{p}/status",
        "/v1/plans/{p}/compliance",
        "/v1/plans/{p}/compliance.csv",
        "/v1/plans/{p}/deadlines",
        "/v1/plans/{p}/locks",
        "/v1/plans/{p}/locks/2014-02/exceptions",
        "/v1/plans/{p}/registration-settings",
        "/v1/obligations?plan_id={p}",
    ]
    for template in paths:
        own = await svc.http.get(template.format(r=regs(IPSM), p=IPSM), headers=who)
        assert own.status_code == 200, (role, template, own.text[:200])
        other = await svc.http.get(template.format(r=regs(OTHER), p=OTHER), headers=who)
        assert other.status_code == 404, (role, template, other.status_code)
        assert other.headers["content-type"].startswith("application/problem+json")
        assert OTHER not in other.json()["detail"] or "not found" in other.json()["detail"]
    assert (await svc.http.get("/v1/organisations/ipsm/closures", headers=who)).status_code == 200
    assert (await svc.http.get("/v1/organisations/outra/closures", headers=who)).status_code == 404


# (role, expected status in its own plan) for a write of DS-I2 2014-01.
WRITES = {"registrar": 201, "certifier": 403, "planner": 403, "viewer": 403, "auditor": 403, "admin": 201}


def _gate(role: str, *roles: str) -> int:
    """What the other organisation's plan answers: 404 to a role the route admits (admin always), else the route's
    role gate's 403 — the same for every plan, so it tells nothing about the other organisation either."""
    return 404 if role == "admin" or role in roles else 403


@pytest.mark.parametrize("role", sorted(ROLES))
async def test_writes_of_the_other_organisation_are_404(svc: Service, role: str) -> None:
    who = ROLES[role]
    body = {"payload": {"value": "5"}, "justification": WHY}
    other = await svc.http.put(f"{regs(OTHER)}/DS-I1/2014-01", json=body, headers=who)
    assert other.status_code == _gate(role, "registrar"), (role, other.text[:200])
    own = await svc.http.put(f"{regs(IPSM)}/DS-I2/2014-01", json=body, headers={**who, "if-none-match": "*"})
    assert own.status_code in (WRITES[role], 412), (role, own.text[:200])  # 412: an earlier role created it
    for method, path, json, roles in (
        ("POST", f"{regs(OTHER)}/DS-I1/2014-02:certify", None, ("certifier",)),
        ("POST", f"{regs(OTHER)}/DS-I1/2014-02:reject", {"reason": "no"}, ("certifier",)),
        ("POST", f"/v1/plans/{OTHER}/registrations:import", {"registrations": []}, ("registrar", "service")),
        ("PUT", f"/v1/plans/{OTHER}/locks/2014-01", {"reason": "evaluated"}, ("planner", "certifier")),
        (
            "POST",
            f"/v1/plans/{OTHER}/locks/2014-02/exceptions",
            {"until": "2014-04-01T00:00:00Z", "reason": "x"},
            ("planner", "certifier"),
        ),
        ("PUT", f"/v1/plans/{OTHER}/registration-settings", {"closing_month": 2}, ("planner",)),
        ("PUT", "/v1/organisations/outra/closures/2014-06-02", {"name": "Dia"}, ("planner",)),
    ):
        precondition = {"if-match": '"reg-1-v1"'} if path.endswith(("certify", "reject")) else {}
        resp = await svc.http.request(method, path, json=json, headers={**who, **precondition})
        assert resp.status_code == _gate(role, *roles), (role, method, path, resp.status_code, resp.text[:200])
        assert resp.headers["content-type"].startswith("application/problem+json")
    # Nothing of the other organisation changed.
    current = await svc.http.get(f"{regs(OTHER)}/DS-I1/2014-02", headers=CERT_OUTRA)
    assert (current.json()["version"], current.json()["certification"]) == (1, "submitted")
    assert (await svc.http.get(f"/v1/plans/{OTHER}/locks", headers=CERT_OUTRA)).json() == []
    assert (await svc.http.get("/v1/organisations/outra/closures", headers=CERT_OUTRA)).json() == []


async def test_the_registrar_of_ds_in_one_organisation_cannot_write_ds_of_the_other(svc: Service) -> None:
    body = {"payload": {"value": "9"}, "justification": WHY}
    assert (await svc.http.put(f"{regs(OTHER)}/DS-I3/2014-02", json=body, headers=REG_IPSM)).status_code == 404
    assert (await svc.http.put(f"{regs(IPSM)}/DS-I3/2014-02", json=body, headers=REG_OUTRA)).status_code == 404
    rows = {
        "registrations": [{"item_code": "DS-I3", "period": "2014-02", "payload": {"value": "9"}, "justification": WHY}]
    }
    assert (await svc.http.post(f"{regs(OTHER)}:import", json=rows, headers=REG_IPSM)).status_code == 404
    # Within its own organisation it writes only its units: DP of IPSM is a 403.
    assert (await svc.http.put(f"{regs(IPSM)}/DP-I3/2014-02", json=body, headers=REG_IPSM)).status_code == 403
    mine = await svc.http.put(f"{regs(IPSM)}/DS-I3/2014-02", json=body, headers=REG_IPSM)
    assert mine.status_code == 201
    assert (await svc.http.get(f"{regs(OTHER)}/DS-I3/2014-02", headers=CERT_OUTRA)).status_code == 404


async def test_certifiers_decide_only_in_their_organisation(svc: Service) -> None:
    url = f"{regs(OTHER)}/DS-I4/2014-02"
    created = await svc.http.put(url, json={"payload": {"value": "4"}, "justification": WHY}, headers=REG_OUTRA)
    etag = created.headers["etag"]
    assert (await svc.http.post(url + ":certify", headers={**CERT_IPSM, "if-match": etag})).status_code == 404
    done = await svc.http.post(url + ":certify", headers={**CERT_OUTRA, "if-match": etag})
    assert done.status_code == 200, done.text[:200]
    assert done.json()["certified_by"] == "cesar"


async def test_lists_hold_only_visible_rows(svc: Service) -> None:
    # A unit-scoped registrar sees its units' rows; the organisation's viewer every unit; nobody the other plan's.
    ds_only = (await svc.http.get(f"{regs(IPSM)}?period=2014-02", headers=REG_IPSM)).json()["items"]
    assert {r["unit_code"] for r in ds_only} == {"DS"}
    assert {r["plan_id"] for r in ds_only} == {IPSM}
    every = (await svc.http.get(f"{regs(IPSM)}?period=2014-02", headers=VIEW_IPSM)).json()["items"]
    assert {r["unit_code"] for r in every} == {"DS", "DP"}
    snapshot = (await svc.http.get(f"{regs(IPSM)}/current?period_to=2014-02", headers=REG_IPSM)).json()
    assert {i["unit_code"] for i in snapshot["items"]} == {"DS"}
    assert (await svc.http.get(f"{regs(IPSM)}/DP-I1/2014-02", headers=REG_IPSM)).status_code == 404
    inbox = (await svc.http.get(f"/v1/obligations?plan_id={IPSM}&period=2014-02", headers=REG_IPSM)).json()
    assert inbox["organisation_code"] == "ipsm"
    assert {i["unit_code"] for i in inbox["items"]} == {"DS"}
    status = (await svc.http.get(f"/v1/plans/{IPSM}/status?period=2014-02&limit=500", headers=REG_IPSM)).json()
    assert {i["unit_code"] for i in status["items"]} == {"DS"}
    # Compliance as CSV: the unit-scoped registrar's file has DS and the plan line over DS only.
    text = (await svc.http.get(f"/v1/plans/{IPSM}/compliance.csv?through=2014-02", headers=REG_IPSM)).text
    units = {row["unit_code"] for row in csv.DictReader(io.StringIO(text))}
    assert units == {"DS", "*"}
    viewer_csv = (await svc.http.get(f"/v1/plans/{IPSM}/compliance.csv?through=2014-02", headers=VIEW_IPSM)).text
    assert {row["unit_code"] for row in csv.DictReader(io.StringIO(viewer_csv))} == {
        "AUDSEC",
        "DP",
        "DPGF",
        "DS",
        "PROC",
        "*",
    }


async def test_the_service_identity_and_installation_wide_readers_see_both(svc: Service) -> None:
    for who in (SERVICE, EVERYWHERE):
        for plan in (IPSM, OTHER):
            snap = await svc.http.get(f"{regs(plan)}/current?period_to=2014-02&unit_code=DS", headers=who)
            assert snap.status_code == 200, snap.text[:200]
            registered = [(i["item_code"], i["period"]) for i in snap.json()["items"] if i["registered"]]
            assert ("DS-I1", "2014-02") in registered


async def _audit(svc: Service, who: dict[str, str]) -> list[dict[str, Any]]:
    resp = await svc.http.get("/v1/audit?limit=200", headers=who)
    assert resp.status_code == 200, resp.text[:200]
    items: list[dict[str, Any]] = resp.json()["items"]
    return items


async def test_each_auditor_sees_only_its_organisations_events(svc: Service) -> None:
    ipsm = await _audit(svc, AUDIT_IPSM)
    outra = await _audit(svc, AUDIT_OUTRA)
    assert ipsm
    assert outra
    assert {e["organisation_code"] for e in ipsm} == {"ipsm"}
    assert {e["organisation_code"] for e in outra} == {"outra"}
    assert all(e["entity_id"].startswith(IPSM) for e in ipsm if e["entity_type"] == "registration")
    assert all(e["entity_id"].startswith(OTHER) for e in outra if e["entity_type"] == "registration")
    everyone = await _audit(svc, person("root", ("admin", "*", ())))
    assert {e["organisation_code"] for e in everyone} >= {"ipsm", "outra"}

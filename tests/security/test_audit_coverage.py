"""Every write of every service leaves one audit event — who (the token's sub), when, what (action, entity type
and id, a non-empty change set) and the request id sent in X-Request-ID — readable by auditors only; a refused
write (422, 409, 412) leaves none. On PostgreSQL and SQLite, each write a real, successful one made by the least
privileged role allowed to make it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from security_support import EXECUTION_NOW, IPSM, PLANS, QUAR, SERVICES, Stack, assert_forbidden

Headers = Callable[..., dict[str, str]]


class Auditor:
    """Makes writes with a fresh X-Request-ID and reads back what the audit trail recorded for that request."""

    def __init__(self, client: httpx.AsyncClient, bearer: Headers) -> None:
        self.client = client
        self.auditor = bearer("auditor", sub="sec-auditor")

    async def events(self, request_id: str) -> list[dict[str, Any]]:
        resp = await self.client.get("/v1/audit", params={"request_id": request_id}, headers=self.auditor)
        assert resp.status_code == 200, resp.text[:300]
        items: list[dict[str, Any]] = resp.json()["items"]
        return items

    async def write(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        *,
        status: int,
        audited: tuple[str, str, str],
        json: Any = None,
        actor: str | None = None,
    ) -> httpx.Response:
        """``audited`` = (action, entity_type, entity_id) of the event this write must leave."""
        rid = f"sec-{uuid.uuid4().hex}"
        started = datetime.now(UTC)
        resp = await self.client.request(method, path, headers={**headers, "x-request-id": rid}, json=json)
        assert resp.status_code == status, (method, path, resp.status_code, resp.text[:400])
        events = await self.events(rid)
        matching = [e for e in events if (e["action"], e["entity_type"], e["entity_id"]) == audited]
        assert len(matching) == 1, (audited, events)
        event = matching[0]
        sub, roles = IDENTITIES[headers["authorization"]]
        assert (event["actor"], event["roles"]) == (actor or sub, roles), event
        assert event["request_id"] == rid
        assert event["changes"], event  # what changed, never an empty record
        at = datetime.fromisoformat(event["at"].replace("Z", "+00:00"))
        if at.tzinfo is None:  # SQLite keeps no offset; the kit writes UTC
            at = at.replace(tzinfo=UTC)
        assert started - timedelta(seconds=5) <= at <= datetime.now(UTC) + timedelta(seconds=5), event
        for other in events:  # anything else this request recorded is still this caller's
            assert (other["actor"], other["request_id"]) == (event["actor"], rid)
        return resp

    async def not_recorded(
        self, method: str, path: str, headers: dict[str, str], *, status: int, json: Any = None
    ) -> httpx.Response:
        rid = f"sec-{uuid.uuid4().hex}"
        resp = await self.client.request(method, path, headers={**headers, "x-request-id": rid}, json=json)
        assert resp.status_code == status, (method, path, resp.status_code, resp.text[:400])
        assert await self.events(rid) == [], (method, path)
        return resp


# bearer header → (sub, sorted roles) of the tokens made by ``who``
IDENTITIES: dict[str, tuple[str, list[str]]] = {}


@pytest.fixture
def who(bearer: Headers) -> Headers:
    """Like ``bearer``, remembering each token's identity so the expected actor is read from the headers."""

    def make(*roles: str, sub: str, units: tuple[str, ...] | list[str] = ()) -> dict[str, str]:
        headers = bearer(*roles, units=units, sub=sub)
        IDENTITIES[headers["authorization"]] = (sub, sorted(roles))
        return headers

    return make


def _plan_document(plan_id: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(Path(PLANS / f"{IPSM}.yaml").read_text(encoding="utf-8"))
    doc["plan"]["id"] = plan_id
    return doc


# ---- planning ------------------------------------------------------------------------------------------------


async def test_planning_writes_are_audited(audit_stack: Stack, bearer: Headers, who: Headers) -> None:
    au = Auditor(audit_stack["planning"], bearer)
    planner = who("planner", sub="paula-planner")
    plan = "sec-audit-acordo"
    doc = _plan_document(plan)
    base = f"/v1/plans/{plan}"

    bad = {**doc, "plan": {**doc["plan"], "framework": "nonsense"}}
    await au.not_recorded("POST", "/v1/plans:import", planner, status=422, json=bad)
    created = await au.write(
        "POST", "/v1/plans:import", planner, status=201, json=doc, audited=("plan.import", "plan", f"{plan}/v1")
    )
    v1 = {"if-match": created.headers["etag"]}
    await au.not_recorded("POST", f"{base}/versions/1:approve", {**planner, "if-match": '"stale"'}, status=412)
    await au.write(
        "POST",
        f"{base}/versions/1:approve",
        {**planner, **v1},
        status=200,
        audited=("plan.approve", "plan", f"{plan}/v1"),
    )
    # approved versions are immutable: a patch is refused (409) and leaves nothing
    await au.not_recorded(
        "PATCH", f"{base}/units/DS?version=1", {**planner, **v1}, status=409, json={"name": "Diretoria"}
    )
    revised = await au.write(
        "POST", f"{base}/versions/1:revise", planner, status=201, audited=("plan.revise", "plan", f"{plan}/v2")
    )
    await au.not_recorded("POST", f"{base}/versions/1:revise", planner, status=409)  # a draft exists
    etag = revised.headers["etag"]
    patched = await au.write(
        "PATCH",
        f"{base}/units/DS?version=2",
        {**planner, "if-match": etag},
        status=200,
        json={"name": "Diretoria de Saúde (SEC)"},
        audited=("plan_item.update", "plan_item", f"{plan}/v2/units/DS"),
    )
    etag = patched.headers["etag"]
    unit = {"code": "SECU", "name": "Unidade de teste", "kind": "department"}
    added = await au.write(
        "POST",
        f"{base}/units?version=2",
        {**planner, "if-match": etag},
        status=201,
        json=unit,
        audited=("plan_item.create", "plan_item", f"{plan}/v2/units/SECU"),
    )
    etag = added.headers["etag"]
    removed = await au.write(
        "DELETE",
        f"{base}/units/SECU?version=2",
        {**planner, "if-match": etag},
        status=204,
        audited=("plan_item.delete", "plan_item", f"{plan}/v2/units/SECU"),
    )
    etag = removed.headers["etag"]
    doc["plan"]["title"] = "Acordo de Resultados (auditoria)"
    await au.write(
        "PUT",
        f"{base}/versions/2/document",
        {**planner, "if-match": etag},
        status=200,
        json=doc,
        audited=("plan.replace", "plan", f"{plan}/v2"),
    )


# ---- execution -----------------------------------------------------------------------------------------------


async def test_execution_writes_are_audited(audit_stack: Stack, bearer: Headers, who: Headers) -> None:
    ex = audit_stack["execution"]
    au = Auditor(ex, bearer)
    regs = f"/v1/plans/{QUAR}/registrations"
    registrar = who("registrar", sub="rui-das", units=["DAS"])
    certifier = who("certifier", sub="cecilia-cert")
    planner = who("planner", sub="pedro-planner")
    system = who("service", sub="system:sisgar")
    admin = who("admin", sub="ana-admin")

    await au.not_recorded(
        "PUT", f"{regs}/DAS-07/2024-02", registrar, status=422, json={"payload": {"cumulative_percent": "x"}}
    )
    first = await au.write(
        "PUT",
        f"{regs}/DAS-07/2024-02",
        registrar,
        status=201,
        json={"payload": {"cumulative_percent": "30"}},
        audited=("registration.submit", "registration", f"{QUAR}/DAS-07/2024-02"),
    )
    await au.not_recorded(
        "PUT",
        f"{regs}/DAS-07/2024-02",
        {**registrar, "if-match": '"stale"'},
        status=412,
        json={"payload": {"cumulative_percent": "35"}},
    )
    second = await au.write(
        "PUT",
        f"{regs}/DAS-07/2024-02",
        {**registrar, "if-match": first.headers["etag"]},
        status=200,
        json={"payload": {"cumulative_percent": "35"}, "reason": "corrected"},
        audited=("registration.submit", "registration", f"{QUAR}/DAS-07/2024-02"),
    )
    certified = await au.write(
        "POST",
        f"{regs}/DAS-07/2024-02:certify",
        {**certifier, "if-match": second.headers["etag"]},
        status=200,
        audited=("registration.certify", "registration", f"{QUAR}/DAS-07/2024-02"),
    )
    # certifying twice is an illegal transition (409): nothing recorded
    await au.not_recorded(
        "POST", f"{regs}/DAS-07/2024-02:certify", {**certifier, "if-match": certified.headers["etag"]}, status=409
    )
    await au.write(
        "POST",
        f"{regs}/DAS-07/2024-02:reject",
        {**certifier, "if-match": certified.headers["etag"]},
        status=200,
        json={"reason": "evidence does not match"},
        audited=("registration.reject", "registration", f"{QUAR}/DAS-07/2024-02"),
    )
    rows = [{"item_code": "DAS-08", "period": "2024-01", "payload": {"cumulative_percent": "10"}}]
    await au.not_recorded(
        "POST",
        f"{regs}:import",
        system,
        status=422,
        json={"reason": "feed", "registrations": [*rows, {"item_code": "NOPE", "period": "2024-01", "payload": {}}]},
    )
    await au.write(
        "POST",
        f"{regs}:import",
        system,
        status=200,
        json={"reason": "feed", "registrations": rows},
        audited=("registration.import", "registration", QUAR),
    )

    locks = f"/v1/plans/{QUAR}/locks"
    await au.write(
        "PUT",
        f"{locks}/2024-09",
        planner,
        status=200,
        json={"reason": "evaluated"},
        audited=("lock.create", "lock", f"{QUAR}/2024-09"),
    )
    await au.not_recorded(
        "POST",
        f"{locks}/2024-09/exceptions",
        certifier,
        status=422,
        json={"unit_code": "NOPE", "until": "2030-01-01T00:00:00Z", "reason": "late evidence"},
    )
    # A lock exception ends within the cycle's closing month or 31 days from now (execution's default maximum).
    soon = (EXECUTION_NOW + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    exc = await ex.post(
        f"{locks}/2024-09/exceptions",
        headers={**certifier, "x-request-id": "sec-probe"},
        json={"unit_code": "DAS", "until": soon, "reason": "late evidence"},
    )
    assert exc.status_code == 201, exc.text[:300]
    exc_id = str(exc.json()["id"])
    created = [e for e in await au.events("sec-probe") if e["entity_id"] == exc_id]
    assert [(e["action"], e["actor"], e["entity_type"]) for e in created] == [
        ("lock_exception.grant", "cecilia-cert", "lock_exception")
    ]
    await au.write(
        "DELETE",
        f"{locks}/2024-09/exceptions/{exc_id}",
        planner,
        status=204,
        audited=("lock_exception.revoke", "lock_exception", exc_id),
    )
    await au.write("DELETE", f"{locks}/2024-09", admin, status=204, audited=("lock.delete", "lock", f"{QUAR}/2024-09"))

    closures = "/v1/organisations/sec-org/closures"
    await au.not_recorded("PUT", f"{closures}/2024-08-01", planner, status=422, json={"name": ""})
    await au.write(
        "PUT",
        f"{closures}/2024-08-01",
        planner,
        status=200,
        json={"name": "Feriado municipal"},
        audited=("closure.create", "closure", "sec-org/2024-08-01"),
    )
    # the same name again changes nothing and records nothing; a new name is recorded with both names
    await au.not_recorded("PUT", f"{closures}/2024-08-01", planner, status=200, json={"name": "Feriado municipal"})
    renamed = await au.write(
        "PUT",
        f"{closures}/2024-08-01",
        planner,
        status=200,
        json={"name": "Dia do município"},
        audited=("closure.update", "closure", "sec-org/2024-08-01"),
    )
    assert renamed.json()["name"] == "Dia do município"
    await au.write(
        "DELETE",
        f"{closures}/2024-08-01",
        planner,
        status=204,
        audited=("closure.delete", "closure", "sec-org/2024-08-01"),
    )

    settings = f"/v1/plans/{QUAR}/registration-settings"
    current = await ex.get(settings, headers=planner)
    await au.not_recorded("PUT", settings, planner, status=422, json={"timezone": "Nowhere/Atlantis"})
    await au.write(
        "PUT",
        settings,
        {**planner, "if-match": current.headers["etag"]},
        status=200,
        json={"timezone": "Europe/Lisbon"},
        audited=("registration_settings.update", "registration_settings", QUAR),
    )


# ---- scoring -------------------------------------------------------------------------------------------------


async def test_scoring_writes_are_audited(audit_stack: Stack, bearer: Headers, who: Headers) -> None:
    au = Auditor(audit_stack["scoring"], bearer)
    planner = who("planner", sub="paula-planner")
    await au.not_recorded(
        "POST", "/v1/evaluations", planner, status=422, json={"plan_id": QUAR, "period_to": "2024-13"}
    )
    key = {"idempotency-key": f"sec-{uuid.uuid4().hex}"}
    rid = f"sec-{uuid.uuid4().hex}"
    resp = await audit_stack["scoring"].post(
        "/v1/evaluations",
        json={"plan_id": QUAR, "period_to": "2024-02"},
        headers={**planner, **key, "x-request-id": rid},
    )
    assert resp.status_code == 201, resp.text[:300]
    [event] = await au.events(rid)
    assert (event["action"], event["entity_type"], event["entity_id"]) == (
        "evaluation.create",
        "evaluation",
        resp.json()["id"],
    )
    assert (event["actor"], event["request_id"]) == ("paula-planner", rid)
    assert event["changes"]["plan_id"] == QUAR
    # the same key with another body is refused (422) and records nothing; a replay records nothing either
    await au.not_recorded("POST", "/v1/evaluations", {**planner, **key}, status=422, json={"plan_id": QUAR})
    await au.not_recorded(
        "POST", "/v1/evaluations", {**planner, **key}, status=201, json={"plan_id": QUAR, "period_to": "2024-02"}
    )


# ---- budget --------------------------------------------------------------------------------------------------


async def test_budget_writes_are_audited(audit_stack: Stack, bearer: Headers, who: Headers) -> None:
    bg = audit_stack["budget"]
    au = Auditor(bg, bearer)
    officer = who("budget", sub="beatriz-budget")
    amount = {"breakdown": "subinvestment", "subinvestment": "1.1.1", "year": 2024, "month": 4, "phase": "executed"}
    await au.not_recorded("POST", "/v1/budget/amounts", officer, status=422, json={**amount, "amount": "abc"})
    rid = f"sec-{uuid.uuid4().hex}"
    created = await bg.post(
        "/v1/budget/amounts", json={**amount, "amount": "1230.00"}, headers={**officer, "x-request-id": rid}
    )
    assert created.status_code == 201, created.text[:300]
    amount_id = str(created.json()["id"])
    [event] = await au.events(rid)
    assert (event["action"], event["entity_type"], event["entity_id"], event["actor"]) == (
        "amount.create",
        "amount",
        amount_id,
        "beatriz-budget",
    )
    assert event["changes"]["created"]["gross"] == "1230.00"
    path = f"/v1/budget/amounts/{amount_id}"
    await au.not_recorded("PATCH", path, {**officer, "if-match": '"stale"'}, status=412, json={"amount": "2460.00"})
    patched = await au.write(
        "PATCH",
        path,
        {**officer, "if-match": created.headers["etag"]},
        status=200,
        json={"amount": "2460.00"},
        audited=("amount.update", "amount", amount_id),
    )
    await au.write(
        "DELETE",
        path,
        {**officer, "if-match": patched.headers["etag"]},
        status=204,
        audited=("amount.delete", "amount", amount_id),
    )
    seed = (await bg.get("/v1/budget/amounts?limit=1", headers=officer)).json()["items"][0]
    seed_etag = (await bg.get(f"/v1/budget/amounts/{seed['id']}", headers=officer)).headers["etag"]
    await au.not_recorded(  # published (seed) figures cannot be edited: 409, nothing recorded
        "PATCH",
        f"/v1/budget/amounts/{seed['id']}",
        {**officer, "if-match": seed_etag},
        status=409,
        json={"amount": "1.00"},
    )
    links = "/v1/budget/subinvestments/1.1.1/initiatives"
    await au.not_recorded("POST", links, officer, status=422, json={"plan_id": QUAR, "initiative_code": "NO-SUCH"})
    await au.write(
        "POST",
        links,
        officer,
        status=201,
        json={"plan_id": QUAR, "initiative_code": "DAS-01"},
        audited=("initiative_link.create", "initiative_link", f"1.1.1:{QUAR}:DAS-01"),
    )
    await au.write(
        "DELETE",
        f"{links}/{QUAR}/DAS-01",
        officer,
        status=204,
        audited=("initiative_link.delete", "initiative_link", f"1.1.1:{QUAR}:DAS-01"),
    )


# ---- who reads the trail -------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
async def test_only_auditors_and_admins_read_the_trail(audit_stack: Stack, bearer: Headers, service: str) -> None:
    client = audit_stack[service]
    for role in ("auditor", "admin"):
        resp = await client.get("/v1/audit", headers=bearer(role))
        assert resp.status_code == 200, resp.text[:300]
        assert set(resp.json()) == {"items", "next_cursor"}
    for role, units in (("planner", ()), ("registrar", ("DAS",)), ("viewer", ()), ("certifier", ()), ("service", ())):
        resp = await client.get("/v1/audit", headers=bearer(role, units=units))
        assert_forbidden(resp, "'auditor'")


@pytest.mark.parametrize("service", SERVICES)
async def test_no_one_can_change_the_trail(audit_stack: Stack, bearer: Headers, service: str) -> None:
    """The trail is append-only through the API: not even an admin can write, edit or delete an event."""
    admin = bearer("admin", sub="root")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for path in ("/v1/audit", "/v1/audit/1"):
            resp = await audit_stack[service].request(method, path, headers=admin, json={})
            assert resp.status_code in (404, 405), (method, path, resp.status_code)
    assert (await audit_stack[service].get("/v1/audit/1", headers=admin)).status_code == 404


async def test_a_request_without_an_id_is_audited_under_the_id_it_was_given(
    audit_stack: Stack, bearer: Headers
) -> None:
    """No X-Request-ID from the caller: the service makes one, answers it, and the audit event carries it."""
    ex = audit_stack["execution"]
    resp = await ex.put(
        f"/v1/plans/{QUAR}/locks/2024-08", json={"reason": "evaluated"}, headers=bearer("certifier", sub="cid")
    )
    assert resp.status_code == 200, resp.text[:300]
    rid = resp.headers["x-request-id"]
    assert rid
    events = await Auditor(ex, bearer).events(rid)
    assert [(e["action"], e["actor"], e["entity_id"]) for e in events] == [("lock.create", "cid", f"{QUAR}/2024-08")]


async def test_execution_cycle_writes_are_audited(audit_stack: Stack, bearer: Headers, who: Headers) -> None:
    """Unlock requests, evidence files and requirements, reminder mutes (issue 14)."""
    ex = audit_stack["execution"]
    au = Auditor(ex, bearer)
    plan = f"/v1/plans/{QUAR}"
    registrar = who("registrar", sub="rui-das", units=["DAS"])
    planner = who("planner", sub="pedro-planner")

    async def created(method: str, path: str, headers: dict[str, str], action: str, **kw: Any) -> httpx.Response:
        """A create whose entity id is only known from its response: the events of its request id."""
        rid = f"sec-{uuid.uuid4().hex}"
        resp = await ex.request(method, path, headers={**headers, "x-request-id": rid}, **kw)
        assert resp.status_code == 201, resp.text[:300]
        events = await au.events(rid)
        assert [(e["action"], e["actor"], e["request_id"]) for e in events] == [
            (action, IDENTITIES[headers["authorization"]][0], rid)
        ]
        assert events[0]["changes"]
        return resp

    reg = await ex.put(
        f"{plan}/registrations/DAS-09/2024-01", json={"payload": {"cumulative_percent": "5"}}, headers=registrar
    )
    assert reg.status_code == 201, reg.text[:300]
    evidence = f"{plan}/registrations/DAS-09/2024-01/evidence"
    await au.not_recorded(
        "POST", f"{evidence}?name=../x.pdf", {**registrar, "content-type": "application/pdf"}, status=422
    )
    upload = await created(
        "POST",
        f"{evidence}?name=prova.pdf",
        {**registrar, "content-type": "application/pdf"},
        "evidence.create",
        content=b"%PDF-1.4\n%%EOF\n",
    )
    eid = upload.json()["id"]
    await au.write(
        "DELETE",
        f"{evidence}/{eid}",
        registrar,
        status=204,
        audited=("evidence.delete", "evidence", f"{QUAR}/DAS-09/2024-01/{eid}"),
    )
    await au.write(
        "PUT",
        f"{plan}/evidence-requirements/DAS-09",
        planner,
        status=200,
        json={"source": "Relatório trimestral"},
        audited=("evidence_requirement.put", "evidence_requirement", f"{QUAR}/DAS-09"),
    )
    await au.write(
        "DELETE",
        f"{plan}/evidence-requirements/DAS-09",
        planner,
        status=204,
        audited=("evidence_requirement.delete", "evidence_requirement", f"{QUAR}/DAS-09"),
    )
    assert (await ex.put(f"{plan}/locks/2024-07", json={"reason": "evaluated"}, headers=planner)).status_code == 200
    ask = {"period": "2024-07", "item_code": "DAS-09", "reason": "late evidence"}
    await au.not_recorded("POST", f"{plan}/unlock-requests", registrar, status=422, json={**ask, "period": "2023-07"})
    asked = await created("POST", f"{plan}/unlock-requests", registrar, "unlock_request.create", json=ask)
    rid = asked.json()["id"]
    await au.write(
        "POST",
        f"{plan}/unlock-requests/{rid}:refuse",
        planner,
        status=200,
        json={"reason": "no"},
        audited=("unlock_request.refuse", "unlock_request", str(rid)),
    )
    await au.not_recorded("POST", f"{plan}/unlock-requests/{rid}:refuse", planner, status=409, json={"reason": "no"})
    await au.write(
        "PUT",
        f"{plan}/reminder-mute",
        registrar,
        status=200,
        audited=("reminder_mute.create", "reminder_mute", f"{QUAR}/rui-das"),
    )
    await au.not_recorded("PUT", f"{plan}/reminder-mute", registrar, status=200)  # already muted: nothing changes
    await au.write(
        "DELETE",
        f"{plan}/reminder-mute",
        registrar,
        status=204,
        audited=("reminder_mute.delete", "reminder_mute", f"{QUAR}/rui-das"),
    )

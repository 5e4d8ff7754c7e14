"""Account administration through the accounts API, on PostgreSQL and SQLite: create, read, list, change,
disable, grants, password reset — each change audited as entity.verb — and who may do it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from accounts_support import PASSWORD, person

ACCOUNT_KEYS = {"username", "display_name", "email", "locale", "active", "grants"}


async def audit(api: httpx.AsyncClient, admin: dict[str, str], entity_id: str) -> list[dict[str, Any]]:
    resp = await api.get("/v1/audit", params={"entity_id": entity_id}, headers=admin)
    assert resp.status_code == 200, resp.text
    return list(reversed(resp.json()["items"]))


async def test_admin_creates_reads_and_lists_accounts_audited(api: httpx.AsyncClient, admin: dict[str, str]) -> None:
    resp = await api.post("/v1/accounts", json=person("ana"), headers=admin)
    assert resp.status_code == 201, resp.text
    assert resp.headers["location"] == "/v1/accounts/ana"
    body = resp.json()
    assert set(body) == ACCOUNT_KEYS  # never the hash
    assert body["grants"] == [{"role": "registrar", "org": "ipsm", "units": ["DS"]}]
    assert (await api.get("/v1/accounts/ana", headers=admin)).json() == body
    await api.post("/v1/accounts", json=person("bruno", locale="pt-BR", grants=[]), headers=admin)
    page = (await api.get("/v1/accounts", params={"limit": 1}, headers=admin)).json()
    assert [a["username"] for a in page["items"]] == ["ana"]
    rest = (await api.get("/v1/accounts", params={"cursor": page["next_cursor"]}, headers=admin)).json()
    assert [a["username"] for a in rest["items"]] == ["bruno"]
    assert rest["next_cursor"] is None
    events = await audit(api, admin, "ana")
    assert [(e["action"], e["actor"]) for e in events] == [("account.create", "root")]
    assert "password" not in str(events[0]["changes"])
    assert "argon2" not in str(events[0]["changes"])


async def test_duplicate_and_bad_input_are_problems_and_write_nothing(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    assert (await api.post("/v1/accounts", json=person("ana"), headers=admin)).status_code == 201
    dup = await api.post("/v1/accounts", json=person("ana"), headers=admin)
    assert dup.status_code == 409
    assert dup.headers["content-type"] == "application/problem+json"
    bad = [
        person("Ana Maria"),  # not a username
        person("carla", locale="fr"),
        person("carla", email="not-an-address"),
        person("carla", password="short"),
        person("carla", password="aaaaaaaaaaaaaaaa"),  # too few distinct characters
        person("carla", grants=[{"role": "service", "org": "ipsm", "units": []}]),
        person("carla", grants=[{"role": "admin", "org": "ipsm", "units": ["DS"]}]),
        person("carla", grants=[{"role": "emperor", "org": "*", "units": []}]),
        person("carla", grants=[{"role": "viewer", "org": "<script>", "units": []}]),
        person("carla", password="x" * 300),
        {**person("carla"), "is_root": True},
    ]
    for body in bad:
        resp = await api.post("/v1/accounts", json=body, headers=admin)
        assert resp.status_code == 422, (body, resp.text)
        assert resp.headers["content-type"] == "application/problem+json"
    listed = (await api.get("/v1/accounts", headers=admin)).json()["items"]
    assert [a["username"] for a in listed] == ["ana"]


async def test_changes_grants_disable_and_reset_are_audited(
    api: httpx.AsyncClient, admin: dict[str, str], gateway: dict[str, str]
) -> None:
    await api.post("/v1/accounts", json=person("ana"), headers=admin)
    resp = await api.patch("/v1/accounts/ana", json={"display_name": "Ana Sá", "locale": "en"}, headers=admin)
    assert resp.status_code == 200
    assert resp.json()["display_name"] == "Ana Sá"
    assert resp.json()["locale"] == "en"
    # The same change again writes nothing.
    assert (await api.patch("/v1/accounts/ana", json={"locale": "en"}, headers=admin)).status_code == 200
    grants = [
        {"role": "registrar", "org": "ipsm", "units": ["DS", "DAF"]},
        {"role": "viewer", "org": "ii", "units": []},
    ]
    resp = await api.put("/v1/accounts/ana/grants", json={"grants": grants}, headers=admin)
    assert resp.status_code == 200
    assert resp.json()["grants"] == [
        {"role": "registrar", "org": "ipsm", "units": ["DAF", "DS"]},
        {"role": "viewer", "org": "ii", "units": []},
    ]
    opened = await api.post("/v1/sessions", json={"username": "ana", "password": PASSWORD}, headers=gateway)
    token = opened.json()["token"]
    assert (
        await api.post("/v1/accounts/ana/password", json={"password": "a new long passphrase"}, headers=admin)
    ).status_code == 200
    # The reset ended the open session; the old password no longer works, the new one does.
    assert (await api.post("/v1/sessions:resolve", json={"token": token}, headers=gateway)).status_code == 401
    old = await api.post("/v1/sessions", json={"username": "ana", "password": PASSWORD}, headers=gateway)
    assert old.status_code == 401
    new = await api.post("/v1/sessions", json={"username": "ana", "password": "a new long passphrase"}, headers=gateway)
    assert new.status_code == 201
    assert (await api.patch("/v1/accounts/ana", json={"active": False}, headers=admin)).json()["active"] is False
    assert (
        await api.post("/v1/sessions:resolve", json={"token": new.json()["token"]}, headers=gateway)
    ).status_code == 401
    actions = [e["action"] for e in await audit(api, admin, "ana") if e["actor"] == "root"]
    assert actions == [
        "account.create",
        "account.update",
        "account.set_grants",
        "account.reset_password",
        "account.disable",
    ]
    reset = next(e for e in await audit(api, admin, "ana") if e["action"] == "account.reset_password")
    assert reset["changes"] == {"password": "changed", "sessions_ended": 1}


async def test_only_installation_admins_manage_accounts(
    api: httpx.AsyncClient, admin: dict[str, str], token_for: Callable[..., str]
) -> None:
    await api.post("/v1/accounts", json=person("ana"), headers=admin)
    for who in (
        token_for("viewer"),
        token_for("registrar", org="ipsm", units=["DS"]),
        token_for("admin", org="ipsm"),  # an organisation's admin: not the installation's
        token_for("service"),
    ):
        headers = {"authorization": who}
        assert (await api.get("/v1/accounts", headers=headers)).status_code == 403
        assert (await api.post("/v1/accounts", json=person("eve"), headers=headers)).status_code == 403
        assert (await api.patch("/v1/accounts/ana", json={"active": False}, headers=headers)).status_code == 403
        assert (
            await api.post("/v1/accounts/ana/password", json={"password": "eve's long password"}, headers=headers)
        ).status_code == 403
    assert (await api.get("/v1/accounts")).status_code == 401
    assert (await api.get("/v1/accounts/ana", headers=admin)).json()["active"] is True
    assert (await api.get("/v1/accounts/eve", headers=admin)).status_code == 404


async def test_directory_finds_people_by_org_unit_and_role(
    api: httpx.AsyncClient, admin: dict[str, str], gateway: dict[str, str], token_for: Callable[..., str]
) -> None:
    people = {
        "ana": [{"role": "registrar", "org": "ipsm", "units": ["DS"]}],
        "rui": [{"role": "registrar", "org": "ii", "units": ["DS"]}],
        "sara": [{"role": "certifier", "org": "ipsm", "units": []}],
        "tiago": [{"role": "registrar", "org": "ipsm", "units": ["DAF"]}],
        "zeca": [{"role": "viewer", "org": "*", "units": []}],
    }
    for name, grants in people.items():
        await api.post("/v1/accounts", json=person(name, grants=grants), headers=admin)
    await api.patch("/v1/accounts/tiago", json={"active": False}, headers=admin)

    async def names(**params: Any) -> list[str]:
        resp = await api.get("/v1/directory", params=params, headers=gateway)
        assert resp.status_code == 200, resp.text
        return [p["username"] for p in resp.json()["items"]]

    assert await names(org="ipsm", unit="DS", role="registrar") == ["ana"]
    assert await names(org="ii", role="registrar") == ["rui"]
    assert await names(org="ipsm") == ["ana", "sara", "zeca"]  # tiago is disabled
    assert await names(role=["certifier", "viewer"]) == ["sara", "zeca"]
    first = (await api.get("/v1/directory", params={"limit": 2}, headers=gateway)).json()
    assert [p["username"] for p in first["items"]] == ["ana", "rui"]
    assert first["items"][0]["email"] == "ana@example.pt"
    second = (
        await api.get("/v1/directory", params={"limit": 2, "cursor": first["next_cursor"]}, headers=gateway)
    ).json()
    assert [p["username"] for p in second["items"]] == ["sara", "zeca"]
    resp = await api.get("/v1/directory", headers={"authorization": token_for("viewer")})
    assert resp.status_code == 403


async def test_writes_accept_an_idempotency_key(api: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """A retried create (the same key and body) replays the first answer and writes once; the same key with
    another body is refused."""
    keyed = {**admin, "idempotency-key": "create-ana-1"}
    first = await api.post("/v1/accounts", json=person("ana"), headers=keyed)
    again = await api.post("/v1/accounts", json=person("ana"), headers=keyed)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == "/v1/accounts/ana"
    other = await api.post("/v1/accounts", json=person("bruno"), headers=keyed)
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"
    listed = (await api.get("/v1/accounts", headers=admin)).json()["items"]
    assert [a["username"] for a in listed] == ["ana"]
    creates = [e for e in await audit(api, admin, "ana") if e["action"] == "account.create"]
    assert len(creates) == 1
    reset = {**admin, "idempotency-key": "reset-ana-1"}
    body = {"password": "another long passphrase"}
    assert (await api.post("/v1/accounts/ana/password", json=body, headers=reset)).status_code == 200
    assert (await api.post("/v1/accounts/ana/password", json=body, headers=reset)).status_code == 200
    resets = [e for e in await audit(api, admin, "ana") if e["action"] == "account.reset_password"]
    assert len(resets) == 1

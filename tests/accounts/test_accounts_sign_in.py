"""Password sign-in and sessions as the gateway drives them, on PostgreSQL and SQLite: one generic refusal,
throttling per account name and per client address, idle expiry, revocation."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from accounts_support import PASSWORD, person, serve
from fastapi import FastAPI
from sqlalchemy import update

from accounts.db.models import AccountSession
from accounts.domain.sessions import token_digest
from metas_kit.db import Database, utcnow


@pytest.fixture
async def ana(api: httpx.AsyncClient, admin: dict[str, str]) -> None:
    assert (await api.post("/v1/accounts", json=person("ana"), headers=admin)).status_code == 201


def creds(username: str = "ana", password: str = PASSWORD, address: str | None = "192.0.2.10") -> dict[str, object]:
    return {"username": username, "password": password, "client_address": address}


@pytest.mark.usefixtures("ana")
async def test_sign_in_opens_a_session_that_resolves_to_the_account(
    api: httpx.AsyncClient, gateway: dict[str, str]
) -> None:
    resp = await api.post("/v1/sessions", json=creds(username="  ANA "), headers=gateway)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert len(body["token"]) == 43  # 256 bits, url-safe base64
    assert body["account"]["username"] == "ana"
    assert body["account"]["grants"] == [{"role": "registrar", "org": "ipsm", "units": ["DS"]}]
    resolved = await api.post("/v1/sessions:resolve", json={"token": body["token"]}, headers=gateway)
    assert resolved.status_code == 200
    assert resolved.json()["account"] == body["account"]
    assert resolved.json()["absolute_expires_at"] == body["expires_at"]


@pytest.mark.usefixtures("ana")
async def test_wrong_password_unknown_user_and_disabled_account_get_the_same_answer(
    api: httpx.AsyncClient, admin: dict[str, str], gateway: dict[str, str]
) -> None:
    await api.post("/v1/accounts", json=person("off"), headers=admin)
    await api.patch("/v1/accounts/off", json={"active": False}, headers=admin)
    answers = []
    for attempt in (creds(password="wrong password!"), creds(username="nobody"), creds(username="off")):
        resp = await api.post("/v1/sessions", json=attempt, headers=gateway)
        assert resp.status_code == 401
        body = resp.json()
        answers.append((body["type"], body["title"], body["detail"], resp.headers["www-authenticate"]))
    assert len(set(answers)) == 1
    assert answers[0][2] == "The username or password is not correct."


async def test_unknown_user_costs_a_hash_verification(
    app_factory: Callable[..., FastAPI], gateway: dict[str, str], admin: dict[str, str]
) -> None:
    """With the default argon2 cost a refusal of an unknown name takes as long as a wrong password (both verify
    one hash), so timing does not enumerate accounts."""
    app = app_factory(argon2_time_cost=3, argon2_memory_kib=64 * 1024, argon2_parallelism=4)
    async for api in serve(app):
        await api.post("/v1/accounts", json=person("ana"), headers=admin)
        durations: dict[str, list[float]] = {"known": [], "unknown": []}
        for _ in range(2):
            for kind, name in (("known", "ana"), ("unknown", "nobody")):
                start = time.perf_counter()
                resp = await api.post("/v1/sessions", json=creds(name, "wrong password!", None), headers=gateway)
                durations[kind].append(time.perf_counter() - start)
                assert resp.status_code == 401
        known, unknown = min(durations["known"]), min(durations["unknown"])
        assert unknown > 0.5 * known, durations


@pytest.mark.usefixtures("ana")
async def test_failures_per_account_are_throttled_with_retry_after(
    api: httpx.AsyncClient, gateway: dict[str, str]
) -> None:
    # The fixture allows 3 failures per account name in the window (default 5).
    for i in range(3):
        resp = await api.post(
            "/v1/sessions", json=creds(password="wrong password!", address=f"198.51.100.{i}"), headers=gateway
        )
        assert resp.status_code == 401
    resp = await api.post("/v1/sessions", json=creds(address="198.51.100.99"), headers=gateway)
    assert resp.status_code == 429, "the right password does not pass a throttled account"
    assert resp.headers["content-type"] == "application/problem+json"
    wait = int(resp.headers["retry-after"])
    assert 890 <= wait <= 900  # the first failure leaves the 15-minute window in about 900 s
    # An unknown name is throttled the same way: 429 does not tell which names exist.
    for _ in range(3):
        await api.post("/v1/sessions", json=creds(username="ghost", password="x", address=None), headers=gateway)
    assert (
        await api.post("/v1/sessions", json=creds(username="ghost", address=None), headers=gateway)
    ).status_code == 429


@pytest.mark.usefixtures("ana")
async def test_failures_per_address_are_throttled_across_names(api: httpx.AsyncClient, gateway: dict[str, str]) -> None:
    # 5 failures per address allowed by the fixture: five different names from one address.
    for i in range(5):
        resp = await api.post("/v1/sessions", json=creds(username=f"user{i}", address="203.0.113.7"), headers=gateway)
        assert resp.status_code == 401
    blocked = await api.post("/v1/sessions", json=creds(address="203.0.113.7"), headers=gateway)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert (await api.post("/v1/sessions", json=creds(address="203.0.113.8"), headers=gateway)).status_code == 201


@pytest.mark.usefixtures("ana")
async def test_a_success_clears_the_account_count(api: httpx.AsyncClient, gateway: dict[str, str]) -> None:
    for _ in range(2):
        await api.post("/v1/sessions", json=creds(password="wrong password!"), headers=gateway)
    assert (await api.post("/v1/sessions", json=creds(), headers=gateway)).status_code == 201
    for _ in range(2):
        assert (
            await api.post("/v1/sessions", json=creds(password="wrong password!", address=None), headers=gateway)
        ).status_code == 401
    assert (await api.post("/v1/sessions", json=creds(address=None), headers=gateway)).status_code == 201


@pytest.mark.usefixtures("ana")
async def test_idle_session_expires_and_revoked_session_ends(
    api: httpx.AsyncClient, gateway: dict[str, str], db_url: str
) -> None:
    idle = (await api.post("/v1/sessions", json=creds(), headers=gateway)).json()["token"]
    other = (await api.post("/v1/sessions", json=creds(), headers=gateway)).json()["token"]
    # 31 minutes without a request (the idle limit is 30): moved back in the database, not waited for.
    db = Database(db_url)
    try:
        async with db.sessionmaker() as s, s.begin():
            await s.execute(
                update(AccountSession)
                .where(AccountSession.token_digest == token_digest(idle))
                .values(last_seen_at=utcnow() - timedelta(minutes=31))
            )
    finally:
        await db.dispose()
    expired = await api.post("/v1/sessions:resolve", json={"token": idle}, headers=gateway)
    assert expired.status_code == 401
    assert expired.json()["detail"] == "The session has ended; sign in again."
    assert (await api.post("/v1/sessions:resolve", json={"token": other}, headers=gateway)).status_code == 200
    assert (await api.post("/v1/sessions:revoke", json={"token": other}, headers=gateway)).status_code == 204
    assert (await api.post("/v1/sessions:resolve", json={"token": other}, headers=gateway)).status_code == 401
    # Sign-out twice is fine; a token that was never issued is simply not a session.
    assert (await api.post("/v1/sessions:revoke", json={"token": other}, headers=gateway)).status_code == 204
    assert (await api.post("/v1/sessions:resolve", json={"token": "x" * 43}, headers=gateway)).status_code == 401


@pytest.mark.usefixtures("ana")
async def test_absolute_expiry_ends_even_a_busy_session(
    api: httpx.AsyncClient, gateway: dict[str, str], db_url: str
) -> None:
    token = (await api.post("/v1/sessions", json=creds(), headers=gateway)).json()["token"]
    db = Database(db_url)
    try:
        async with db.sessionmaker() as s, s.begin():
            await s.execute(
                update(AccountSession)
                .where(AccountSession.token_digest == token_digest(token))
                .values(created_at=utcnow() - timedelta(hours=12, seconds=1), last_seen_at=utcnow())
            )
    finally:
        await db.dispose()
    assert (await api.post("/v1/sessions:resolve", json={"token": token}, headers=gateway)).status_code == 401


@pytest.mark.usefixtures("ana")
async def test_sessions_are_the_gateways_only(
    api: httpx.AsyncClient, admin: dict[str, str], token_for: Callable[..., str]
) -> None:
    for who in (admin, {"authorization": token_for("viewer")}):
        assert (await api.post("/v1/sessions", json=creds(), headers=who)).status_code == 403
        assert (await api.post("/v1/sessions:resolve", json={"token": "t"}, headers=who)).status_code == 403
    assert (await api.post("/v1/sessions", json=creds())).status_code == 401


@pytest.mark.usefixtures("ana")
async def test_sign_in_and_sign_out_are_audited(
    api: httpx.AsyncClient, admin: dict[str, str], gateway: dict[str, str]
) -> None:
    token = (await api.post("/v1/sessions", json=creds(), headers=gateway)).json()["token"]
    await api.post("/v1/sessions:revoke", json={"token": token}, headers=gateway)
    events = (await api.get("/v1/audit", params={"entity_id": "ana"}, headers=admin)).json()["items"]
    assert [(e["action"], e["actor"]) for e in reversed(events)][-2:] == [
        ("session.create", "ana"),
        ("session.revoke", "ana"),
    ]
    assert token not in str(events)

"""Sign-in, sessions and the console route through real processes: accounts (SQLite), the gateway and the
console under uvicorn; the other services are left down (nothing here needs them)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from metas_dev.cluster import SERVICES, Cluster, ClusterConfig, free_port
from metas_kit.auth import Grant, Principal, issue_token

pytestmark = pytest.mark.integration
PASSWORD = "correct horse battery"
# Test clients talk from 127.0.0.1, a trusted proxy by default: X-Forwarded-For names the "browser", so each
# test throttles its own made-up address and none locks out another.


def xff(address: str) -> dict[str, str]:
    return {"x-forwarded-for": address}


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> Iterator[Cluster]:
    tmp = tmp_path_factory.mktemp("edge")
    names = (*SERVICES, "gateway", "console")
    config = ClusterConfig(
        ports={n: free_port() for n in names},
        database_urls={"accounts": f"sqlite+aiosqlite:///{tmp}/accounts.db"},
        jwt_secret=jwt_secret,
        log_dir=tmp / "logs",
        extra_env={
            "accounts": {
                "METAS_ACCOUNTS_ARGON2_MEMORY_KIB": "1024",
                "METAS_ACCOUNTS_ARGON2_TIME_COST": "1",
                "METAS_ACCOUNTS_ARGON2_PARALLELISM": "1",
            },
            "gateway": {
                "METAS_GATEWAY_AUTH_FAILURE_BURST": "4",
                "METAS_GATEWAY_SESSION_CACHE_SECONDS": "0.5",
                "METAS_GATEWAY_BODY_TIMEOUT_SECONDS": "1",
            },
        },
    )
    cluster = Cluster(config)
    for name in ("accounts", "gateway", "console"):
        cluster.start_one(name)
    try:
        cluster.wait_ready(("accounts",), timeout=60)
        wait_healthy(config.url("gateway"))
        wait_healthy(config.url("console"))
        admin = issue_token(Principal("root", grants=[Grant("admin")]), jwt_secret)
        people = {
            "ana": [{"role": "registrar", "org": "ipsm", "units": ["DS"]}],
            "boss": [{"role": "admin", "org": "*", "units": []}],
            "carla": [{"role": "viewer", "org": "ii", "units": []}],
            "eva": [{"role": "viewer", "org": "ii", "units": []}],
        }
        for name, grants in people.items():
            resp = httpx.post(
                config.url("accounts") + "/v1/accounts",
                json={
                    "username": name,
                    "display_name": name.title(),
                    "email": f"{name}@example.pt",
                    "locale": "pt-PT",
                    "password": PASSWORD,
                    "grants": grants,
                },
                headers={"authorization": f"Bearer {admin}"},
            )
            assert resp.status_code == 201, resp.text
        yield cluster
    finally:
        cluster.stop_one("console")
        cluster.stop_one("gateway")
        cluster.stop_one("accounts")


def wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


@pytest.fixture(scope="module")
def gw(edge: Cluster) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=edge.config.url("gateway"), timeout=10) as client:
        yield client


def sign_in(gw: httpx.Client, username: str, password: str = PASSWORD, address: str = "192.0.2.1") -> httpx.Response:
    return gw.post("/api/auth/sign-in", json={"username": username, "password": password}, headers=xff(address))


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = resp.json()
    return body


def cookies_of(resp: httpx.Response) -> dict[str, str]:
    """Set-Cookie lines by cookie name (the raw attributes, to check the flags)."""
    return {line.split("=", 1)[0]: line for line in resp.headers.get_list("set-cookie")}


def test_sign_in_answers_the_account_and_sets_a_strict_cookie(gw: httpx.Client) -> None:
    resp = sign_in(gw, "ana")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"token", "expires_at", "account"}
    assert body["account"] == {
        "username": "ana",
        "display_name": "Ana",
        "email": "ana@example.pt",
        "locale": "pt-PT",
        "grants": [{"role": "registrar", "org": "ipsm", "units": ["DS"]}],
    }
    assert resp.headers["cache-control"] == "no-store"
    cookies = cookies_of(resp)
    session = cookies["metas_session"]
    assert session.startswith(f"metas_session={body['token']};")
    flags = {part.strip().lower() for part in session.split(";")[1:]}
    assert {"httponly", "path=/", "samesite=lax", "max-age=43200"} <= flags
    assert "secure" not in flags  # plain HTTP here
    assert "httponly" not in cookies["metas_csrf"].lower()  # the page must read it to send it back
    # Behind an HTTPS proxy (a trusted peer saying so), the cookie is Secure.
    https = gw.post(
        "/api/auth/sign-in",
        json={"username": "ana", "password": PASSWORD},
        headers={**xff("192.0.2.1"), "x-forwarded-proto": "https"},
    )
    assert "secure" in {p.strip().lower() for p in cookies_of(https)["metas_session"].split(";")}


def test_wrong_password_and_unknown_user_get_one_generic_problem(gw: httpx.Client) -> None:
    wrong = problem(sign_in(gw, "ana", "not the password", "192.0.2.2"), 401)
    unknown = problem(sign_in(gw, "nobody", "not the password", "192.0.2.3"), 401)
    strip = ("instance", "request_id")
    assert {k: v for k, v in wrong.items() if k not in strip} == {k: v for k, v in unknown.items() if k not in strip}
    assert wrong["detail"] == "The username or password is not correct."
    bad = problem(gw.post("/api/auth/sign-in", content=b"{not json", headers=xff("192.0.2.4")), 422)
    assert bad["errors"]
    problem(gw.post("/api/auth/sign-in", json={"username": "ana"}, headers=xff("192.0.2.4")), 422)


def test_repeated_failures_for_one_account_are_throttled(gw: httpx.Client) -> None:
    # accounts allows 5 failures per account name in 15 minutes, from any addresses.
    for i in range(5):
        problem(sign_in(gw, "carla", "guess number " + str(i), f"198.51.100.{i}"), 401)
    blocked = sign_in(gw, "carla", PASSWORD, "198.51.100.200")
    body = problem(blocked, 429)
    assert 1 <= int(blocked.headers["retry-after"]) <= 900
    assert body["type"].endswith("/sign-in-throttled")


def test_failed_authentications_are_throttled_per_address_at_the_gateway(gw: httpx.Client) -> None:
    # The gateway's bucket holds 4 failures per address here; wrong API keys and bad tokens all count.
    address = "203.0.113.50"
    for headers in (
        {"x-api-key": "guess-1"},
        {"x-api-key": "guess-2"},
        {"authorization": "Bearer nope"},
        {"authorization": "Session " + "A" * 43},
    ):
        problem(gw.get("/api/planning/v1/plans", headers={**headers, **xff(address)}), 401)
    refused = gw.get("/api/planning/v1/plans", headers={"x-api-key": "guess-5", **xff(address)})
    problem(refused, 429)
    assert int(refused.headers["retry-after"]) >= 1
    # Sign-in from that address is refused too, before any password is tried; other addresses are not.
    problem(sign_in(gw, "ana", PASSWORD, address), 429)
    assert sign_in(gw, "ana", PASSWORD, "203.0.113.51").status_code == 200


def test_session_token_reaches_upstreams_with_the_persons_grants(gw: httpx.Client) -> None:
    boss = sign_in(gw, "boss", address="192.0.2.10").json()["token"]
    ana = sign_in(gw, "ana", address="192.0.2.10").json()["token"]
    me = gw.get("/api/auth/me", headers={"authorization": f"Session {ana}"})
    assert me.status_code == 200
    assert me.json()["username"] == "ana"
    assert me.json()["grants"] == [{"role": "registrar", "org": "ipsm", "units": ["DS"]}]
    # The minted token carries the grants: accounts lets the installation admin in and refuses ana.
    listed = gw.get("/api/accounts/v1/accounts", headers={"authorization": f"Session {boss}"})
    assert listed.status_code == 200, listed.text
    assert {a["username"] for a in listed.json()["items"]} >= {"ana", "boss", "carla"}
    problem(gw.get("/api/accounts/v1/accounts", headers={"authorization": f"Session {ana}"}), 403)
    # Audit rows of the upstream name the person, not the gateway.
    audit = gw.get("/api/accounts/v1/audit", params={"entity_id": "ana"}, headers={"authorization": f"Session {boss}"})
    assert ("session.create", "ana") in {(e["action"], e["actor"]) for e in audit.json()["items"]}


def test_cookie_sessions_need_the_csrf_header_for_unsafe_methods(gw: httpx.Client, edge: Cluster) -> None:
    resp = sign_in(gw, "boss", address="192.0.2.20")
    session, csrf = resp.cookies["metas_session"], resp.cookies["metas_csrf"]
    with httpx.Client(base_url=edge.config.url("gateway"), timeout=10) as browser:
        browser.cookies.set("metas_session", session)
        browser.cookies.set("metas_csrf", csrf)
        assert browser.get("/api/accounts/v1/accounts/ana").status_code == 200  # safe: no header needed
        new = {"username": "dora", "display_name": "Dora", "email": "dora@example.pt", "password": PASSWORD}
        refused = problem(browser.post("/api/accounts/v1/accounts", json=new), 403)
        assert refused["type"].endswith("/csrf-refused")
        problem(browser.post("/api/accounts/v1/accounts", json=new, headers={"x-csrf-token": "forged"}), 403)
        made = browser.post("/api/accounts/v1/accounts", json=new, headers={"x-csrf-token": csrf})
        assert made.status_code == 201, made.text
        problem(browser.post("/api/auth/sign-out"), 403)  # sign-out by cookie is an unsafe request too
        out = browser.post("/api/auth/sign-out", headers={"x-csrf-token": csrf})
        assert out.status_code == 204
        cleared = cookies_of(out)["metas_session"].lower()
        assert 'metas_session="";' in cleared or "metas_session=;" in cleared
        assert "max-age=0" in cleared
    problem(gw.get("/api/auth/me", headers={"authorization": f"Session {session}"}), 401)


def test_sign_out_revokes_the_session(gw: httpx.Client) -> None:
    token = sign_in(gw, "ana", address="192.0.2.30").json()["token"]
    headers = {"authorization": f"Session {token}", **xff("192.0.2.30")}
    assert gw.get("/api/auth/me", headers=headers).status_code == 200
    assert gw.post("/api/auth/sign-out", headers=headers).status_code == 204
    body = problem(gw.get("/api/auth/me", headers=headers), 401)
    assert body["detail"] == "The session has ended; sign in again."
    problem(gw.get("/api/accounts/v1/audit", headers=headers), 401)


def test_disabling_an_account_ends_its_session_within_the_cache_time(gw: httpx.Client) -> None:
    boss = {"authorization": "Session " + sign_in(gw, "boss", address="192.0.2.40").json()["token"]}
    eva = {"authorization": "Session " + sign_in(gw, "eva", address="192.0.2.40").json()["token"]}
    assert gw.get("/api/auth/me", headers=eva).status_code == 200
    assert gw.patch("/api/accounts/v1/accounts/eva", json={"active": False}, headers=boss).status_code == 200
    time.sleep(0.6)  # the gateway caches a session check for 0.5 s here
    problem(gw.get("/api/auth/me", headers={**eva, **xff("192.0.2.41")}), 401)
    gw.patch("/api/accounts/v1/accounts/eva", json={"active": True}, headers=boss)


def test_every_other_path_is_the_consoles(gw: httpx.Client, edge: Cluster) -> None:
    page = gw.get("/sign-in")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "password" in page.text
    problem(gw.get("/api"), 404)
    problem(gw.get("/api/"), 404)
    edge.stop_one("console")
    try:
        body = problem(gw.get("/sign-in"), 503)
        assert body["upstream"] == "console"
    finally:
        edge.start_one("console")
        wait_healthy(edge.config.url("console"))


def test_make_run_people_grants_are_valid_for_accounts() -> None:
    """The demo people of `make run` pass accounts' own grant rules (a typo would only show at start-up)."""
    from accounts.domain.accounts import grant_problems
    from metas_dev.accounts import PEOPLE

    for person in PEOPLE:
        grants = [Grant(g["role"], g["org"], frozenset(g["units"])) for g in person.grants]
        assert grant_problems(grants) == [], person
    assert {g["role"] for p in PEOPLE for g in p.grants} == {
        "admin",
        "registrar",
        "certifier",
        "planner",
        "budget",
        "viewer",
        "auditor",
    }


def raw_exchange(url: str, request: bytes, pause_after: int | None = None, wait: float = 0.0) -> tuple[bytes, float]:
    """Sends ``request`` on a plain socket (stalling after ``pause_after`` bytes); (the answer, seconds taken)."""
    parts = urlsplit(url)
    start = time.monotonic()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request[:pause_after] if pause_after is not None else request)
        answer = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            answer += chunk
    return answer, time.monotonic() - start


def test_a_body_that_does_not_arrive_in_time_is_a_408_problem(edge: Cluster) -> None:
    head = (
        b"POST /api/accounts/v1/accounts HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n"
    )
    answer, took = raw_exchange(edge.config.url("gateway"), head + b'{"username":', pause_after=len(head) + 12)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b"content-type: application/problem+json" in rest.lower()
    assert 0.9 <= took < 5, took  # the gateway's body timeout is 1 s here


def test_an_oversize_query_string_is_a_problem(edge: Cluster) -> None:
    # 100 KB, as an attacker sends it (httpx itself refuses URLs this long).
    request = (
        b"GET /api/accounts/v1/accounts?q=" + b"x" * 100_000 + b" HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"
    )
    answer, _took = raw_exchange(edge.config.url("gateway"), request)
    head, _, body = answer.partition(b"\r\n\r\n")
    # beyond what httptools parses (65,535 bytes): the gateway's protocol stops reading and answers 414 itself
    assert head.startswith(b"HTTP/1.1 414"), answer[:300]
    assert b"content-type: application/problem+json" in head.lower()
    assert json.loads(body)["detail"].startswith("The request target exceeds 65535 bytes")
    # A request the parser cannot read at all is still a 400 problem.
    answer, _took = raw_exchange(edge.config.url("gateway"), b"GET / HTTP/1.1\r\nHost gw\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer[:300]
    assert b"content-type: application/problem+json" in head.lower()
    assert json.loads(body)["status"] == 400
    # Under the parser's limit, the gateway's own limit answers 414.
    request = (
        b"GET /api/accounts/v1/accounts?q=" + b"x" * 20_000 + b" HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"
    )
    answer, _took = raw_exchange(edge.config.url("gateway"), request)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 414"), answer[:300]
    assert b"content-type: application/problem+json" in head.lower()
    assert json.loads(body)["detail"] == "The query string exceeds 8192 bytes."


def test_the_callers_request_id_is_kept_apart_from_the_audit_trails(gw: httpx.Client) -> None:
    boss = {"authorization": "Session " + sign_in(gw, "boss", address="192.0.2.60").json()["token"]}
    mine = "client-chosen-id-1"
    resp = gw.patch(
        "/api/accounts/v1/accounts/ana", json={"display_name": "Ana R."}, headers={**boss, "x-request-id": mine}
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-client-request-id"] == mine
    ours = resp.headers["x-request-id"]
    assert ours != mine
    assert len(ours) == 32
    events = gw.get("/api/accounts/v1/audit", params={"entity_id": "ana"}, headers=boss).json()["items"]
    update = next(e for e in events if e["action"] == "account.update")
    assert update["request_id"] == ours
    assert gw.get("/api/accounts/v1/audit", params={"request_id": mine}, headers=boss).json()["items"] == []
    # A malformed or oversize caller id is dropped, not forwarded.
    odd = gw.get("/api/auth/me", headers={**boss, "x-request-id": "x" * 300})
    assert "x-client-request-id" not in odd.headers

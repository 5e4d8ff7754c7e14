"""The gateway's fast path for the proxied API: plain ASGI in front of FastAPI, the upstream called straight on
the gateway's HTTP/1.1 client, verified bearer tokens remembered until they expire. What a caller and an upstream
see is what the FastAPI route sent before: status, headers (every Set-Cookie), bytes, the caller's encoding of path
and query, no content-length on a 204, problem+json refusals; the request metrics keep the route template."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from prometheus_client import REGISTRY

from gateway.app import create_app
from gateway.identity import VerifiedTokens
from gateway.settings import UPSTREAMS, GatewaySettings
from metas_dev.cluster import free_port
from metas_kit.auth import Principal, issue_token
from metas_kit.errors import Unauthorized

SECRET = "fast-path-secret-0123456789abcdef0123456789abcdef"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_verified_token_is_remembered_until_its_exp_and_no_longer() -> None:
    now = time.time()
    token = issue_token(Principal("ana", frozenset({"viewer"})), SECRET, ttl_seconds=60)
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    clock = Clock(now)
    tokens = VerifiedTokens(clock=clock)
    assert tokens.principal(token, SECRET, "metas").sub == "ana"
    assert token in tokens.entries
    clock.now = exp - 0.001
    assert tokens.principal(token, SECRET, "metas").sub == "ana"  # from the cache (PyJWT would agree)
    clock.now = exp
    # At exp the entry is dropped and the token verified again: PyJWT refuses it once its real clock gets there.
    tokens.entries[token] = (exp, Principal("someone-else", frozenset({"admin"})))
    assert tokens.principal(token, SECRET, "metas").sub == "ana"


def test_refused_tokens_are_never_remembered_and_the_cache_is_bounded() -> None:
    tokens = VerifiedTokens(max_entries=3, max_token_chars=2000)
    good = issue_token(Principal("ana", frozenset({"viewer"})), SECRET, ttl_seconds=60)
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    with pytest.raises(Unauthorized):
        tokens.principal(forged, SECRET, "metas")
    with pytest.raises(Unauthorized):
        tokens.principal(good, "another-secret-0123456789abcdef0123456789", "metas")
    assert tokens.entries == {}
    names = [f"user{i}" for i in range(5)]
    issued = [issue_token(Principal(n, frozenset({"viewer"})), SECRET, ttl_seconds=60) for n in names]
    for token in issued:
        tokens.principal(token, SECRET, "metas")
    assert list(tokens.entries) == issued[2:]  # the oldest dropped first
    huge = issue_token(Principal("x" * 3000, frozenset({"viewer"})), SECRET, ttl_seconds=60)
    assert tokens.principal(huge, SECRET, "metas").sub == "x" * 3000
    assert huge not in tokens.entries


class Upstream:
    """A raw HTTP/1.1 upstream on a real socket: records each request head and answers a fixed response."""

    def __init__(self) -> None:
        self.all_heads: list[bytes] = []
        self.port = free_port()

    @property
    def heads(self) -> list[bytes]:
        """The proxied calls (the gateway's readiness probes left out)."""
        return [h for h in self.all_heads if not h.startswith(b"GET /readyz ")]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.all_heads.append(head)
                length = next(
                    (int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")), 0
                )
                await reader.readexactly(length)
                if head.startswith(b"GET /v1/empty"):
                    writer.write(b'HTTP/1.1 204 No Content\r\netag: "e1"\r\n\r\n')
                else:
                    body = '{"ok":"çã"}'.encode()
                    writer.write(
                        b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nset-cookie: a=1\r\n"
                        b"set-cookie: b=2\r\nserver: upstream\r\ncontent-length: "
                        + str(len(body)).encode()
                        + b"\r\n\r\n"
                        + body
                    )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


@pytest.fixture
async def edge() -> AsyncIterator[tuple[httpx.AsyncClient, Upstream, Any]]:
    upstream = Upstream()
    server = await asyncio.start_server(upstream.handle, "127.0.0.1", upstream.port)
    url = f"http://127.0.0.1:{upstream.port}"
    settings = GatewaySettings(
        jwt_secret=SECRET,
        console_enabled=False,
        retries=0,
        log_json=False,
        log_level="ERROR",
        **{f"{name}_url": url for name in UPSTREAMS},
    )
    app = create_app(settings)
    async with server, app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            yield client, upstream, app


async def test_the_upstreams_answer_comes_back_as_sent(edge: tuple[httpx.AsyncClient, Upstream, Any]) -> None:
    client, upstream, app = edge
    assert app.state.upstreams["budget"].direct is not None  # the direct transport path, not the httpx one
    token = "Bearer " + issue_token(Principal("ana", frozenset({"viewer"})), SECRET, ttl_seconds=60)
    before = REGISTRY.get_sample_value(
        "metas_http_requests_total",
        {"service": "gateway", "route": "/api/{upstream}/{path:path}", "method": "POST", "status": "201"},
    )
    resp = await client.post(
        "/api/budget/v1/echo/plan%23x/a%2Fb?q=a%26b&r=%23",
        content=b'{"a":1}',
        headers={"authorization": token, "content-type": "application/json", "cookie": "theirs=1"},
    )
    assert resp.status_code == 201
    assert resp.content == '{"ok":"çã"}'.encode()
    assert resp.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert resp.headers["content-length"] == str(len(resp.content))
    assert resp.headers["x-request-id"]
    assert "upstream" not in resp.headers.get_list("server")
    head = upstream.heads[-1]
    assert head.startswith(b"POST /v1/echo/plan%23x/a%2Fb?q=a%26b&r=%23 HTTP/1.1\r\n")
    lowered = head.lower()
    assert b"authorization: " + token.lower().encode() in lowered
    assert b"x-forwarded-for: 10.1.2.3" in lowered
    assert b"x-forwarded-proto: http" in lowered
    again = await client.get("/api/budget/v1/empty", headers={"authorization": token})
    assert again.status_code == 204
    assert "content-length" not in again.headers
    assert again.headers["etag"] == '"e1"'
    after = REGISTRY.get_sample_value(
        "metas_http_requests_total",
        {"service": "gateway", "route": "/api/{upstream}/{path:path}", "method": "POST", "status": "201"},
    )
    assert (after or 0) - (before or 0) == 1


async def test_refusals_are_problems_and_other_paths_still_reach_fastapi(
    edge: tuple[httpx.AsyncClient, Upstream, Any],
) -> None:
    client, upstream, _app = edge
    calls = len(upstream.heads)
    refused = await client.get("/api/planning/v1/plans", headers={"authorization": "Bearer not-a-token"})
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["instance"] == "/api/planning/v1/plans"
    assert refused.json()["request_id"] == refused.headers["x-request-id"]
    token = "Bearer " + issue_token(Principal("ana", frozenset({"viewer"})), SECRET, ttl_seconds=60)
    assert (await client.get("/api/planning/healthz", headers={"authorization": token})).status_code == 404
    assert (await client.get("/api/payroll/v1/x", headers={"authorization": token})).status_code == 404
    assert (await client.get("/healthz")).status_code == 200
    assert len(upstream.heads) == calls

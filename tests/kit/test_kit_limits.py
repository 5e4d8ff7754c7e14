"""Every service bounds requests itself, through real uvicorn: a body over the limit is a 413, a body that does
not arrive in time a 408, an over-long query a 414 — problem+json each, with the request id."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import APIRouter
from pydantic import BaseModel

from metas_dev.cluster import free_port
from metas_kit.app import create_service_app
from metas_kit.auth import Reader
from metas_kit.settings import ServiceSettings

router = APIRouter(prefix="/v1/echo")


class Echo(BaseModel):
    text: str


@router.post("")
async def echo(body: Echo, _who: Reader) -> Echo:
    return body


@pytest.fixture
async def server(tmp_path: Path, jwt_secret: str) -> AsyncIterator[str]:
    settings = ServiceSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'limits.db'}",
        jwt_secret=jwt_secret,
        max_body_bytes=1000,
        body_timeout_seconds=1.0,
        max_query_bytes=200,
    )
    app = create_service_app(name="limits", settings=settings, routers=[router])
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve())
    for _ in range(200):
        if srv.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        await task


def _problem(resp: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text[:300]
    assert resp.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = resp.json()
    assert body["type"].endswith("/" + slug)
    assert body["request_id"] == resp.headers["x-request-id"]
    return body


async def test_bodies_within_the_limit_pass_and_larger_ones_are_413(server: str, token_for: Any) -> None:
    auth = {"authorization": token_for("viewer")}
    async with httpx.AsyncClient(base_url=server) as client:
        ok = await client.post("/v1/echo", json={"text": "x" * 900}, headers=auth)
        assert ok.status_code == 200
        assert ok.json() == {"text": "x" * 900}
        body = _problem(
            await client.post("/v1/echo", json={"text": "x" * 1000}, headers=auth), 413, "payload-too-large"
        )
        assert "1000 bytes" in body["detail"]


async def _raw(server: str, request: bytes) -> str:
    host, port = server.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    with socket.create_connection((host, int(port))) as sock:
        sock.settimeout(5)
        sock.sendall(request)
        received = b""
        while chunk := await loop.run_in_executor(None, sock.recv, 65536):  # until the server closes
            received += chunk
        return received.decode()


async def test_a_chunked_body_is_counted_as_it_arrives(server: str, token_for: Any) -> None:
    # No Content-Length: 1,200 bytes in 12 chunks, the 11th crosses the limit.
    chunk = b"64\r\n" + b"x" * 100 + b"\r\n"
    head = (
        f"POST /v1/echo HTTP/1.1\r\nHost: t\r\nAuthorization: {token_for('viewer')}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    raw = await _raw(server, head + chunk * 12 + b"0\r\n\r\n")
    assert raw.startswith("HTTP/1.1 413 ")
    assert "/problems/payload-too-large" in raw


async def test_a_body_that_does_not_arrive_in_time_is_408(server: str, token_for: Any) -> None:
    head = (
        f"POST /v1/echo HTTP/1.1\r\nHost: t\r\nAuthorization: {token_for('viewer')}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    started = time.monotonic()
    raw = await _raw(server, head.encode() + b'{"text": "')  # then stall
    waited = time.monotonic() - started
    status_line, _, rest = raw.partition("\r\n")
    assert status_line == "HTTP/1.1 408 Request Timeout"
    assert "application/problem+json" in rest
    assert '"type":"https://metas.dev/problems/request-timeout"' in rest.replace(" ", "")
    assert 0.5 < waited < 3.0  # the configured second, not the client's patience


async def test_an_over_long_query_is_414(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as client:
        _problem(await client.get("/v1/echo", params={"q": "x" * 300}), 414, "uri-too-long")
        # within the bound the request goes on (here: to authentication)
        assert (await client.get("/v1/echo", params={"q": "x" * 100})).status_code in (401, 405)


async def test_a_request_without_a_body_is_not_waited_for(server: str, token_for: Any) -> None:
    # No Content-Length and no Transfer-Encoding: there is no body (RFC 9112 §6.3). The route sees an empty body at
    # once — a 422 naming the missing field — instead of the limit waiting for bytes that never come (a 408 after
    # the configured second).
    head = (
        f"POST /v1/echo HTTP/1.1\r\nHost: t\r\nAuthorization: {token_for('viewer')}\r\n"
        "Content-Type: application/json\r\nConnection: close\r\n\r\n"
    )
    started = time.monotonic()
    raw = await _raw(server, head.encode())
    assert raw.startswith("HTTP/1.1 422 ")
    assert "/problems/validation-error" in raw
    assert time.monotonic() - started < 0.9

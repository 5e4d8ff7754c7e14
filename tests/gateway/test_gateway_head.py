"""HEAD through a real gateway (uvicorn with gateway.server.HttpProtocol) in front of a real upstream (uvicorn): the
answer carries the Content-Length the GET would have (RFC 9110 §9.3.2), never a false 0, and no body — on the fast
path, on the FastAPI proxy route (taken when the gateway is mounted under a root path) and on the console's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.app import create_app
from gateway.proxy import Relay
from gateway.server import HttpProtocol
from gateway.settings import UPSTREAMS, GatewaySettings
from metas_dev.cluster import free_port
from metas_kit.auth import Principal, issue_token

SECRET = "head-secret-0123456789abcdef0123456789abcdef"


async def answer(request: Request) -> JSONResponse:
    # Starlette answers HEAD on a GET route with the GET's headers; uvicorn leaves the body out.
    return JSONResponse({"path": request.url.path, "name": "Inversión en formación"})


@contextlib.asynccontextmanager
async def serve(app: Any, **options: Any) -> AsyncIterator[int]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", access_log=False, **options)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn.Server has no started event
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


@pytest.fixture(params=["", "/gw"], ids=["fast-path", "root-path"])
async def gateway(request: pytest.FixtureRequest) -> AsyncIterator[int]:
    upstream = Starlette(routes=[Route("/{path:path}", answer)])
    async with serve(upstream, lifespan="off") as upstream_port:
        url = f"http://127.0.0.1:{upstream_port}"
        settings = GatewaySettings(
            jwt_secret=SECRET,
            console_url=url,
            log_json=False,
            log_level="ERROR",
            **{f"{name}_url": url for name in UPSTREAMS},
        )
        async with serve(create_app(settings), http=HttpProtocol, lifespan="on", root_path=request.param) as port:
            yield port


async def read_head(reader: asyncio.StreamReader) -> dict[bytes, bytes]:
    lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 200 OK"
    return dict(line.lower().split(b": ", 1) for line in lines[1:] if line)


# The API called straight on the gateway's transport, the API through its httpx API (a dot segment), the console.
@pytest.mark.parametrize("path", ["/api/budget/v1/plans?q=1", "/api/budget/v1/./plans", "/plans/p-1"])
async def test_head_answers_the_gets_content_length_and_no_body(gateway: int, path: str) -> None:
    token = issue_token(Principal("ana", frozenset({"viewer"})), SECRET, ttl_seconds=60)
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway)
    try:

        async def ask(method: str) -> dict[bytes, bytes]:
            writer.write(f"{method} {path} HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {token}\r\n\r\n".encode())
            return await read_head(reader)

        head = await ask("HEAD")
        # The GET on the same connection reads a status line right away: the HEAD answer had no body.
        get = await ask("GET")
        body = await reader.readexactly(int(get[b"content-length"]))
    finally:
        writer.close()
    assert body.startswith(b'{"path":"/')
    assert head[b"content-length"] == get[b"content-length"] == str(len(body)).encode()
    assert head[b"content-type"] == get[b"content-type"] == b"application/json"
    assert b"transfer-encoding" not in head


def test_a_head_answer_keeps_the_upstreams_length_or_has_none() -> None:
    assert Relay.of(200, [(b"Content-Length", b"58"), (b"ETag", b'"1"')], b"", head=True).headers == [
        (b"content-length", b"58"),
        (b"etag", b'"1"'),
    ]
    assert Relay.of(200, [(b"Transfer-Encoding", b"chunked")], b"", head=True).headers == []
    assert Relay.of(204, [(b"Content-Length", b"0")], b"", head=True).headers == []
    # Any other answer keeps the length of the body the gateway relays.
    assert Relay.of(200, [(b"Content-Length", b"58")], b"ok").headers == [(b"content-length", b"2")]

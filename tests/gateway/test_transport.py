"""The gateway's HTTP/1.1 transport (httpx API) against real sockets: responses pass through unchanged (status, raw
headers, body bytes), and each failure maps to the httpx exception the proxy's retry policy relies on."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.transport import Http1Transport
from metas_dev.cluster import free_port


async def serve(handler: object) -> tuple[asyncio.AbstractServer, int]:
    port = free_port()
    server = await asyncio.start_server(handler, "127.0.0.1", port)  # type: ignore[arg-type]
    return server, port


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=Http1Transport(max_connections=4), timeout=2.0) as c:
        yield c


async def test_round_trip_keeps_status_headers_and_bytes(client: httpx.AsyncClient) -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1])
        seen.append(head + await reader.readexactly(length))
        body = '{"ok":"çã"}'.encode()
        writer.write(
            b'HTTP/1.1 201 Created\r\ncontent-type: application/problem+json\r\netag: "v1"\r\n'
            b"set-cookie: a=1\r\nset-cookie: b=2\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        await writer.drain()
        writer.close()

    server, port = await serve(handler)
    async with server:
        resp = await client.post(
            f"http://127.0.0.1:{port}/v1/x?q=1", content=b'{"a":1}', headers={"x-request-id": "r1"}
        )
    assert resp.status_code == 201
    assert resp.headers["etag"] == '"v1"'
    assert resp.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert resp.json() == {"ok": "çã"}
    request = seen[0]
    assert request.startswith(b"POST /v1/x?q=1 HTTP/1.1")
    assert b"x-request-id: r1" in request.lower()
    assert request.endswith(b'{"a":1}')


async def test_refused_connection_is_connect_error(client: httpx.AsyncClient) -> None:
    with pytest.raises(httpx.ConnectError):
        await client.get(f"http://127.0.0.1:{free_port()}/")


async def test_silent_upstream_is_a_timeout(client: httpx.AsyncClient) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    server, port = await serve(handler)
    async with server:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(httpx.TimeoutException):
            await client.get(f"http://127.0.0.1:{port}/", timeout=0.3)
        assert loop.time() - started < 2.0


async def test_connection_closed_mid_response_is_a_protocol_error(client: httpx.AsyncClient) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.close()

    server, port = await serve(handler)
    async with server:
        with pytest.raises(httpx.TransportError) as info:
            await client.get(f"http://127.0.0.1:{port}/")
    assert not isinstance(info.value, httpx.ConnectError)

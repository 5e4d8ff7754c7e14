"""The gateway's uvicorn protocol (gateway.server.HttpProtocol) on a real uvicorn: answers whose head and body are
written together still arrive whole and in order on a kept-alive connection, a large streamed answer is not held
back, a connection closed after an answer gets the answer first, and the edge's own 414 still comes out."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

from gateway.server import FLUSH_BYTES, HttpProtocol
from metas_dev.cluster import free_port

CHUNK = b"x" * 10_000


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    if scope["path"] == "/stream":  # chunked, 50 pieces: more than FLUSH_BYTES in total
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(50):
            await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    body = scope["path"].encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextlib.asynccontextmanager
async def gateway_server() -> AsyncIterator[int]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=HttpProtocol, lifespan="off", log_level="error")
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


async def read_answer(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.lower().split(b"\r\n")
    length = next((int(h.split(b":")[1]) for h in lines if h.startswith(b"content-length")), None)
    if length is not None:
        return head, await reader.readexactly(length)
    body = b""
    while True:  # chunked
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        data = await reader.readexactly(size + 2)
        if size == 0:
            return head, body
        body += data[:-2]


async def test_answers_on_a_kept_alive_connection_arrive_whole_and_in_order() -> None:
    async with gateway_server() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for i in range(20):
            writer.write(f"GET /n{i} HTTP/1.1\r\nhost: gw\r\n\r\n".encode())
            head, body = await read_answer(reader)
            assert head.startswith(b"HTTP/1.1 200 ")
            assert body == f"/n{i}".encode()
        # Two requests in one packet: both answered, in order.
        writer.write(b"GET /a HTTP/1.1\r\nhost: gw\r\n\r\nGET /b HTTP/1.1\r\nhost: gw\r\n\r\n")
        assert (await read_answer(reader))[1] == b"/a"
        assert (await read_answer(reader))[1] == b"/b"
        writer.close()


async def test_a_large_streamed_answer_comes_through_whole() -> None:
    assert len(CHUNK) * 50 > FLUSH_BYTES
    async with gateway_server() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /stream HTTP/1.1\r\nhost: gw\r\n\r\n")
        head, body = await read_answer(reader)
        assert b"transfer-encoding: chunked" in head.lower()
        assert body == CHUNK * 50
        writer.close()


async def test_the_answer_goes_out_before_a_close() -> None:
    async with gateway_server() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /last HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n")
        head, body = await read_answer(reader)
        assert b"connection: close" in head.lower()
        assert body == b"/last"
        assert await reader.read() == b""  # then closed
        writer.close()


async def test_a_target_too_long_is_still_the_edges_414() -> None:
    async with gateway_server() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nhost: gw\r\n\r\n")
        head, body = await read_answer(reader)
        assert head.startswith(b"HTTP/1.1 414 ")
        assert b"uri-too-long" in body
        writer.close()

"""The gateway's HTTP/1.1 client (Http1Transport.exchange, the proxied API's path) against real servers: a real
uvicorn upstream for what must pass through unchanged, raw asyncio servers to inject failures. Each failure maps
to the httpx exception the proxy's retry rules rely on, and a write the upstream never answered is sent again
only when the request is idempotent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import uvicorn

from gateway.breaker import CircuitBreaker
from gateway.proxy import Direct, Upstream, send
from gateway.transport import Http1Transport
from metas_dev.cluster import free_port
from metas_kit.errors import UpstreamError

BIG = bytes(range(256)) * 16384  # 4 MiB


class Echo:
    """A plain ASGI app: echoes what it received, and a few answers a proxy must relay unchanged."""

    def __init__(self) -> None:
        self.peers: list[tuple[str, int]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.peers.append(scope["client"])
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path = scope["path"]
        if path == "/chunked":  # no content-length: uvicorn sends it chunked
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            for part in (b"one,", b"two,", b"three"):
                await send({"type": "http.response.body", "body": part, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        if path == "/cookies":
            headers = [(b"set-cookie", b"a=1; Path=/"), (b"set-cookie", b"b=2; HttpOnly"), (b"content-length", b"2")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        if path == "/not-modified":
            await send({"type": "http.response.start", "status": 304, "headers": [(b"etag", b'"v7"')]})
            await send({"type": "http.response.body", "body": b""})
            return
        if path == "/big":
            answer = BIG
        else:
            answer = json.dumps(
                {
                    "method": scope["method"],
                    "raw_path": scope["raw_path"].decode("latin-1"),
                    "query": scope["query_string"].decode("latin-1"),
                    "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
                    "body_length": len(body),
                    "body_is_big": body == BIG,
                    "body": body.decode("latin-1") if len(body) < 1000 else "",
                }
            ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else answer})


@contextlib.asynccontextmanager
async def uvicorn_upstream(app: Any) -> AsyncIterator[int]:
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="off", access_log=False)
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


@contextlib.asynccontextmanager
async def raw_upstream(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[int]:
    port = free_port()
    server = await asyncio.start_server(handler, "127.0.0.1", port)
    async with server:
        yield port


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next((int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")), 0)
    return head + await reader.readexactly(length)


def origin(port: int) -> tuple[str, str, int, str]:
    return ("http", "127.0.0.1", port, f"127.0.0.1:{port}")


@pytest.fixture
async def transport() -> AsyncIterator[Http1Transport]:
    t = Http1Transport(max_connections=4)
    yield t
    await t.aclose()


async def call(
    t: Http1Transport,
    port: int,
    target: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    total: float = 5.0,
) -> Any:
    return await t.exchange(method, origin(port), target, headers or {}, body, total=total, connect=1.0)


def header(relay: Any, name: bytes) -> list[bytes]:
    return [v for k, v in relay.headers if k == name]


async def test_request_goes_upstream_as_sent_and_the_answer_comes_back(transport: Http1Transport) -> None:
    app = Echo()
    async with uvicorn_upstream(app) as port:
        relay = await call(
            transport,
            port,
            "/v1/a%2Fb%20c?x=%23y&z=1",
            "POST",
            {"x-request-id": "r1", "content-type": "application/json", "if-match": '"3"'},
            '{"n":"çã"}'.encode(),
        )
    assert relay.status == 200
    seen = json.loads(relay.body)
    assert seen["method"] == "POST"
    assert seen["raw_path"] == "/v1/a%2Fb%20c"  # the caller's encoding survives
    assert seen["query"] == "x=%23y&z=1"
    assert seen["body"].encode("latin-1") == '{"n":"çã"}'.encode()
    sent = dict(seen["headers"])
    assert sent["host"] == f"127.0.0.1:{port}"
    assert sent["x-request-id"] == "r1"
    assert sent["if-match"] == '"3"'
    assert sent["content-length"] == str(len('{"n":"çã"}'.encode()))
    assert header(relay, b"content-length") == [str(len(relay.body)).encode()]
    assert header(relay, b"content-type") == [b"application/json"]


async def test_connections_are_kept_alive_and_reused(transport: Http1Transport) -> None:
    app = Echo()
    async with uvicorn_upstream(app) as port:
        for _ in range(20):
            assert (await call(transport, port, "/v1/x")).status == 200
        await asyncio.gather(*(call(transport, port, "/v1/y") for _ in range(12)))
    assert len(set(app.peers[:20])) == 1
    assert len(set(app.peers)) <= 4  # max_connections


async def test_a_chunked_answer_is_relayed_whole_with_its_length(transport: Http1Transport) -> None:
    async with uvicorn_upstream(Echo()) as port:
        relay = await call(transport, port, "/chunked")
        again = await call(transport, port, "/v1/after")  # the connection is still in step
    assert relay.body == b"one,two,three"
    assert header(relay, b"content-length") == [b"13"]
    assert header(relay, b"transfer-encoding") == []
    assert again.status == 200


async def test_head_and_304_have_no_body_and_leave_the_connection_usable(transport: Http1Transport) -> None:
    app = Echo()
    async with uvicorn_upstream(app) as port:
        head = await call(transport, port, "/v1/thing", "HEAD")
        not_modified = await call(transport, port, "/not-modified", headers={"if-none-match": '"v7"'})
        after = await call(transport, port, "/v1/after")
    assert head.status == 200
    assert head.body == b""
    assert int(header(head, b"content-length")[0]) > 0  # the GET's length, as the upstream declared it
    assert not_modified.status == 304
    assert not_modified.body == b""
    assert header(not_modified, b"etag") == [b'"v7"']
    assert header(not_modified, b"content-length") == []
    assert json.loads(after.body)["raw_path"] == "/v1/after"
    assert len(set(app.peers)) == 1


async def test_large_bodies_both_ways(transport: Http1Transport) -> None:
    async with uvicorn_upstream(Echo()) as port:
        up = await call(transport, port, "/v1/upload", "PUT", {"content-type": "application/octet-stream"}, BIG)
        down = await call(transport, port, "/big")
    seen = json.loads(up.body)
    assert seen["body_length"] == len(BIG)
    assert seen["body_is_big"]
    assert down.body == BIG


async def test_every_set_cookie_is_kept(transport: Http1Transport) -> None:
    async with uvicorn_upstream(Echo()) as port:
        relay = await call(transport, port, "/cookies")
    assert header(relay, b"set-cookie") == [b"a=1; Path=/", b"b=2; HttpOnly"]


async def test_a_header_with_a_line_break_is_refused(transport: Http1Transport) -> None:
    async with uvicorn_upstream(Echo()) as port:
        with pytest.raises(httpx.LocalProtocolError):
            await call(transport, port, "/v1/x", headers={"x-note": "a\r\nx-admin: yes"})


async def test_refused_connection_is_connect_error(transport: Http1Transport) -> None:
    with pytest.raises(httpx.ConnectError):
        await call(transport, free_port(), "/v1/x")


async def test_connection_closed_mid_answer_is_a_protocol_error(transport: Http1Transport) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
        await writer.drain()
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.close()

    async with raw_upstream(handler) as port:
        with pytest.raises(httpx.RemoteProtocolError):
            await call(transport, port, "/v1/x")


async def test_slow_upstream_is_a_timeout_within_the_budget(transport: Http1Transport) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(3)

    async with raw_upstream(handler) as port:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(httpx.ReadTimeout):
            await call(transport, port, "/v1/x", total=0.3)
        assert loop.time() - started < 1.0
        pool = next(iter(transport._pools.values()))
        await asyncio.sleep(0.05)
        assert pool.open == 0
        assert pool.idle == []


async def test_waiting_for_a_free_connection_is_bounded_by_the_budget() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(0.5)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        await read_request(reader)

    one = Http1Transport(max_connections=1)
    async with raw_upstream(handler) as port:
        first = asyncio.create_task(call(one, port, "/v1/slow"))
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.TimeoutException):
            await call(one, port, "/v1/x", total=0.2)
        assert (await first).status == 200
    await one.aclose()


async def test_answer_until_close_and_interim_answers() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it")
        await writer.drain()
        writer.close()

    t = Http1Transport()
    async with raw_upstream(handler) as port:
        relay = await call(t, port, "/v1/x")
    assert relay.status == 200
    assert relay.body == b"all of it"
    await t.aclose()


async def test_an_idle_connection_the_upstream_closed_is_not_reused() -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # kept alive by the headers, closed at once by the upstream

    t = Http1Transport()
    async with raw_upstream(handler) as port:
        assert (await call(t, port, "/v1/a", "POST", body=b"1")).body == b"ok"
        await asyncio.sleep(0.05)  # the close reaches the client while the connection is idle
        assert (await call(t, port, "/v1/b", "POST", body=b"2")).body == b"ok"
    assert connections == 2
    await t.aclose()


async def test_idle_connections_expire_before_the_upstreams_keep_alive() -> None:
    app = Echo()
    t = Http1Transport(keepalive_expiry=0.1)
    async with uvicorn_upstream(app) as port:
        await call(t, port, "/v1/a")
        await call(t, port, "/v1/b")
        await asyncio.sleep(0.2)
        await call(t, port, "/v1/c")
    assert app.peers[0] == app.peers[1] != app.peers[2]
    await t.aclose()


class Stale:
    """Answers the first request of each connection with keep-alive, then reads the next one and closes without
    a byte of answer: the race of a kept-alive connection the upstream closes just as it is reused."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.requests.append(await read_request(reader))
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfirst")
        await writer.drain()
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            self.requests.append(await read_request(reader))
        writer.close()


def upstream_for(port: int, transport: Http1Transport) -> Upstream:
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", transport=transport, timeout=2.0)
    return Upstream(
        name="planning",
        client=client,
        breaker=CircuitBreaker(5, 1.0),
        retries=2,
        backoff=0.0,
        direct=Direct.of(client, transport),
    )


async def test_an_unanswered_write_on_a_reused_connection_is_retried_only_when_idempotent() -> None:
    stale = Stale()
    t = Http1Transport()
    async with raw_upstream(stale.handle) as port:
        up = upstream_for(port, t)
        assert (await send(up, "GET", "/v1/warm", "", {}, b"")).body == b"first"
        with pytest.raises(httpx.RemoteProtocolError):
            await t.exchange("POST", origin(port), "/v1/x", {}, b"{}", total=2.0, connect=1.0)
        # Through the proxy's rules: a POST that reached the upstream is not sent again.
        assert (await send(up, "GET", "/v1/warm", "", {}, b"")).body == b"first"
        with pytest.raises(UpstreamError):
            await send(up, "POST", "/v1/pay", "", {"content-type": "application/json"}, b"{}")
        assert sum(r.startswith(b"POST /v1/pay ") for r in stale.requests) == 1
        # With an Idempotency-Key, or a safe method, it is: the retry goes on a fresh connection.
        assert (await send(up, "GET", "/v1/warm", "", {}, b"")).body == b"first"
        relay = await send(up, "POST", "/v1/pay2", "", {"idempotency-key": "k1"}, b"{}")
        assert relay.body == b"first"
        assert sum(r.startswith(b"POST /v1/pay2 ") for r in stale.requests) == 2
        relay = await send(up, "GET", "/v1/read", "", {}, b"")
        assert relay.status == 200
        await up.client.aclose()


async def test_the_httpx_api_runs_on_the_same_pool() -> None:
    app = Echo()
    async with uvicorn_upstream(app) as port:
        t = Http1Transport()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", transport=t) as client:
            resp = await client.post("/v1/x", params={"q": "a b"}, json={"a": 1})
            head = await client.head("/v1/x")
            cookies = await client.get("/cookies")
    seen = resp.json()
    assert seen["query"] == "q=a+b"
    assert json.loads(seen["body"]) == {"a": 1}
    assert head.status_code == 200
    assert head.content == b""
    assert cookies.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; HttpOnly"]
    assert len(set(app.peers)) == 1

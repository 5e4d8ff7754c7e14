"""The gateway's HTTP/1.1 client for its upstreams: asyncio's Protocol API, httptools' response parser, a bounded
keep-alive pool per origin.

Why not a general client: the gateway forwards one bounded request and relays one buffered answer, and per call
httpx's pool cost ~1.7 ms of CPU (httpcore probes every pooled socket on every request) and aiohttp's ~0.13 ms
(request and response objects, URL handling, stream readers, timers) where this client builds one bytes string,
writes it and parses the answer in C as it arrives. It is an httpx transport too (probes, sign-in, console and
swapped-in clients keep the httpx API); the proxied API calls `exchange` directly.

Errors map to the httpx exceptions the proxy's retry rules rely on: a connection refused or not made in time is a
ConnectError / ConnectTimeout (nothing was sent); no answer within the budget is a ReadTimeout (PoolTimeout while
waiting for a free connection); anything else once the request was written — including a pooled connection the
upstream closed as it was reused — is a RemoteProtocolError, which the proxy retries only for idempotent requests.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import TYPE_CHECKING, Any

import httptools
import httpx

if TYPE_CHECKING:
    from gateway.proxy import Relay

# Methods whose request carries a body by definition: an empty one is announced as `content-length: 0`.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Request headers the client writes itself (httpx path): the body is sent whole, with its own length.
_FRAMING = frozenset({b"content-length", b"transfer-encoding", b"connection", b"keep-alive"})


class _Answer:
    """One response as it is parsed: status, raw headers as sent, body chunks."""

    __slots__ = ("chunks", "framed", "headers", "reason", "status")

    def __init__(self) -> None:
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        # Content-Length or chunked: the end of the body is in the stream, not the connection's close.
        self.framed = False


class _Connection(asyncio.Protocol):
    """One upstream connection; at most one exchange at a time (no pipelining)."""

    def __init__(self, pool: _Pool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[_Answer] | None = None
        self.answer = _Answer()
        self.head = False
        self.received = False  # a byte of the current answer arrived
        self.reusable = True
        self.closed = False
        self.used = False  # served an exchange before: a close before any answer may be the idle race
        self.counted = False  # made and counted in its pool's open connections
        self.idle_since = 0.0

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.waiter is None or self.waiter.done():
            # Bytes nobody asked for: the stream is out of step, the connection cannot be trusted again.
            self.close()
            return
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(httpx.RemoteProtocolError("The upstream switched protocols."))
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"Malformed answer from the upstream: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            answer = self.answer
            if exc is None and answer.status >= 200 and not answer.framed and not self.head:
                # Neither Content-Length nor chunked: the body ran until the upstream closed.
                waiter.set_result(answer)
            elif not self.received and self.used:
                waiter.set_exception(
                    httpx.RemoteProtocolError("The upstream closed the kept-alive connection without answering.")
                )
            else:
                waiter.set_exception(httpx.RemoteProtocolError("The upstream closed the connection mid-answer."))
        self.pool.forget(self)

    # httptools callbacks (an exception raised here would surface as a parser error: they do not raise)

    def on_status(self, reason: bytes) -> None:
        self.answer.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.answer.headers.append((name, value))
        lowered = name.lower()
        if lowered == b"content-length" or (lowered == b"transfer-encoding" and b"chunked" in value.lower()):
            self.answer.framed = True

    def on_headers_complete(self) -> None:
        self.answer.status = self.parser.get_status_code()
        if self.head and self.answer.status >= 200:
            # The parser does not know the request was HEAD and would wait for the announced body: the answer
            # ends here, and the next exchange gets a fresh parser.
            self.parser = httptools.HttpResponseParser(self)
            self._complete(keep_alive=True)

    def on_body(self, body: bytes) -> None:
        if self.head:
            self.reusable = False  # a body after a HEAD answer: out of step
            return
        self.answer.chunks.append(body)

    def on_message_complete(self) -> None:
        if self.head and self.answer.status >= 200:
            return  # completed at its headers
        if self.answer.status < 200:
            self.answer = _Answer()  # 100 Continue and the like: the real answer follows
            return
        self._complete(keep_alive=self.parser.should_keep_alive())

    # the exchange

    def _complete(self, *, keep_alive: bool) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            self.close()
            return
        transport = self.transport
        # An answer that came before the whole request was written (an early 413, say) leaves the stream unknown.
        if not keep_alive or transport is None or transport.get_write_buffer_size():
            self.reusable = False
        waiter.set_result(self.answer)

    def _fail(self, exc: Exception) -> None:
        self.reusable = False
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()

    def _timed_out(self) -> None:
        self._fail(httpx.ReadTimeout("The upstream did not answer in time."))

    async def exchange(self, data: bytes, head: bool, deadline: float) -> _Answer:
        loop = self.pool.loop
        self.waiter = waiter = loop.create_future()
        self.answer = _Answer()
        self.head = head
        self.received = False
        timer = loop.call_at(deadline, self._timed_out)
        try:
            assert self.transport is not None
            self.transport.write(data)
            return await waiter
        finally:
            timer.cancel()
            self.waiter = None
            self.used = True

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None and not self.closed:
            self.transport.close()


class _Pool:
    """The keep-alive connections to one origin: at most `limit` open, idle ones reused newest first and closed
    after `expiry` seconds (below the upstream's own keep-alive timeout, so a connection the upstream is about to
    close is not reused)."""

    def __init__(self, host: str, port: int, tls: ssl.SSLContext | None, limit: int, expiry: float) -> None:
        self.loop = asyncio.get_running_loop()
        self.host, self.port, self.tls = host, port, tls
        self.limit, self.expiry = limit, expiry
        self.idle: list[_Connection] = []
        self.open = 0
        self.waiting: deque[asyncio.Future[None]] = deque()

    async def acquire(self, deadline: float, connect_timeout: float) -> _Connection:
        now = self.loop.time()
        while self.idle:
            conn = self.idle.pop()
            if not conn.closed and now - conn.idle_since < self.expiry:
                return conn
            conn.close()
        while self.open >= self.limit:
            slot = self.loop.create_future()
            self.waiting.append(slot)
            timer = self.loop.call_at(deadline, _expire, slot)
            try:
                await slot
            finally:
                timer.cancel()
                if slot in self.waiting:
                    self.waiting.remove(slot)
            if self.idle:
                conn = self.idle.pop()
                if not conn.closed and self.loop.time() - conn.idle_since < self.expiry:
                    return conn
                conn.close()
        self.open += 1
        try:
            wait = min(connect_timeout, deadline - self.loop.time())
            # asyncio.timeout, not wait_for: on 3.11 wait_for can lose a cancellation that meets a refused connect.
            async with asyncio.timeout(max(wait, 0.0)):
                _, conn = await self.loop.create_connection(
                    lambda: _Connection(self),
                    self.host,
                    self.port,
                    ssl=self.tls,
                    server_hostname=self.host if self.tls is not None else None,
                )
        except BaseException:
            self.open -= 1
            self._wake()
            raise
        conn.counted = True
        return conn

    def release(self, conn: _Connection) -> None:
        if conn.reusable and not conn.closed:
            conn.idle_since = self.loop.time()
            self.idle.append(conn)
            self._wake()
        else:
            conn.close()  # forget() follows from connection_lost

    def forget(self, conn: _Connection) -> None:
        if not conn.counted:
            return  # closed while being made: acquire() uncounted it
        conn.counted = False
        self.open -= 1
        if conn in self.idle:
            self.idle.remove(conn)
        self._wake()

    def _wake(self) -> None:
        while self.waiting:
            slot = self.waiting.popleft()
            if not slot.done():
                slot.set_result(None)
                return

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


def _expire(slot: asyncio.Future[None]) -> None:
    if not slot.done():
        slot.set_exception(httpx.PoolTimeout("No upstream connection became free in time."))


class Http1Transport(httpx.AsyncBaseTransport):
    # Below uvicorn's 5 s keep-alive timeout, so the gateway never reuses a connection the upstream is closing.
    def __init__(
        self, *, max_connections: int = 100, keepalive_expiry: float = 4.0, tls: ssl.SSLContext | None = None
    ) -> None:
        """``tls``: the context for https upstreams (default: the system's trust store, hostnames checked)."""
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self._pools: dict[tuple[str, str, int], _Pool] = {}
        self._tls = tls

    def _pool(self, scheme: str, host: str, port: int) -> _Pool:
        pool = self._pools.get((scheme, host, port))
        if pool is None:
            if scheme == "https":
                self._tls = self._tls or ssl.create_default_context()
            tls = self._tls if scheme == "https" else None
            # Created lazily, inside the running event loop that will use it.
            pool = self._pools[(scheme, host, port)] = _Pool(
                host, port, tls, self.max_connections, self.keepalive_expiry
            )
        return pool

    async def _send(self, pool: _Pool, data: bytes, head: bool, total: float, connect: float) -> _Answer:
        loop = pool.loop
        deadline = loop.time() + total
        try:
            conn = await pool.acquire(deadline, connect)
        except httpx.TransportError:
            raise
        except TimeoutError as exc:
            if loop.time() >= deadline:
                raise httpx.ReadTimeout("The upstream did not answer in time.") from exc
            raise httpx.ConnectTimeout("The upstream did not accept the connection in time.") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        try:
            return await conn.exchange(data, head, deadline)
        except BaseException:
            conn.close()
            raise
        finally:
            pool.release(conn)

    async def exchange(
        self,
        method: str,
        origin: tuple[str, str, int, str],
        target: str,
        headers: dict[str, str],
        body: bytes,
        *,
        total: float,
        connect: float,
    ) -> Relay:
        """One proxied call: `target` (path and query, already encoded) is sent as it is to `origin` (scheme,
        host, port, Host header), with `headers` and the whole `body`; the answer is the gateway's Relay."""
        from gateway.proxy import Relay

        lines = [f"{method} {target} HTTP/1.1", f"host: {origin[3]}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body or method in _BODY_METHODS:
            lines.append(f"content-length: {len(body)}")
        head = "\r\n".join(lines)
        _check_lines(head, len(lines))
        is_head = method == "HEAD"
        answer = await self._send(
            self._pool(origin[0], origin[1], origin[2]),
            head.encode("latin-1") + b"\r\n\r\n" + body,
            is_head,
            total,
            connect,
        )
        return Relay.of(answer.status, answer.headers, b"".join(answer.chunks), head=is_head)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        timeout: dict[str, Any] = request.extensions.get("timeout", {})
        # The read budget bounds the whole exchange: the gateway passes the time left of its per-call deadline.
        total = timeout.get("read") or 3600.0
        connect = timeout.get("connect") or total
        raw = [f"{request.method} ".encode("ascii") + url.raw_path + b" HTTP/1.1"]
        raw += [k + b": " + v for k, v in request.headers.raw if k.lower() not in _FRAMING]
        if body or request.method in _BODY_METHODS:
            raw.append(b"content-length: " + str(len(body)).encode())
        head = b"\r\n".join(raw)
        if head.count(b"\n") != len(raw) - 1 or head.count(b"\r") != len(raw) - 1:
            raise httpx.LocalProtocolError("A header contains a line break.", request=request)
        try:
            answer = await self._send(
                self._pool(url.scheme, url.host, port),
                head + b"\r\n\r\n" + body,
                request.method == "HEAD",
                total,
                connect,
            )
        except httpx.TransportError as exc:
            exc.request = request
            raise
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            content=b"".join(answer.chunks),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": answer.reason.strip()},
        )

    async def aclose(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()


def _check_lines(head: str, count: int) -> None:
    # A line break inside a name or value would let a caller's header smuggle another header or request upstream.
    if head.count("\n") != count - 1 or head.count("\r") != count - 1:
        raise httpx.LocalProtocolError("A header contains a line break.")

"""Pure ASGI middleware: request id propagation, access log, and Prometheus HTTP metrics by route template."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from metas_kit.context import auth_header_var, request_id_var
from metas_kit.errors import PROBLEM_JSON, TYPE_BASE, internal_error_problem
from metas_kit.metrics import HTTP_IN_FLIGHT, HTTP_LATENCY, HTTP_REQUESTS
from metas_kit.pagination import cursor_key_var

REQUEST_ID_HEADER = "x-request-id"
_VALID_RID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Health and metrics would drown the real traffic in the histograms; they are not counted.
UNMEASURED = frozenset({"/healthz", "/readyz", "/metrics"})
access_log = logging.getLogger("metas.access")
error_log = logging.getLogger("metas.errors")


class _RequestIds:
    """32 hex characters, unique per process and across processes: a random 64-bit prefix drawn at start (and
    again in a forked child) and a counter — no system call per request, unlike uuid4."""

    def __init__(self) -> None:
        self.reset()
        os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter) & 0xFFFFFFFFFFFFFFFF:016x}"


request_ids = _RequestIds()


class RequestContextMiddleware:
    """Takes X-Request-ID from the caller (or makes one), exposes it to logs and outbound calls,
    echoes it on the response, records metrics labelled by route template and logs one line per request."""

    def __init__(self, app: ASGIApp, service: str, cursor_key: bytes | None = None) -> None:
        self.app = app
        self.service = service
        self.cursor_key = cursor_key
        self.in_flight = HTTP_IN_FLIGHT.labels(service)
        # The labelled children, looked up once per (route, method[, status]): ``labels()`` validates and locks.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._latencies: dict[tuple[str, str], Any] = {}

    def _record(self, template: str, method: str, status: int, elapsed: float) -> None:
        counter = self._counters.get((template, method, status))
        if counter is None:
            counter = self._counters[(template, method, status)] = HTTP_REQUESTS.labels(
                self.service, template, method, str(status)
            )
        latency = self._latencies.get((template, method))
        if latency is None:
            latency = self._latencies[(template, method)] = HTTP_LATENCY.labels(self.service, template, method)
        counter.inc()
        latency.observe(elapsed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_rid = auth = None
        for key, value in scope.get("headers") or ():
            if key == b"x-request-id":
                raw_rid = value
            elif key == b"authorization":
                auth = value
        raw = raw_rid.decode("latin-1") if raw_rid is not None else ""
        rid = raw if raw and _VALID_RID.match(raw) else request_ids.next()
        rid_header = (b"x-request-id", rid.encode("latin-1"))
        rid_token = request_id_var.set(rid)
        auth_token = auth_header_var.set(auth.decode("latin-1") if auth else None)
        key_token = cursor_key_var.set(self.cursor_key)
        status = 500
        start = time.perf_counter()
        method = scope["method"]
        path = scope["path"]
        measured = path not in UNMEASURED
        if measured:
            self.in_flight.inc()

        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                hdrs = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                hdrs.append(rid_header)
                message["headers"] = hdrs
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            # Handled here, inside the request context, so the 500 problem carries the request id.
            error_log.exception("unhandled error", extra={"path": path, "method": method})
            if started:
                raise
            body = json.dumps(internal_error_problem(path, rid)).encode()
            await send_wrapper(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send_wrapper({"type": "http.response.body", "body": body})
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            if measured:
                self.in_flight.dec()
                self._record(template, method, status, elapsed)
                access_log.info(
                    "request",
                    extra={
                        "method": method,
                        "route": template,
                        "path": path,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(rid_token)
            auth_header_var.reset(auth_token)
            cursor_key_var.reset(key_token)


@dataclass(frozen=True, slots=True)
class RouteLimit:
    """A body limit of its own for requests of ``method`` whose path fully matches ``path``."""

    method: str
    path: re.Pattern[str]
    max_bytes: int


def route_limit(limits: Sequence[RouteLimit], method: str, path: str, default: int) -> int:
    for limit in limits:
        if limit.method == method and limit.path.fullmatch(path):
            return limit.max_bytes
    return default


class HeadAsGetMiddleware:
    """HEAD is answered as the GET of the same URL without its body (RFC 9110 §9.3.2: the same status and headers,
    ETag and Content-Length included). FastAPI routes declare GET alone, so HEAD was a 405 on every read. The
    application sees a GET (the read engine, the same access checks); the access log and the metrics, outside
    this middleware, still say HEAD."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


class BodyLimitMiddleware:
    """Every service bounds what a caller may send, not only the gateway: a body larger than ``max_bytes`` is a
    413, a body that does not arrive within ``timeout_seconds`` (a slow or stalled client) a 408, a query string
    longer than ``max_query_bytes`` a 414 — all problem+json, before the application sees the request.

    The body is read here (it is bounded) and handed to the application in one message; later ``receive`` calls
    (disconnect detection) go to the server as before. ``route_limits`` gives chosen routes a limit of their own
    (the gateway's evidence uploads): (method, full-match path pattern, bytes); every other route keeps
    ``max_bytes``."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        timeout_seconds: float,
        max_query_bytes: int,
        route_limits: Sequence[RouteLimit] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds
        self.max_query_bytes = max_query_bytes
        self.route_limits = tuple(route_limits)

    def limit_for(self, scope: Scope) -> int:
        return route_limit(self.route_limits, str(scope.get("method", "")), str(scope.get("path", "")), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string") or b"") > self.max_query_bytes:
            await _problem(
                send,
                scope,
                414,
                "uri-too-long",
                "URI too long",
                f"The query string exceeds {self.max_query_bytes} bytes.",
            )
            return
        limit = self.limit_for(scope)
        declared, chunked = _body_headers(scope)
        if not declared and not chunked:
            # No Content-Length and no chunked Transfer-Encoding: HTTP/1.1 says there is no body (RFC 9112 §6.3),
            # nothing to bound or wait for — the application reads the server's empty message directly.
            await self.app(scope, receive, send)
            return
        if declared is not None and declared > limit:
            await _problem(
                send,
                scope,
                413,
                "payload-too-large",
                "Payload too large",
                f"The request body exceeds {limit} bytes.",
            )
            return
        chunks: list[bytes] = []
        size = 0
        deadline = asyncio.get_running_loop().time() + self.timeout_seconds
        while True:
            try:
                # One deadline for the whole body. asyncio.timeout_at, unlike wait_for on Python 3.11, wraps no
                # task around each message read.
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                await _problem(
                    send,
                    scope,
                    408,
                    "request-timeout",
                    "Request timeout",
                    f"The request body did not arrive within {self.timeout_seconds:g} seconds.",
                    close=True,
                )
                return
            if message["type"] != "http.request":
                # The client went away before sending everything: let the application see the disconnect.
                first: Message = message
                break
            size += len(message.get("body", b""))
            if size > limit:
                await _problem(
                    send,
                    scope,
                    413,
                    "payload-too-large",
                    "Payload too large",
                    f"The request body exceeds {limit} bytes.",
                    close=True,
                )
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                first = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
                break
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return first
            return await receive()

        await self.app(scope, replay, send)


def _content_length(scope: Scope) -> int | None:
    return _body_headers(scope)[0]


def _body_headers(scope: Scope) -> tuple[int | None, bool]:
    """The declared Content-Length (None when absent or unreadable) and whether the body comes chunked. An
    unreadable Content-Length counts as a body to read (the server decides what it is), never as none."""
    length: int | None = None
    chunked = False
    for key, value in scope.get("headers") or []:
        key = key.lower()
        if key == b"content-length":
            try:
                length = int(value)
            except ValueError:
                chunked = True
        elif key == b"transfer-encoding":
            chunked = True
    return length, chunked


async def _problem(
    send: Send, scope: Scope, status: int, slug: str, title: str, detail: str, *, close: bool = False
) -> None:
    body_obj: dict[str, object] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": scope.get("path", ""),
    }
    rid = request_id_var.get()
    if rid:
        body_obj["request_id"] = rid
    body = json.dumps(body_obj).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    if close:
        # The rest of the body is not read: the connection cannot carry another request.
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

"""Forwarding one request to one upstream: pooled client, bounded body, retries for idempotent requests,
circuit breaker, and problem+json 502/503/504 when the upstream fails."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
from starlette.requests import Request
from starlette.responses import Response

from gateway.breaker import CircuitBreaker
from gateway.metrics import CIRCUIT_STATE, RETRIES, UPSTREAM_ERRORS
from gateway.transport import Http1Transport
from metas_kit.context import current_request_id
from metas_kit.errors import AppError, PayloadTooLarge, UpstreamError, UpstreamTimeout, UpstreamUnavailable

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "x-api-key",
        "authorization",
    }
)
# date and server are set by the gateway's own server; forwarding them too would send each header twice.
RESPONSE_DROP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "date", "server"}
)
_RESPONSE_DROP_BYTES = frozenset(h.encode() for h in RESPONSE_DROP)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_STATUSES = frozenset({502, 503, 504})
# Below this much time left, another attempt could only time out.
MIN_ATTEMPT_SECONDS = 0.05


@dataclass
class Upstream:
    name: str
    client: httpx.AsyncClient
    breaker: CircuitBreaker
    retries: int
    backoff: float
    # Bounded concurrency: a slow upstream makes callers wait briefly, not pile up without limit.
    slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(256))
    # The client make_upstreams built and the transport under it: while `client` is still that one, a proxied
    # call goes to the transport directly (no httpx Request, URL and Response objects per call). A client swapped
    # in later (tests point upstreams at in-process apps) is used through its httpx API.
    direct: Direct | None = None


@dataclass(frozen=True, slots=True)
class Direct:
    client: httpx.AsyncClient
    transport: Http1Transport
    origin: tuple[str, str, int, str]  # scheme, host, port, Host header
    prefix: str  # the base URL's path, without its trailing slash

    @classmethod
    def of(cls, client: httpx.AsyncClient, transport: Http1Transport) -> Direct:
        url = client.base_url
        port = url.port or (443 if url.scheme == "https" else 80)
        return cls(
            client,
            transport,
            (url.scheme, url.host, port, url.netloc.decode("ascii")),
            url.raw_path.decode("ascii").rstrip("/"),
        )


@dataclass(frozen=True, slots=True)
class Relay:
    """An upstream's answer as the gateway sends it: status, header list (lower-cased names, every header kept
    as sent — two Set-Cookie stay two — and the gateway's own content-length), body.

    The answer to a HEAD request has no body and keeps the upstream's content-length, the length the GET would
    have (RFC 9110 §9.3.2), or none: the length of the empty body held here would be a false 0."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    @classmethod
    def of(cls, status: int, raw_headers: Sequence[tuple[bytes, bytes]], body: bytes, *, head: bool = False) -> Relay:
        kept = [(k.lower(), v) for k, v in raw_headers if k.lower() not in _RESPONSE_DROP_BYTES]
        if status < 200 or status in (204, 304):
            return cls(status, kept, body)
        if head:
            declared = next((v.strip() for k, v in raw_headers if k.lower() == b"content-length"), b"")
            return cls(status, [(b"content-length", declared), *kept] if declared.isdigit() else kept, b"")
        return cls(status, [(b"content-length", str(len(body)).encode()), *kept], body)

    def response(self) -> Response:
        out = Response(self.body, status_code=self.status)
        out.raw_headers = self.headers
        return out


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


# Characters kept as they are in a forwarded path; everything else (spaces, controls, raw non-ASCII bytes) is
# percent-encoded, and existing %XX escapes pass through untouched.
PATH_SAFE = "/%:@!$&'()*+,;=-._~"


def upstream_path(request: Request, upstream: str, path: str) -> str:
    """The path to send upstream, taken from the raw request path so the caller's encoding survives: a decoded
    '%23' would become a fragment, '%2F' a separator, and a control character an invalid URL."""
    raw = request.scope.get("raw_path")
    prefix = f"/api/{upstream}".encode()
    if isinstance(raw, bytes) and raw.startswith(prefix + b"/"):
        return quote_from_bytes(raw[len(prefix) :], safe=PATH_SAFE)
    return quote_from_bytes(("/" + path).encode(), safe=PATH_SAFE.replace("%", ""))


def forward_headers(request: Request, authorization: str) -> dict[str, str]:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    headers["authorization"] = authorization
    rid = current_request_id()
    if rid:
        headers["x-request-id"] = rid
    client = request.client.host if request.client else ""
    prior = request.headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{prior}, {client}" if prior else client
    headers["x-forwarded-proto"] = request.scope.get("scheme", "http")
    return headers


def relay(resp: httpx.Response) -> Response:
    """The upstream's response as the gateway's, every header kept as sent (two Set-Cookie stay two)."""
    return Relay.of(resp.status_code, resp.headers.raw, resp.content, head=resp.request.method == "HEAD").response()


def console_headers(request: Request) -> dict[str, str]:
    """What the console is told: the browser's headers (cookies included) and who the browser is; never an
    Authorization or API key (the console authenticates people by their session cookie)."""
    headers = forward_headers(request, "")
    headers.pop("authorization", None)
    headers["x-forwarded-host"] = request.headers.get("host", "")
    return headers


def raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes):
        return quote_from_bytes(raw, safe=PATH_SAFE)
    return quote_from_bytes(request.url.path.encode(), safe=PATH_SAFE.replace("%", ""))


# A query the caller sent that can go upstream byte for byte (printable ASCII, no fragment); anything else takes
# the httpx path, which encodes it.
_PLAIN_QUERY = re.compile(r"[!$-~]*")


def _direct_target(upstream: Upstream, path: str, query: str) -> tuple[Direct, str] | None:
    """The direct route and the request target for a direct call, or None when the httpx path must build the URL
    (a swapped client, dot segments httpx would normalise away, a query needing encoding)."""
    direct = upstream.direct
    if direct is None or direct.client is not upstream.client or "/." in path or not _PLAIN_QUERY.fullmatch(query):
        return None
    return direct, f"{direct.prefix}{path}?{query}" if query else f"{direct.prefix}{path}"


def _circuit_gauge(upstream: Upstream) -> Any:
    gauge = _CIRCUIT_GAUGES.get(upstream.name)
    if gauge is None:
        gauge = _CIRCUIT_GAUGES[upstream.name] = CIRCUIT_STATE.labels(upstream.name)
    return gauge


_CIRCUIT_GAUGES: dict[str, Any] = {}


def may_retry(method: str, headers: dict[str, str]) -> bool:
    return method in SAFE_METHODS or "idempotency-key" in {k.lower() for k in headers}


def time_for_retry(loop: asyncio.AbstractEventLoop, deadline: float, upstream: Upstream, attempt: int) -> bool:
    """A retry is worth it only if, after its back-off, a useful share of the budget is left."""
    return deadline - loop.time() - upstream.backoff * (attempt + 1) > MIN_ATTEMPT_SECONDS


async def send(upstream: Upstream, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Relay:
    breaker = upstream.breaker
    retryable = may_retry(method, headers)
    # The configured upstream timeout bounds the whole call, retries included: a slow upstream costs the caller
    # one timeout, not (1 + retries) of them, and is not sent the same slow request again.
    configured = upstream.client.timeout
    budget = configured.read or 10.0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    attempt = 0
    direct = _direct_target(upstream, path, query)
    while True:
        if not breaker.allow():
            UPSTREAM_ERRORS.labels(upstream.name, "circuit_open").inc()
            _circuit_gauge(upstream).set(int(breaker.state))
            raise UpstreamUnavailable(
                f"The {upstream.name} service is failing; calls are paused for a moment.",
                headers={"Retry-After": str(max(1, round(breaker.retry_after())))},
                extra={"upstream": upstream.name},
            )
        kind: str | None = None
        try:
            async with upstream.slots:
                left = max(0.001, deadline - loop.time())
                if direct is not None:
                    route, target = direct
                    answer = await route.transport.exchange(
                        method,
                        route.origin,
                        target,
                        headers,
                        body,
                        total=left,
                        connect=min(configured.connect or left, left),
                    )
                else:
                    resp = await upstream.client.request(
                        method,
                        path,
                        params=httpx.QueryParams(query),
                        headers=headers,
                        content=body,
                        timeout=httpx.Timeout(left, connect=min(configured.connect or left, left)),
                    )
                    answer = Relay.of(resp.status_code, resp.headers.raw, resp.content, head=method == "HEAD")
        except httpx.InvalidURL as exc:
            raise AppError(f"The request URL cannot be forwarded: {exc}") from exc
        except httpx.ConnectError:
            # Nothing reached the upstream, so even a non-idempotent request may be sent again.
            kind, can_retry = "connect", True
        except httpx.TimeoutException:
            kind, can_retry = "timeout", retryable
        except httpx.TransportError:
            kind, can_retry = "protocol", retryable
        else:
            if answer.status in RETRY_STATUSES:
                breaker.record_failure()
                UPSTREAM_ERRORS.labels(upstream.name, "status_5xx").inc()
                if retryable and attempt < upstream.retries and time_for_retry(loop, deadline, upstream, attempt):
                    attempt += 1
                    RETRIES.labels(upstream.name).inc()
                    await asyncio.sleep(upstream.backoff * attempt)
                    continue
            else:
                breaker.record_success()
            _circuit_gauge(upstream).set(int(breaker.state))
            return answer
        breaker.record_failure()
        _circuit_gauge(upstream).set(int(breaker.state))
        UPSTREAM_ERRORS.labels(upstream.name, kind).inc()
        if can_retry and attempt < upstream.retries and time_for_retry(loop, deadline, upstream, attempt):
            attempt += 1
            RETRIES.labels(upstream.name).inc()
            await asyncio.sleep(upstream.backoff * attempt)
            continue
        extra = {"upstream": upstream.name}
        if kind == "connect":
            raise UpstreamUnavailable(f"The {upstream.name} service is not reachable.", extra=extra)
        if kind == "timeout":
            raise UpstreamTimeout(f"The {upstream.name} service did not answer in time.", extra=extra)
        raise UpstreamError(f"The {upstream.name} service broke the connection.", extra=extra)

"""Gateway app factory: `uvicorn --factory gateway.app:create_app`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import re
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from gateway.addresses import networks
from gateway.auth import AuthGuard, auth_router
from gateway.breaker import CircuitBreaker
from gateway.edge import ClientRequestIdMiddleware
from gateway.fastpath import ProxyFastPath
from gateway.identity import ApiKeyStore, VerifiedTokens, authenticate
from gateway.metrics import LATENCY, RATE_LIMITED, REQUESTS, UPSTREAM_UP
from gateway.oidc import Oidc, OidcConfig, parse_grant_map
from gateway.openapi import fetch_specs, merge
from gateway.proxy import (
    Direct,
    Relay,
    Upstream,
    console_headers,
    forward_headers,
    raw_path,
    read_body,
    send,
    upstream_path,
)
from gateway.ratelimit import RateLimiter
from gateway.sessions import Sessions
from gateway.settings import UPSTREAMS, GatewaySettings, get_settings
from gateway.transport import Http1Transport
from gateway.uploads import CONSOLE_EVIDENCE_FORM, OversizeUploadRedirect, console_form_limit
from metas_kit.errors import AppError, NotFound, TooManyRequests, install_error_handlers, problem_response
from metas_kit.health import health_router
from metas_kit.logging import configure_logging
from metas_kit.metrics import metrics_router
from metas_kit.middleware import BodyLimitMiddleware, RequestContextMiddleware, RouteLimit, route_limit

# The routes whose body may exceed max_body_bytes: an evidence file (settings.evidence_max_body_bytes), sent to
# execution's API or through the console's forms (gateway/uploads.py).
EVIDENCE_UPLOAD = re.compile(r"/api/execution/v1/plans/[^/]+/registrations/[^/]+/[^/]+/evidence")


class GatewayMisconfigured(AppError):
    status, type_slug, title = 500, "gateway-misconfigured", "Gateway misconfigured"


PROXY_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
PROBE_INTERVAL_SECONDS = 2.0


def route_label(upstream: str, path: str, status: int) -> str:
    """Bounded route label: /api/<svc>/v1/<collection>; anything the upstream did not know is '<other>'."""
    if status == 404:
        return f"/api/{upstream}/<other>"
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "v1":
        return f"/api/{upstream}/v1/{parts[1].split(':')[0]}"
    return f"/api/{upstream}/<other>"


def make_upstreams(settings: GatewaySettings, urls: dict[str, str] | None = None) -> dict[str, Upstream]:
    out: dict[str, Upstream] = {}
    ca_file = settings.upstream_ca_file
    tls = ssl.create_default_context(cafile=str(ca_file)) if ca_file is not None else None
    for name, url in (urls if urls is not None else settings.upstream_urls()).items():
        transport = Http1Transport(max_connections=settings.max_connections_per_upstream, tls=tls)
        client = httpx.AsyncClient(
            base_url=url,
            timeout=httpx.Timeout(settings.upstream_timeout_seconds, connect=settings.upstream_connect_timeout_seconds),
            # httpx API over the gateway's own HTTP/1.1 pool (see transport.py).
            transport=transport,
        )
        out[name] = Upstream(
            name=name,
            client=client,
            breaker=CircuitBreaker(settings.breaker_failure_threshold, settings.breaker_reset_seconds),
            retries=settings.retries,
            backoff=settings.retry_backoff_seconds,
            direct=Direct.of(client, transport),
        )
    return out


async def probe_forever(upstreams: dict[str, Upstream]) -> None:
    while True:
        for name, up in upstreams.items():
            try:
                resp = await up.client.get("/readyz", timeout=1.0)
                UPSTREAM_UP.labels(name).set(1 if resp.status_code == 200 else 0)
            except httpx.HTTPError:
                UPSTREAM_UP.labels(name).set(0)
        await asyncio.sleep(PROBE_INTERVAL_SECONDS)


def make_oidc_config(settings: GatewaySettings) -> OidcConfig | None:
    if not settings.oidc_issuer:
        return None
    client_id, secret, redirect = settings.oidc_client_id, settings.oidc_client_secret, settings.oidc_redirect_url
    if not client_id or secret is None or not redirect:
        raise ValueError(
            "OpenID Connect sign-in needs METAS_GATEWAY_OIDC_CLIENT_ID, _OIDC_CLIENT_SECRET and _OIDC_REDIRECT_URL"
        )
    return OidcConfig(
        issuer=settings.oidc_issuer,
        client_id=client_id,
        client_secret=secret.get_secret_value(),
        redirect_url=redirect,
        scopes=settings.oidc_scopes,
        username_claim=settings.oidc_username_claim,
        grants_claim=settings.oidc_grants_claim,
        grant_map=parse_grant_map(settings.oidc_grant_map),
        algorithms=tuple(settings.oidc_algorithms),
    )


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
    keys = ApiKeyStore.load(settings.api_keys, settings.api_keys_file)
    limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
    trusted = networks(settings.trusted_proxies)
    oidc_config = make_oidc_config(settings)
    guard = AuthGuard(RateLimiter(1.0 / settings.auth_failure_refill_seconds, settings.auth_failure_burst), trusted)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("gateway", settings.log_level, settings.log_json)
        app.state.upstreams = make_upstreams(settings)
        consoles = make_upstreams(settings, {"console": settings.console_url}) if settings.console_enabled else {}
        app.state.console = consoles.get("console")
        app.state.sessions = (
            Sessions(
                app.state.upstreams["accounts"],
                secret,
                settings.jwt_issuer,
                cache_seconds=settings.session_cache_seconds,
            )
            if secret
            else None
        )
        probe = asyncio.create_task(probe_forever(app.state.upstreams))
        app.state.oidc = Oidc(oidc_config, secret) if oidc_config is not None and secret else None
        gc.freeze()  # start-up objects live as long as the process: keep them out of full collections
        try:
            yield
        finally:
            probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await probe
            for up in [*app.state.upstreams.values(), *consoles.values()]:
                await up.client.aclose()
            if app.state.oidc is not None:
                await app.state.oidc.aclose()

    app = FastAPI(
        title="metas gateway",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # FastAPI's native OpenTelemetry hooks look up the global providers on every request (~1.5 % of the
        # gateway's CPU per proxied call); the project exports Prometheus metrics and JSON logs, not OpenTelemetry.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.auth_guard = guard
    app.state.jwt_secret = secret
    app.state.jwt_issuer = settings.jwt_issuer
    install_error_handlers(app)
    # Innermost first: limits run inside the request context (their 408/413/414 carry the gateway's request id),
    # the client's request id is moved aside before that context takes its own.
    form_limit = console_form_limit(settings.evidence_max_body_bytes)
    body_limits = [
        RouteLimit("POST", EVIDENCE_UPLOAD, settings.evidence_max_body_bytes),
        RouteLimit("POST", CONSOLE_EVIDENCE_FORM, form_limit),
    ]
    app.add_middleware(
        BodyLimitMiddleware,
        route_limits=body_limits,
        max_bytes=settings.max_body_bytes,
        timeout_seconds=settings.body_timeout_seconds,
        max_query_bytes=settings.max_query_bytes,
    )
    # Outside the body limit: a console form with files too large is sent back to its page, not given a bare 413.
    app.add_middleware(
        OversizeUploadRedirect,
        max_bytes=form_limit,
        file_max_bytes=settings.evidence_max_body_bytes,
        drain_max_bytes=4 * form_limit,
        timeout_seconds=settings.body_timeout_seconds,
    )
    app.add_middleware(RequestContextMiddleware, service="gateway")
    app.add_middleware(ClientRequestIdMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=PROXY_METHODS,
            allow_headers=[
                "authorization",
                "content-type",
                "if-match",
                "if-none-match",
                "idempotency-key",
                "x-request-id",
                "x-api-key",
                "x-csrf-token",
            ],
            expose_headers=["etag", "x-request-id", "location", "retry-after"],
            max_age=600,
        )

    checks: dict[str, Any] = {}
    for name in UPSTREAMS:

        async def check(request: Request, _name: str = name) -> None:
            up = request.app.state.upstreams[_name]
            resp = await up.client.get("/readyz", timeout=1.5)
            if resp.status_code != 200:
                raise RuntimeError(f"{_name} not ready")

        checks[name] = check
    app.include_router(health_router(checks))
    metrics_networks = networks(settings.metrics_networks)

    async def internal_only(request: Request) -> None:
        # Prometheus scrapes the gateway from the internal network; the public edge does not show its metrics.
        peer = request.client.host if request.client else ""
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            address = None
        if address is None or not any(address in n for n in metrics_networks):
            raise NotFound("Not found.")

    app.include_router(metrics_router(), dependencies=[Depends(internal_only)])

    async def docs_reader(request: Request) -> None:
        if not settings.docs_enabled:
            raise NotFound("The API documentation is switched off on this gateway.")
        if settings.docs_public:
            return
        if not secret:
            raise GatewayMisconfigured("The gateway has no JWT secret configured; it refuses every call.")
        key = guard.check(request)
        try:
            await authenticate(request, secret, settings.jwt_issuer, keys, request.app.state.sessions)
        except AppError as exc:
            if exc.status == 401:
                guard.failed(key)
            raise

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(docs_reader)])
    async def docs() -> Response:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="metas API")

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(docs_reader)])
    async def openapi(request: Request) -> JSONResponse:
        clients = {n: u.client for n, u in request.app.state.upstreams.items()}
        specs, missing = await fetch_specs(clients)
        doc = merge(specs, version=app.version)
        if missing:
            doc["info"]["x-missing-services"] = missing
        return JSONResponse(doc)

    app.include_router(auth_router(absolute_seconds=settings.session_absolute_seconds))

    tokens = VerifiedTokens()
    # Metric children by label values: labels() takes a lock and builds a key on every call.
    requests_by: dict[tuple[str, str, str, str], Any] = {}
    latency_by: dict[tuple[str, str], Any] = {}

    async def exchange(request: Request, upstream: str, path: str) -> Relay:
        """One proxied API call: authentication, throttling, the upstream call (breaker, retries), metrics."""
        up = request.app.state.upstreams.get(upstream)
        if up is None:
            raise NotFound(f"No service called '{upstream}'; try one of {list(UPSTREAMS)}.")
        if not path.startswith("v1/"):
            # Health, metrics and per-service docs are for the internal network, not the public edge.
            raise NotFound(f"Only the services' API (/api/{upstream}/v1/…) is routed.")
        start = time.perf_counter()
        status = 500
        method = request.method
        try:
            if not secret:
                raise GatewayMisconfigured("The gateway has no JWT secret configured; it refuses every call.")
            key = guard.check(request)
            try:
                caller = await authenticate(
                    request, secret, settings.jwt_issuer, keys, request.app.state.sessions, tokens
                )
            except AppError as exc:
                if exc.status == 401:  # a refusal by accounts (an ended session) counts like a bad token
                    guard.failed(key)
                raise
            wait = limiter.take(caller.principal.sub)
            if wait > 0:
                RATE_LIMITED.inc()
                raise TooManyRequests(
                    "Too many requests from this client.", headers={"Retry-After": str(max(1, round(wait)))}
                )
            # The scope's path, as the kit's BodyLimitMiddleware matches it (request.url would build a whole URL).
            limit = route_limit(body_limits, method, request.scope["path"], settings.max_body_bytes)
            body = await read_body(request, limit)
            headers = forward_headers(request, caller.authorization)
            target = upstream_path(request, upstream, path)
            answer = await send(up, method, target, request.scope["query_string"].decode("latin-1"), headers, body)
            status = answer.status
            return answer
        except AppError as exc:
            status = exc.status
            raise
        finally:
            label = (upstream, route_label(upstream, path, status), method, str(status))
            counter = requests_by.get(label)
            if counter is None:
                counter = requests_by[label] = REQUESTS.labels(*label)
            counter.inc()
            timing = latency_by.get((upstream, method))
            if timing is None:
                timing = latency_by[(upstream, method)] = LATENCY.labels(upstream, method)
            timing.observe(time.perf_counter() - start)

    @app.api_route("/api/{upstream}/{path:path}", methods=PROXY_METHODS, include_in_schema=False)
    async def proxy(upstream: str, path: str, request: Request) -> Response:
        return (await exchange(request, upstream, path)).response()

    async def fast_proxy(scope: Scope, receive: Receive, send_message: Send, upstream: str, path: str) -> None:
        request = Request(scope, receive)
        try:
            answer = await exchange(request, upstream, path)
        except AppError as exc:
            problem = problem_response(exc.status, exc.to_problem(request.url.path), exc.headers)
            await problem(scope, receive, send_message)
            return
        await send_message({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
        await send_message({"type": "http.response.body", "body": answer.body})

    proxy_route = next(r for r in app.router.routes if getattr(r, "endpoint", None) is proxy)
    # Innermost of the middleware (add_middleware would put it outermost): the client request id, the request
    # context (request id, access log, HTTP metrics), the body limit and CORS still apply to every proxied call.
    app.user_middleware.append(
        Middleware(ProxyFastPath, handler=fast_proxy, upstreams=frozenset(UPSTREAMS), route=proxy_route)
    )

    # Last: every path that is not the API (nor health, metrics, docs) is the web console's.
    @app.api_route("/{path:path}", methods=PROXY_METHODS, include_in_schema=False)
    async def console(path: str, request: Request) -> Response:
        up = request.app.state.console
        if up is None or path == "api" or path.startswith("api/"):
            raise NotFound("Nothing here: the API is under /api/<service>/…")
        limit = route_limit(body_limits, request.method, request.url.path, settings.max_body_bytes)
        body = await read_body(request, limit)
        answer = await send(up, request.method, raw_path(request), request.url.query, console_headers(request), body)
        return answer.response()

    return app

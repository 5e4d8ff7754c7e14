"""Service-to-service HTTP: one pooled client per upstream, timeouts, request-id and identity propagation."""

from __future__ import annotations

import httpx

from metas_kit.auth import ANY_ORG, Grant, Principal, issue_token
from metas_kit.context import current_request_id


def make_client(
    base_url: str,
    *,
    timeout: float = 5.0,
    connect_timeout: float | None = None,
    service_name: str = "metas",
    jwt_secret: str | None = None,
    max_connections: int = 100,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An AsyncClient to create once (in the lifespan) and reuse: never one per request.

    Each request carries the current X-Request-ID and, when a secret is given, a short-lived token of the
    calling service (role ``service``) so the upstream can verify who is asking."""

    async def add_headers(request: httpx.Request) -> None:
        rid = current_request_id()
        if rid and "x-request-id" not in request.headers:
            request.headers["x-request-id"] = rid
        if jwt_secret and "authorization" not in request.headers:
            token = issue_token(
                Principal(f"service:{service_name}", grants=[Grant("service", ANY_ORG)]),
                jwt_secret,
                ttl_seconds=300,
            )
            request.headers["authorization"] = f"Bearer {token}"

    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout, connect=connect_timeout or min(timeout, 2.0)),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        event_hooks={"request": [add_headers]},
        headers={"user-agent": f"metas-{service_name}"},
        transport=transport,
    )

"""What the gateway decides on its own, before any upstream is called: authentication, API keys, body size,
CORS, unknown services, bounded route labels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app, route_label
from gateway.identity import hash_api_key
from gateway.settings import GatewaySettings
from metas_dev.cluster import free_port


@pytest.fixture
async def gateway(jwt_secret: str) -> AsyncIterator[httpx.AsyncClient]:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: any upstream call would fail
    settings = GatewaySettings(
        jwt_secret=jwt_secret,
        planning_url=dead,
        execution_url=dead,
        scoring_url=dead,
        budget_url=dead,
        max_body_bytes=1000,
        cors_origins=["https://app.example.gov"],
        api_keys={hash_api_key("sys-key"): {"sub": "system:x", "roles": ["viewer"]}},
        retries=0,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
            yield c


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = resp.json()
    return body


async def test_no_credentials_is_401_with_www_authenticate(gateway: httpx.AsyncClient) -> None:
    resp = await gateway.get("/api/planning/v1/plans")
    problem(resp, 401)
    assert resp.headers["www-authenticate"] == "Bearer"


async def test_expired_and_foreign_tokens_are_refused(gateway: httpx.AsyncClient, jwt_secret: str) -> None:
    from metas_kit.auth import Principal, issue_token

    foreign = issue_token(Principal("a", frozenset({"admin"})), "another-secret-" + "x" * 32, ttl_seconds=60)
    problem(await gateway.get("/api/planning/v1/plans", headers={"authorization": f"Bearer {foreign}"}), 401)
    expired = issue_token(Principal("a", frozenset({"admin"})), jwt_secret, ttl_seconds=-10)
    body = problem(await gateway.get("/api/planning/v1/plans", headers={"authorization": f"Bearer {expired}"}), 401)
    assert "expired" in body["detail"]
    problem(await gateway.get("/api/planning/v1/plans", headers={"authorization": "Basic abc"}), 401)
    problem(await gateway.get("/api/planning/v1/plans", headers={"x-api-key": "wrong"}), 401)


async def test_known_api_key_passes_auth_then_meets_the_dead_upstream(gateway: httpx.AsyncClient) -> None:
    body = problem(await gateway.get("/api/planning/v1/plans", headers={"x-api-key": "sys-key"}), 503)
    assert body["upstream"] == "planning"


async def test_body_over_the_limit_is_413_before_any_upstream_call(gateway: httpx.AsyncClient, token_for: Any) -> None:
    resp = await gateway.post(
        "/api/planning/v1/plans", content=b"x" * 1001, headers={"authorization": token_for("admin")}
    )
    problem(resp, 413)


async def test_unknown_service_is_404(gateway: httpx.AsyncClient, token_for: Any) -> None:
    problem(await gateway.get("/api/payroll/v1/x", headers={"authorization": token_for("admin")}), 404)


async def test_cors_preflight_only_for_configured_origins(gateway: httpx.AsyncClient) -> None:
    ok = await gateway.options(
        "/api/planning/v1/plans",
        headers={
            "origin": "https://app.example.gov",
            "access-control-request-method": "PUT",
            "access-control-request-headers": "if-match",
        },
    )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://app.example.gov"
    other = await gateway.options(
        "/api/planning/v1/plans",
        headers={"origin": "https://evil.example", "access-control-request-method": "PUT"},
    )
    assert "access-control-allow-origin" not in other.headers


def test_route_labels_are_bounded() -> None:
    assert route_label("planning", "v1/plans/ii-2024-quar/tree", 200) == "/api/planning/v1/plans"
    assert route_label("planning", "v1/plans:import", 201) == "/api/planning/v1/plans"
    assert route_label("planning", "v1/random-junk-123", 404) == "/api/planning/<other>"
    assert route_label("planning", "healthz", 200) == "/api/planning/<other>"

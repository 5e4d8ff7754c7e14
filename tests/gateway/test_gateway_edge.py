"""What the gateway decides on its own, before any upstream is called: authentication, API keys, body size,
CORS, unknown services, bounded route labels."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import create_app, route_label
from gateway.identity import hash_api_key
from gateway.settings import GatewaySettings
from metas_dev.cluster import free_port


def edge_settings(jwt_secret: str, **overrides: Any) -> GatewaySettings:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: any upstream call would fail
    values: dict[str, Any] = {
        "jwt_secret": jwt_secret,
        "planning_url": dead,
        "execution_url": dead,
        "scoring_url": dead,
        "budget_url": dead,
        "accounts_url": dead,
        "console_url": dead,
        "max_body_bytes": 1000,
        "cors_origins": ["https://app.example.gov"],
        "api_keys": {hash_api_key("sys-key"): {"sub": "system:x", "roles": ["viewer"]}},
        "retries": 0,
    }
    return GatewaySettings(**{**values, **overrides})


async def serve(settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as c:
            yield c


@pytest.fixture
async def gateway(jwt_secret: str) -> AsyncIterator[httpx.AsyncClient]:
    async for client in serve(edge_settings(jwt_secret)):
        yield client


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


@pytest.mark.parametrize(
    ("method", "path", "size", "cut"),
    [
        ("POST", "/api/execution/v1/plans/p/registrations/I-1/2014-01/evidence", 4000, False),
        ("POST", "/api/execution/v1/plans/p/registrations/I-1/2014-01/evidence", 5001, True),
        ("PUT", "/api/execution/v1/plans/p/registrations/I-1/2014-01/evidence", 1001, True),  # only the upload
        ("POST", "/api/execution/v1/plans/p/registrations/I-1/2014-01/evidence/7", 1001, True),
        ("PUT", "/api/execution/v1/plans/p/registrations/I-1/2014-01", 1001, True),
        ("POST", "/api/planning/v1/plans/p/registrations/I-1/2014-01/evidence", 1001, True),  # another service
    ],
)
async def test_the_evidence_upload_route_has_its_own_body_limit(
    jwt_secret: str, token_for: Any, method: str, path: str, size: int, cut: bool
) -> None:
    settings = edge_settings(jwt_secret, evidence_max_body_bytes=5000)  # and max_body_bytes 1000 elsewhere
    async for client in serve(settings):
        resp = await client.request(method, path, content=b"x" * size, headers={"authorization": token_for("admin")})
        if cut:
            problem(resp, 413)
        else:
            assert resp.status_code in (502, 503), resp.text  # through both limits, to the (dead) upstream


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


async def test_only_the_services_v1_api_is_routed(gateway: httpx.AsyncClient, token_for: Any) -> None:
    """/metrics, health and per-service docs of the services stay on the internal network."""
    admin = {"authorization": token_for("admin")}
    for path in ("metrics", "readyz", "healthz", "openapi.json", "docs", "v2/x", "v1"):
        body = problem(await gateway.get(f"/api/planning/{path}", headers=admin), 404)
        assert "/api/planning/v1/" in body["detail"]
    # A v1 path goes on to the (dead) upstream.
    problem(await gateway.get("/api/planning/v1/plans", headers=admin), 503)


async def test_docs_need_authentication_unless_public_or_switched_off(jwt_secret: str, token_for: Any) -> None:
    async for gw in serve(edge_settings(jwt_secret)):
        problem(await gw.get("/openapi.json"), 401)
        problem(await gw.get("/docs"), 401)
        docs = await gw.get("/docs", headers={"authorization": token_for("viewer")})
        assert docs.status_code == 200
        assert "swagger" in docs.text.lower()
        spec = await gw.get("/openapi.json", headers={"x-api-key": "sys-key"})
        assert spec.status_code == 200
        assert spec.json()["info"]["x-missing-services"]  # every upstream is down here
    async for gw in serve(edge_settings(jwt_secret, docs_public=True)):
        assert (await gw.get("/openapi.json")).status_code == 200
    async for gw in serve(edge_settings(jwt_secret, docs_enabled=False)):
        problem(await gw.get("/openapi.json", headers={"authorization": token_for("admin")}), 404)
        problem(await gw.get("/docs", headers={"authorization": token_for("admin")}), 404)


async def test_gateway_metrics_only_for_the_internal_network(jwt_secret: str) -> None:
    async for gw in serve(edge_settings(jwt_secret)):  # the test client is 127.0.0.1: internal by default
        resp = await gw.get("/metrics")
        assert resp.status_code == 200
        assert "metas_gateway_requests_total" in resp.text
    async for gw in serve(edge_settings(jwt_secret, metrics_networks=["10.0.0.0/8"])):
        problem(await gw.get("/metrics"), 404)


async def test_a_stalled_body_is_a_408_problem(jwt_secret: str, token_for: Any) -> None:
    async def slow() -> AsyncIterator[bytes]:
        yield b'{"a":'
        await asyncio.sleep(1.0)
        yield b"1}"

    async for gw in serve(edge_settings(jwt_secret, body_timeout_seconds=0.3)):
        resp = await gw.post("/api/planning/v1/plans", content=slow(), headers={"authorization": token_for("admin")})
        body = problem(resp, 408)
        assert "0.3 seconds" in body["detail"]


async def test_sign_in_is_refused_cleanly_when_accounts_is_down(gateway: httpx.AsyncClient) -> None:
    body = problem(await gateway.post("/api/auth/sign-in", json={"username": "a", "password": "b"}), 503)
    assert body["upstream"] == "accounts"
    problem(await gateway.get("/api/auth/me", headers={"authorization": "Session " + "A" * 43}), 503)
    problem(await gateway.get("/api/auth/oidc/start"), 404)  # not configured here


async def test_the_console_route_is_a_503_problem_when_the_console_is_down(gateway: httpx.AsyncClient) -> None:
    body = problem(await gateway.get("/"), 503)
    assert body["upstream"] == "console"
    problem(await gateway.get("/api/nothing"), 404)

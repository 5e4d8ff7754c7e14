"""The five real processes talking real HTTP: every service reachable through the gateway, failures of an
upstream reported as problem+json within the configured timeout, and recovery when it returns."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from metas_dev.cluster import SERVICES, Cluster

pytestmark = pytest.mark.integration


def test_every_service_answers_through_the_gateway(cluster: Cluster, token_for: Callable[..., str]) -> None:
    gw = cluster.config.url("gateway")
    headers = {"authorization": token_for("admin"), "x-request-id": "it-every-service"}
    for name in SERVICES:
        resp = httpx.get(f"{gw}/api/{name}/v1/audit", headers=headers, timeout=10)
        assert resp.status_code == 200, (name, resp.text)
        assert resp.json()["items"] is not None
        # The caller's request id comes back apart; the gateway's own id is the one of the audit trail.
        assert resp.headers["x-client-request-id"] == "it-every-service"
        assert resp.headers["x-request-id"] != "it-every-service"
        # Hop headers are the gateway's own, each once (not the upstream's copy beside them).
        assert len(resp.headers.get_list("date")) == 1
        assert len(resp.headers.get_list("server")) == 1


def test_head_through_the_gateway_is_the_get_without_its_body(cluster: Cluster, token_for: Callable[..., str]) -> None:
    gw = cluster.config.url("gateway")
    headers = {"authorization": token_for("admin")}
    for name in SERVICES:
        get = httpx.get(f"{gw}/api/{name}/v1/audit", headers=headers, timeout=10)
        head = httpx.head(f"{gw}/api/{name}/v1/audit", headers=headers, timeout=10)
        assert (get.status_code, head.status_code) == (200, 200), name
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers.get("content-length") == get.headers.get("content-length")
    assert httpx.head(f"{gw}/api/planning/v1/audit", timeout=10).status_code == 401


def test_gateway_requires_authentication(cluster: Cluster) -> None:
    gw = cluster.config.url("gateway")
    resp = httpx.get(f"{gw}/api/planning/v1/audit", timeout=10)
    assert resp.status_code == 401
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["type"].endswith("/unauthorized")


def test_service_reached_directly_is_not_open(cluster: Cluster, token_for: Callable[..., str]) -> None:
    for name in SERVICES:
        direct = cluster.config.url(name)
        assert httpx.get(f"{direct}/v1/audit", timeout=10).status_code == 401
        forged = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4Iiwicm9sZXMiOlsiYWRtaW4iXX0.bad"
        assert httpx.get(f"{direct}/v1/audit", headers={"authorization": forged}, timeout=10).status_code == 401
        ok = httpx.get(f"{direct}/v1/audit", headers={"authorization": token_for("admin")}, timeout=10)
        assert ok.status_code == 200


def test_gateway_readiness_and_merged_openapi(cluster: Cluster, token_for: Callable[..., str]) -> None:
    gw = cluster.config.url("gateway")
    ready = httpx.get(f"{gw}/readyz", timeout=10).json()
    assert ready["status"] == "ready"
    assert set(ready["checks"]) == {"planning", "execution", "scoring", "budget", "accounts"}
    assert httpx.get(f"{gw}/openapi.json", timeout=10).status_code == 401  # docs are for authenticated callers
    spec = httpx.get(f"{gw}/openapi.json", headers={"authorization": token_for("viewer")}, timeout=10).json()
    for name in SERVICES:
        assert f"/api/{name}/v1/audit" in spec["paths"]
    assert "planning__Problem" in spec["components"]["schemas"]
    assert "x-missing-services" not in spec["info"]


def test_gateway_metrics_label_routes_not_ids(cluster: Cluster, token_for: Callable[..., str]) -> None:
    gw = cluster.config.url("gateway")
    headers = {"authorization": token_for("admin")}
    httpx.get(f"{gw}/api/planning/v1/audit", headers=headers, timeout=10)
    text = httpx.get(f"{gw}/metrics", timeout=10).text
    assert (
        'metas_gateway_requests_total{method="GET",route="/api/planning/v1/audit",status="200",upstream="planning"}'
        in text
    )
    assert "metas_gateway_upstream_up" in text


def test_upstream_killed_gives_503_then_recovers(cluster: Cluster, token_for: Callable[..., str]) -> None:
    gw = cluster.config.url("gateway")
    headers = {"authorization": token_for("admin")}
    cluster.kill_one("budget")
    try:
        started = time.monotonic()
        resp = httpx.get(f"{gw}/api/budget/v1/audit", headers=headers, timeout=30)
        elapsed = time.monotonic() - started
        assert resp.status_code == 503
        assert resp.headers["content-type"] == "application/problem+json"
        body = resp.json()
        assert body["upstream"] == "budget"
        assert body["type"].endswith("/upstream-unavailable") or body["type"].endswith("/upstream-timeout")
        # Within the configured upstream timeout (3 s in this cluster), retries included.
        assert elapsed < cluster.config.upstream_timeout_seconds
        # The other services are unaffected.
        assert httpx.get(f"{gw}/api/planning/v1/audit", headers=headers, timeout=10).status_code == 200
        ready = httpx.get(f"{gw}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["checks"]["budget"].startswith("fail")
    finally:
        cluster.start_one("budget")
        cluster.wait_ready(("budget",), timeout=60)
    # Recovery: the breaker lets a trial call through once its reset period has passed.
    deadline = time.monotonic() + 30
    status = 0
    while time.monotonic() < deadline:
        status = httpx.get(f"{gw}/api/budget/v1/audit", headers=headers, timeout=10).status_code
        if status == 200:
            break
        time.sleep(0.5)
    assert status == 200

"""The gateway as a real process in front of a real (fake) upstream process: timeouts answered as 504 within
the configured budget without piling requests up, retries only for idempotent requests, the circuit breaker
per upstream, the per-client rate limit, the request size limit and CORS for configured frontends."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from rel_support import fake_upstream, gateway_process

pytestmark = pytest.mark.integration

TIMEOUT = 1.0
FRONTEND = "https://painel.metas.example"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fake_upstream(tmp_path_factory.mktemp("fake")) as url:
        yield url


@pytest.fixture(scope="module")
def lenient_gateway(upstream: str, jwt_secret: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Retries on (2), breaker practically off, generous rate limit: isolates timeouts and retries."""
    env = {
        "METAS_GATEWAY_RETRIES": "2",
        "METAS_GATEWAY_BREAKER_FAILURE_THRESHOLD": "100000",
        "METAS_GATEWAY_RATE_LIMIT_PER_SECOND": "10000",
        "METAS_GATEWAY_RATE_LIMIT_BURST": "10000",
    }
    with gateway_process(upstream, jwt_secret, tmp_path_factory.mktemp("gw-lenient"), timeout=TIMEOUT, env=env) as gw:
        yield gw


@pytest.fixture(scope="module")
def strict_gateway(upstream: str, jwt_secret: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """No retries, breaker opening after 3 failures for 1 s, 5 requests/s per client, 1 KiB bodies, CORS."""
    env = {
        "METAS_GATEWAY_RETRIES": "0",
        "METAS_GATEWAY_BREAKER_FAILURE_THRESHOLD": "3",
        "METAS_GATEWAY_BREAKER_RESET_SECONDS": "1.0",
        "METAS_GATEWAY_RATE_LIMIT_PER_SECOND": "5",
        "METAS_GATEWAY_RATE_LIMIT_BURST": "5",
        "METAS_GATEWAY_MAX_BODY_BYTES": "1024",
        "METAS_GATEWAY_CORS_ORIGINS": f'["{FRONTEND}"]',
    }
    with gateway_process(upstream, jwt_secret, tmp_path_factory.mktemp("gw-strict"), timeout=TIMEOUT, env=env) as gw:
        yield gw


def hits(upstream: str, tag: str) -> int:
    return int(httpx.get(f"{upstream}/v1/hits/{tag}", timeout=5).json()["hits"])


def assert_problem(resp: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = resp.json()
    assert str(body["type"]).endswith("/" + slug), body
    assert body["status"] == status
    return body


# --- slow upstream ------------------------------------------------------------------------------------------


def test_slow_upstream_gives_504_within_the_timeout_retries_included(
    lenient_gateway: str, upstream: str, token_for: Callable[..., str]
) -> None:
    headers = {"authorization": token_for("viewer", sub="slow-one")}
    started = time.monotonic()
    resp = httpx.get(f"{lenient_gateway}/api/planning/v1/sleep/5000/slow-get", headers=headers, timeout=15)
    elapsed = time.monotonic() - started
    body = assert_problem(resp, 504, "upstream-timeout")
    assert body["upstream"] == "planning"
    # The caller waits the configured budget, not budget × (1 + retries): a slow upstream is not hit again.
    # (Without the overall deadline a GET would take 3 × 1 s: two retries after the first timeout.)
    assert TIMEOUT <= elapsed < TIMEOUT + 0.9, elapsed
    # A write that timed out may have been applied: it is never sent twice.
    resp = httpx.post(f"{lenient_gateway}/api/planning/v1/sleep/5000/slow-post", headers=headers, timeout=15)
    assert_problem(resp, 504, "upstream-timeout")
    assert hits(upstream, "slow-post") == 1


def test_concurrent_calls_to_a_slow_upstream_do_not_pile_up(
    lenient_gateway: str, token_for: Callable[..., str]
) -> None:
    n = 50

    async def scenario() -> tuple[list[tuple[int, float]], list[float]]:
        async with httpx.AsyncClient(timeout=20, limits=httpx.Limits(max_connections=n + 5)) as client:

            async def slow_call(i: int) -> tuple[int, float]:
                headers = {"authorization": token_for("viewer", sub=f"slow-{i}")}
                t0 = time.monotonic()
                r = await client.get(f"{lenient_gateway}/api/scoring/v1/sleep/4000/pile", headers=headers)
                if r.status_code != 200:
                    assert r.headers["content-type"] == "application/problem+json"
                return r.status_code, time.monotonic() - t0

            async def health_probes() -> list[float]:
                out = []
                await asyncio.sleep(0.2)
                for _ in range(5):
                    t0 = time.monotonic()
                    r = await client.get(f"{lenient_gateway}/healthz")
                    assert r.status_code == 200
                    out.append(time.monotonic() - t0)
                    await asyncio.sleep(0.1)
                return out

            calls = asyncio.gather(*(slow_call(i) for i in range(n)))
            probes = asyncio.create_task(health_probes())
            return await calls, await probes

    started = time.monotonic()
    results, probe_times = asyncio.run(scenario())
    wall = time.monotonic() - started
    assert {status for status, _ in results} == {504}
    # Every caller is released by the timeout (1 s) plus a margin for 2 shared cores, not 3 × 1 s or worse.
    assert max(elapsed for _, elapsed in results) < TIMEOUT + 1.5, sorted(e for _, e in results)[-5:]
    assert wall < TIMEOUT + 2.0
    # Meanwhile the gateway keeps answering at once.
    assert max(probe_times) < 0.75, probe_times


def test_path_and_query_reach_the_upstream_as_the_caller_encoded_them(
    lenient_gateway: str, token_for: Callable[..., str]
) -> None:
    # '%23' decoded would start a fragment, '%2F' would split a segment, '%13' is a control character (an
    # invalid URL if decoded): the upstream must see exactly what the caller sent.
    headers = {"authorization": token_for("viewer", sub="paths")}
    resp = httpx.get(
        f"{lenient_gateway}/api/budget/v1/echo/plan%23x/a%2Fb/c%13d/%C3%A9?q=a%26b&r=%23", headers=headers, timeout=10
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["raw_path"] == "/v1/echo/plan%23x/a%2Fb/c%13d/%C3%A9"
    assert resp.json()["query"] == "q=a%26b&r=%23"


# --- retries only for idempotent requests -------------------------------------------------------------------


def test_only_idempotent_requests_are_retried(
    lenient_gateway: str, upstream: str, token_for: Callable[..., str]
) -> None:
    headers = {"authorization": token_for("admin", sub="retries")}
    base = f"{lenient_gateway}/api/execution/v1/status"
    # GET is safe: 1 attempt + 2 retries on 503.
    assert httpx.get(f"{base}/503/get", headers=headers, timeout=10).status_code == 503
    assert hits(upstream, "get") == 3
    # POST without an Idempotency-Key: sent once, the 503 is passed on.
    assert httpx.post(f"{base}/503/post", headers=headers, json={}, timeout=10).status_code == 503
    assert hits(upstream, "post") == 1
    # POST with an Idempotency-Key: the service deduplicates, so the gateway may retry it.
    keyed = headers | {"idempotency-key": "rel-key-1"}
    assert httpx.post(f"{base}/503/post-key", headers=keyed, json={}, timeout=10).status_code == 503
    assert hits(upstream, "post-key") == 3
    # A 500 is the service's own answer, not a transient fault: not retried even for GET.
    assert httpx.get(f"{base}/500/get-500", headers=headers, timeout=10).status_code == 500
    assert hits(upstream, "get-500") == 1
    # A success is passed through after one attempt.
    assert httpx.get(f"{base}/200/get-ok", headers=headers, timeout=10).status_code == 200
    assert hits(upstream, "get-ok") == 1


def test_connection_broken_mid_response_is_a_502_and_retried_only_when_idempotent(
    lenient_gateway: str, upstream: str, token_for: Callable[..., str]
) -> None:
    headers = {"authorization": token_for("admin", sub="broken")}
    base = f"{lenient_gateway}/api/budget/v1/broken"
    resp = httpx.get(f"{base}/broken-get", headers=headers, timeout=10)
    assert assert_problem(resp, 502, "upstream-error")["upstream"] == "budget"
    assert hits(upstream, "broken-get") == 3
    # The POST may have been processed before the connection broke: it is not sent again.
    resp = httpx.post(f"{base}/broken-post", headers=headers, json={"a": 1}, timeout=10)
    assert_problem(resp, 502, "upstream-error")
    assert hits(upstream, "broken-post") == 1


# --- circuit breaker ----------------------------------------------------------------------------------------


def test_breaker_opens_per_upstream_fails_fast_and_closes_after_a_good_trial(
    strict_gateway: str, upstream: str, token_for: Callable[..., str]
) -> None:
    def call(svc: str, path: str, sub: str) -> httpx.Response:
        return httpx.get(
            f"{strict_gateway}/api/{svc}/v1/{path}", headers={"authorization": token_for("viewer", sub=sub)}, timeout=10
        )

    for i in range(3):
        assert call("scoring", "status/503/breaker", f"b{i}").status_code == 503
    assert hits(upstream, "breaker") == 3
    started = time.monotonic()
    resp = call("scoring", "status/200/breaker-ok", "b3")
    body = assert_problem(resp, 503, "upstream-unavailable")
    assert time.monotonic() - started < 0.5
    assert body["upstream"] == "scoring"
    assert int(resp.headers["retry-after"]) >= 1
    # Failing fast: the upstream did not see the call.
    assert hits(upstream, "breaker-ok") == 0
    # Another upstream's breaker is its own: still closed.
    assert call("budget", "status/200/other", "b4").status_code == 200
    time.sleep(1.1)
    # Reset period over: one trial goes through, succeeds, and the circuit is closed again.
    assert call("scoring", "status/200/breaker-ok", "b5").status_code == 200
    assert call("scoring", "status/200/breaker-ok", "b6").status_code == 200
    assert hits(upstream, "breaker-ok") == 2
    metrics = httpx.get(f"{strict_gateway}/metrics", timeout=5).text
    assert 'metas_gateway_upstream_errors_total{kind="circuit_open",upstream="scoring"} 1.0' in metrics
    assert 'metas_gateway_circuit_state{upstream="scoring"} 0.0' in metrics


# --- rate limit, size limit, CORS ---------------------------------------------------------------------------


def test_rate_limit_is_per_client(strict_gateway: str, token_for: Callable[..., str]) -> None:
    flood = {"authorization": token_for("viewer", sub="flood")}
    calm = {"authorization": token_for("viewer", sub="calm")}
    url = f"{strict_gateway}/api/budget/v1/status/200/rl"
    n = 20

    async def burst() -> tuple[list[httpx.Response], float, int]:
        async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=n + 1)) as client:
            started = time.monotonic()
            flooded = asyncio.gather(*(client.get(url, headers=flood) for _ in range(n)))
            calm_call = client.get(url, headers=calm)
            responses, calm_response = await asyncio.gather(flooded, calm_call)
            return list(responses), time.monotonic() - started, calm_response.status_code

    responses, elapsed, calm_status = asyncio.run(burst())
    codes = [r.status_code for r in responses]
    assert set(codes) <= {200, 429}
    # Burst of 5, then 5 tokens/s for however long the flood took (+1 for a token just completing).
    assert 5 <= codes.count(200) <= 5 + 5 * elapsed + 1, (codes.count(200), elapsed)
    assert elapsed < 2.5, elapsed  # so at least 20 - (5 + 12.5 + 1) of the calls were refused
    refused = next(r for r in responses if r.status_code == 429)
    assert_problem(refused, 429, "rate-limited")
    assert int(refused.headers["retry-after"]) >= 1
    # Another client is not affected by the flood.
    assert calm_status == 200
    time.sleep(0.5)
    # 5 tokens/s: after 0.5 s the flooding client may call again.
    assert httpx.get(url, headers=flood, timeout=10).status_code == 200
    metrics = httpx.get(f"{strict_gateway}/metrics", timeout=5).text
    limited = re.search(r"^metas_gateway_rate_limited_total ([\d.]+)$", metrics, re.M)
    assert limited is not None
    assert float(limited.group(1)) >= codes.count(429)


def test_request_size_limit(strict_gateway: str, token_for: Callable[..., str]) -> None:
    headers = {"authorization": token_for("admin", sub="sizes"), "content-type": "application/json"}
    url = f"{strict_gateway}/api/budget/v1/echo"
    ok = httpx.post(url, headers=headers, content=b"x" * 1024, timeout=10)
    assert ok.status_code == 200
    assert ok.json()["bytes"] == 1024
    assert_problem(httpx.post(url, headers=headers, content=b"x" * 1025, timeout=10), 413, "payload-too-large")

    def chunks() -> Iterator[bytes]:
        # No Content-Length: the gateway must count while reading, not trust the header.
        for _ in range(10):
            yield b"y" * 200

    assert_problem(httpx.post(url, headers=headers, content=chunks(), timeout=10), 413, "payload-too-large")


def test_cors_only_for_configured_frontends(strict_gateway: str, token_for: Callable[..., str]) -> None:
    url = f"{strict_gateway}/api/budget/v1/echo"
    preflight = {
        "origin": FRONTEND,
        "access-control-request-method": "PUT",
        "access-control-request-headers": "authorization, if-match, content-type",
    }
    ok = httpx.options(url, headers=preflight, timeout=10)
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == FRONTEND
    assert "PUT" in ok.headers["access-control-allow-methods"]
    assert "if-match" in ok.headers["access-control-allow-headers"].lower()
    other = httpx.options(url, headers=preflight | {"origin": "https://evil.example"}, timeout=10)
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    # A real call from the frontend gets the header and sees the ETag/request id it needs.
    actual = httpx.get(url, headers={"origin": FRONTEND, "authorization": token_for("viewer", sub="cors")}, timeout=10)
    assert actual.status_code == 200
    assert actual.headers["access-control-allow-origin"] == FRONTEND
    assert "etag" in actual.headers["access-control-expose-headers"].lower()
    # A plain call from a foreign page gets no CORS header: the browser withholds the answer.
    foreign = httpx.get(
        url, headers={"origin": "https://evil.example", "authorization": token_for("viewer", sub="cors")}, timeout=10
    )
    assert "access-control-allow-origin" not in foreign.headers

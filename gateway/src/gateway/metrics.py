"""Gateway metrics: traffic by route/method/status, latency, upstream errors by kind, upstream health."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter(
    "metas_gateway_requests_total",
    "Requests through the gateway by upstream, route, method and status.",
    ["upstream", "route", "method", "status"],
)
LATENCY = Histogram(
    "metas_gateway_request_duration_seconds",
    "Gateway request latency (including the upstream call) by upstream and method.",
    ["upstream", "method"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
UPSTREAM_ERRORS = Counter(
    "metas_gateway_upstream_errors_total",
    "Failed upstream calls by upstream and kind (connect, timeout, protocol, circuit_open, status_5xx).",
    ["upstream", "kind"],
)
UPSTREAM_UP = Gauge(
    "metas_gateway_upstream_up", "1 when the upstream's last readiness probe answered ready.", ["upstream"]
)
CIRCUIT_STATE = Gauge("metas_gateway_circuit_state", "Circuit breaker: 0 closed, 1 open, 2 half-open.", ["upstream"])
RETRIES = Counter("metas_gateway_retries_total", "Retried upstream calls (idempotent requests only).", ["upstream"])
RATE_LIMITED = Counter("metas_gateway_rate_limited_total", "Requests refused by the per-client rate limit.")

"""The kit's /metrics renderer writes exactly what prometheus_client's generate_latest writes, for every kind
of metric and label value, before and after values change and series come and go."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Enum, Gauge, Histogram, Info, Summary, generate_latest
from prometheus_client import metrics as prom_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from metas_kit.metrics import render


class PlanGauges(Collector):
    """A custom collector, as budget and execution register."""

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("metas_test_plan_items", "Items per plan.", labels=["plan"])
        family.add_metric(["a"], 3)
        family.add_metric(['b"\\\n'], 1.5, timestamp=1700000000.123)
        yield family
        counter = CounterMetricFamily("metas_test_done", "Done.", labels=["z", "a"])
        counter.add_metric(["1", "2"], 4, created=1700000000.5)
        yield counter
        yield InfoMetricFamily("metas_test_about", "About.", value={"v": "1"})


def populated() -> CollectorRegistry:
    reg = CollectorRegistry()
    requests = Counter("t_requests_total", "Requests.", ["service", "route", "method", "status"], registry=reg)
    latency = Histogram("t_latency_seconds", "Latency\\ with\nnewline.", ["service", "route"], registry=reg)
    plain = Counter("t_plain", "No labels.", registry=reg)
    gauge = Gauge("t_in_flight", "In flight.", ["service"], registry=reg)
    callback = Gauge("t_callback", "From a callback.", registry=reg)
    Histogram("t_negative", "Negative buckets have no _sum.", buckets=(-1, 0, 1), registry=reg).observe(-0.5)
    Histogram("t_empty_parent", "A labelled parent without children.", ["x"], registry=reg)
    Summary("t_summary", "A summary.", ["x"], registry=reg).labels("s").observe(2)
    Info("t_build", "Build.", registry=reg).info({"version": "1.2"})
    Enum("t_state", "State.", states=["up", "down"], registry=reg).state("down")
    reg.register(PlanGauges())
    for i in range(30):
        requests.labels("planning", f"/v1/plans/{{plan_id}}/r{i}", "GET", str(200 + i % 3)).inc(i)
        latency.labels("planning", f'/v1/odd "quoted" \\ path é {i}').observe(i / 100)
    latency.labels("budget", "/x").observe(float("inf"))
    plain.inc(1e21)
    gauge.labels("gateway").set(-3.25)
    gauge.labels("nan").set(float("nan"))
    callback.set_function(lambda: 42)
    return reg


def test_render_equals_generate_latest() -> None:
    reg = populated()
    assert render(reg) == generate_latest(reg)
    # The label text is cached per series: values that move and series that come later still match.
    counter = reg._names_to_collectors["t_requests_total"]
    counter.labels("planning", "/v1/plans/{plan_id}/r1", "GET", "201").inc(7)
    counter.labels("new", "/v1/new", "POST", "500").inc()
    counter.remove("planning", "/v1/plans/{plan_id}/r2", "GET", "202")
    assert render(reg) == generate_latest(reg)


def test_render_without_created_series() -> None:
    reg = populated()
    prom_metrics.disable_created_metrics()
    try:
        assert render(reg) == generate_latest(reg)
        assert b"t_requests_created" not in render(reg)  # (a custom family's own created stays)
    finally:
        prom_metrics.enable_created_metrics()


def test_a_labelled_gauge_with_a_callback_child() -> None:
    reg = CollectorRegistry()
    gauge = Gauge("t_children", "Children.", ["k"], registry=reg)
    gauge.labels("a").set(1)
    gauge.labels("b").set_function(lambda: 5)
    assert render(reg) == generate_latest(reg)
    assert b't_children{k="b"} 5.0' in render(reg)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(max_size=12), st.text(max_size=12), st.floats(allow_nan=False, min_value=0, max_value=1e30)),
        max_size=12,
    )
)
def test_any_label_values_and_amounts(series: list[tuple[str, str, float]]) -> None:
    reg = CollectorRegistry()
    counter = Counter("t_any_total", "Any.", ["b_label", "a_label"], registry=reg)
    hist = Histogram("t_any_seconds", "Any.", ["z"], buckets=(0.5, 1e7), registry=reg)
    gauge = Gauge("t_any_gauge", "Any.", ["le_not"], registry=reg)
    for a, b, amount in series:
        counter.labels(a, b).inc(amount)
        hist.labels(a).observe(amount)
        gauge.labels(b).set(-amount)
    assert render(reg) == generate_latest(reg)


@pytest.mark.parametrize("name", ["metas_http_requests_total", "metas_http_request_duration_seconds"])
def test_the_kit_metrics_render_through_the_global_registry(name: str) -> None:
    from prometheus_client import REGISTRY

    from metas_kit.metrics import HTTP_LATENCY, HTTP_REQUESTS

    HTTP_REQUESTS.labels("t", "/r", "GET", "200").inc()
    HTTP_LATENCY.labels("t", "/r", "GET").observe(0.01)

    # The process and garbage-collector collectors read live figures (CPU seconds) that move between two calls.
    def steady(text: bytes) -> list[bytes]:
        return [line for line in text.split(b"\n") if b"process_" not in line and b"python_gc_" not in line]

    text = render(REGISTRY)
    assert steady(text) == steady(generate_latest(REGISTRY))
    assert name.encode() in text

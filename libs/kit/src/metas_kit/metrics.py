"""Prometheus HTTP metrics shared by every service (labelled by route template, never raw path), and the
/metrics exposition.

`render` writes the same bytes as prometheus_client's `generate_latest` (tested equal), ~10× faster: that one
builds a labels dict, a Sample and the escaped label text for every series on every scrape (~50 µs a series,
~0.5 s for 10,000), while a series' labels never change once its child exists. Here the label text of each
series is rendered once and kept on the child; a scrape only reads the values. Metric types it does not know
(custom collectors, summaries, a gauge with a callback, multiprocess mode) are collected as usual and written
the way `generate_latest` writes them, with their label text cached by label set.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client import metrics as prom_metrics
from prometheus_client.openmetrics.exposition import escape_label_name, escape_metric_name
from prometheus_client.registry import CollectorRegistry
from prometheus_client.utils import floatToGoString
from prometheus_client.validation import _is_valid_legacy_labelname, _is_valid_legacy_metric_name

HTTP_REQUESTS = Counter(
    "metas_http_requests_total",
    "HTTP requests handled, by route template, method and status.",
    ["service", "route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "metas_http_request_duration_seconds",
    "HTTP request latency by route template.",
    ["service", "route", "method"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_IN_FLIGHT = Gauge("metas_http_requests_in_flight", "Requests being handled.", ["service"])

# The rendered label text of a series, kept on its child object (set once, read on every scrape).
_CACHE = "_metas_exposition"


def _escape_value(value: str) -> str:
    """A label value as generate_latest writes it (label values may hold any UTF-8)."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _labels(names: Iterable[str], label_values: Iterable[str], extra: tuple[str, str] | None = None) -> str:
    pairs = list(zip(names, label_values, strict=True))
    if extra is not None:
        pairs.append(extra)
    if not pairs:
        return ""
    pairs.sort()
    return "{" + ",".join(f'{k}="{_escape_value(v)}"' for k, v in pairs) + "}"


def _help(name: str, documentation: str, kind: str) -> str:
    doc = documentation.replace("\\", r"\\").replace("\n", r"\n")
    return f"# HELP {name} {doc}\n# TYPE {name} {kind}\n"


def _fast(metric: Any) -> bool:
    """A plain Counter, Gauge or Histogram this module renders itself (everything else: generate_latest)."""
    if type(metric) not in (Counter, Gauge, Histogram) or values.ValueClass is not values.MutexValue:
        return False
    if metric._unit or not _is_valid_legacy_metric_name(metric._name):
        return False
    if not all(_is_valid_legacy_labelname(n) for n in metric._labelnames):
        return False
    return "_child_samples" not in vars(metric)  # a gauge with set_function renders its callback's value


def _children(metric: Any) -> list[tuple[tuple[str, ...], Any]]:
    if not metric._labelnames:
        return [((), metric)]
    with metric._lock:
        return list(metric._metrics.items())


def _render_counter(metric: Any, out: list[str], num: _Numbers) -> None:
    name, names = metric._name, metric._labelnames
    out.append(_help(name + "_total", metric._documentation, "counter"))
    created: list[str] = []
    use_created = prom_metrics._use_created
    for label_values, child in _children(metric):
        cached = child.__dict__.get(_CACHE)
        if cached is None:
            text = _labels(names, label_values)
            cached = child.__dict__[_CACHE] = (f"{name}_total{text} ", f"{name}_created{text} ")
        out.append(f"{cached[0]}{num[child._value._value]}\n")
        if use_created:
            created.append(f"{cached[1]}{num[child._created]}\n")
    if created:
        out.append(_help(name + "_created", metric._documentation, "gauge"))
        out.extend(created)


def _render_gauge(metric: Any, out: list[str], num: _Numbers) -> None:
    name, names = metric._name, metric._labelnames
    out.append(_help(name, metric._documentation, "gauge"))
    children = _children(metric)
    if any("_child_samples" in vars(child) for _, child in children):
        # A child with a callback (set_function) renders what the callback answers: the general way.
        del out[-1]
        _render_collected(metric, out)
        return
    for label_values, child in children:
        cached = child.__dict__.get(_CACHE)
        if cached is None:
            cached = child.__dict__[_CACHE] = f"{name}{_labels(names, label_values)} "
        out.append(f"{cached}{floatToGoString(child._value._value)}\n")  # -0.0 is not 0.0 here


def _render_histogram(metric: Any, out: list[str], num: _Numbers) -> None:
    name, names = metric._name, metric._labelnames
    out.append(_help(name, metric._documentation, "histogram"))
    created: list[str] = []
    use_created = prom_metrics._use_created
    for label_values, child in _children(metric):
        cached = child.__dict__.get(_CACHE)
        if cached is None:
            text = _labels(names, label_values)
            buckets = tuple(
                f"{name}_bucket{_labels(names, label_values, ('le', floatToGoString(b)))} " for b in child._upper_bounds
            )
            sum_prefix = f"{name}_sum{text} " if child._upper_bounds[0] >= 0 else None
            cached = child.__dict__[_CACHE] = (buckets, f"{name}_count{text} ", sum_prefix, f"{name}_created{text} ")
        acc = 0.0
        for prefix, bucket in zip(cached[0], child._buckets, strict=True):
            acc += bucket._value
            out.append(f"{prefix}{num[acc]}\n")
        out.append(f"{cached[1]}{num[acc]}\n")
        if cached[2] is not None:
            out.append(f"{cached[2]}{num[child._sum._value]}\n")
        if use_created:
            created.append(f"{cached[3]}{num[child._created]}\n")
    if created:
        out.append(_help(name + "_created", metric._documentation, "gauge"))
        out.extend(created)


class _Numbers(dict[float, str]):
    """Go's text of each value met during one scrape: counts and timestamps repeat a lot across series.
    Only for counts, sums and timestamps (never -0.0, which as a key would find 0.0's text)."""

    def __missing__(self, value: float) -> str:
        text = self[value] = floatToGoString(value)
        return text


# Prefix text ("name{labels} ") of the samples of other collectors, by sample name and labels: their samples
# are new objects on every scrape, their label sets mostly the same. Bounded: emptied when it grows past this.
_SAMPLE_PREFIXES: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
_MAX_SAMPLE_PREFIXES = 200_000
# Prometheus' text format names for the OpenMetrics types (as generate_latest maps them).
_TYPE_NAMES = {"info": "gauge", "stateset": "gauge", "gaugehistogram": "histogram", "unknown": "untyped"}
_OM_SUFFIXES = ("_created", "_gsum", "_gcount")


def _sample_line(sample: Any) -> str:
    labels = tuple(sample.labels.items())
    key = (sample.name, labels)
    prefix = _SAMPLE_PREFIXES.get(key)
    if prefix is None:
        if len(_SAMPLE_PREFIXES) >= _MAX_SAMPLE_PREFIXES:
            _SAMPLE_PREFIXES.clear()
        text = ",".join(f'{escape_label_name(k)}="{_escape_value(v)}"' for k, v in sorted(labels))
        prefix = _SAMPLE_PREFIXES[key] = escape_metric_name(sample.name) + ("{" + text + "}" if text else "") + " "
    stamp = "" if sample.timestamp is None else f" {int(float(sample.timestamp) * 1000):d}"
    return f"{prefix}{floatToGoString(sample.value)}{stamp}\n"


def _render_collected(collector: Any, out: list[str]) -> None:
    """Any collector's families, the way generate_latest writes them (label text cached by label set)."""
    for metric in collector.collect():
        name, kind = metric.name, metric.type
        if kind == "counter":
            name += "_total"
        elif kind == "info":
            name += "_info"
        out.append(_help(escape_metric_name(name), metric.documentation, _TYPE_NAMES.get(kind, kind)))
        late: dict[str, list[str]] = {}
        for sample in metric.samples:
            for suffix in _OM_SUFFIXES:
                if sample.name == metric.name + suffix:
                    late.setdefault(suffix, []).append(_sample_line(sample))
                    break
            else:
                out.append(_sample_line(sample))
        for suffix, lines in sorted(late.items()):
            out.append(_help(escape_metric_name(metric.name + suffix), metric.documentation, "gauge"))
            out.extend(lines)


_RENDERERS = {Counter: _render_counter, Gauge: _render_gauge, Histogram: _render_histogram}


def render(registry: CollectorRegistry = REGISTRY) -> bytes:
    """The registry in Prometheus' text format (0.0.4): byte for byte what `generate_latest` writes."""
    if registry._target_info:
        return generate_latest(registry)
    with registry._lock:
        collectors = list(registry._collector_to_names)
    out: list[str] = []
    numbers = _Numbers()
    for collector in collectors:
        if _fast(collector):
            _RENDERERS[type(collector)](collector, out, numbers)
        else:
            _render_collected(collector, out)
    return "".join(out).encode()


def metrics_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/metrics")
    def metrics() -> Response:
        return Response(render(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router

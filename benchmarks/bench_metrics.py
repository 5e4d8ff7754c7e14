"""/metrics of the busiest service with 10,000 series, against prometheus_client's own renderer in the same run.

The process holds what the execution service registers (the kit's HTTP counters and latency histograms, the
reminder counters, the deadline-compliance collector, the process and GC collectors); the HTTP metrics are
populated with route templates × methods × statuses and the compliance snapshot with plans × units until the
exposition has ``--series`` sample lines. Then, interleaved for ``--rounds`` rounds:

  generate_latest   prometheus_client.generate_latest(REGISTRY): the renderer /metrics used before
  render            metas_kit.metrics.render(REGISTRY): what /metrics uses now (byte-identical output, checked)
  GET /metrics      the kit's /metrics route in a FastAPI app, through httpx's ASGI transport

    .venv/bin/python benchmarks/bench_metrics.py [--series 10000] [--rounds 30] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import httpx
from _bench_support import interleaved, machine, sync_interleaved
from fastapi import FastAPI
from prometheus_client import REGISTRY, generate_latest

from execution.metrics import COLLECTOR, Snapshot, UnitCounts
from metas_kit.metrics import HTTP_IN_FLIGHT, HTTP_LATENCY, HTTP_REQUESTS, metrics_router, render

ROUTES = [f"/v1/plans/{{plan_id}}/resource{i}/{{item}}" for i in range(400)]
METHODS = ("GET", "PUT", "POST", "DELETE")
STATUSES = ("200", "201", "204", "304", "400", "404", "409", "412", "422", "500")


def series(text: bytes) -> int:
    return sum(1 for line in text.split(b"\n") if line and not line.startswith(b"#"))


def populate(target: int) -> int:
    """Fill the registry up to ``target`` sample lines; returns the count reached."""
    snap = Snapshot()
    for plan in ("ipsm-2014-acordo", "ii-2024-quar"):
        for unit in range(100):
            snap.counts[(plan, f"U{unit:03d}")] = UnitCounts(due=12, on_time=9, late=2, missing=1, pending=0)
        snap.next_deadline[plan] = 1.7e9
    snap.refreshed_at = 1.7e9
    COLLECTOR.snapshot = snap
    HTTP_IN_FLIGHT.labels("execution").set(0)
    i = 0
    count = series(generate_latest(REGISTRY))
    while count < target:
        route, method = ROUTES[i % len(ROUTES)], METHODS[(i // len(ROUTES)) % len(METHODS)]
        # A histogram child adds 16 lines (13 buckets, count, sum, created), a counter child 2 (total, created).
        if count + 16 <= target and i % 3 == 0:
            HTTP_LATENCY.labels("execution", route, method).observe(0.004 * (i % 50))
            count += 16
        else:
            HTTP_REQUESTS.labels("execution", route, method, STATUSES[i % len(STATUSES)]).inc(i % 7 + 1)
            count += 2
        i += 1
        if count >= target - 1:
            count = series(generate_latest(REGISTRY))
            if count >= target - 1:
                break
    return count


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    reached = populate(args.series)
    assert render(REGISTRY) == generate_latest(REGISTRY) or _only_live_figures_differ()
    app = FastAPI()
    app.include_router(metrics_router())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")

    async def route() -> None:
        resp = await client.get("/metrics")
        assert resp.status_code == 200
        assert len(resp.content) > 100_000

    sync = sync_interleaved(
        {"generate_latest": lambda: generate_latest(REGISTRY), "render": lambda: render(REGISTRY)}, args.rounds
    )
    through = await interleaved({"GET /metrics": route}, args.rounds)
    await client.aclose()
    results = {**sync, **through}
    size = len(render(REGISTRY))
    base = results["generate_latest"]
    report = {
        "benchmark": "metrics",
        "series": reached,
        "bytes": size,
        **{
            name: {
                "p50_ms": round(s.p50 * 1e3, 2),
                "p95_ms": round(s.p95 * 1e3, 2),
                "cpu_ms": round(s.cpu_mean * 1e3, 2),
            }
            for name, s in results.items()
        },
        "ratio_render_to_generate_latest_cpu": round(results["render"].cpu_mean / base.cpu_mean, 3),
    }
    if args.json:
        print(json.dumps(report))
        return
    print(machine())
    print(f"/metrics of execution's registry: {reached:,} series, {size / 1024:.0f} KiB, {args.rounds} rounds\n")
    print("| variant | p50 ms | p95 ms | CPU ms | ×CPU vs generate_latest |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, s in results.items():
        print(
            f"| {name} | {s.p50 * 1e3:.2f} | {s.p95 * 1e3:.2f} | {s.cpu_mean * 1e3:.2f} | "
            f"{s.cpu_mean / base.cpu_mean:.3f} |"
        )
    worst = results["GET /metrics"].p50 * 1e3
    print(f"\nGET /metrics p50 {worst:.1f} ms (bar: 50 ms): {'met' if worst <= 50 else 'NOT met'}")


def _only_live_figures_differ() -> bool:
    """The process and GC collectors read live figures (CPU seconds, collections) that move between calls."""

    def steady(text: bytes) -> list[bytes]:
        return [line for line in text.split(b"\n") if b"process_" not in line and b"python_gc_" not in line]

    return steady(render(REGISTRY)) == steady(generate_latest(REGISTRY))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

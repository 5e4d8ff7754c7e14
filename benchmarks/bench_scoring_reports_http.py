"""Official documents through HTTP: `GET /v1/evaluations/{id}/report?format=pdf|xlsx|csv` of the scoring service,
for both seed plans, against the JSON read of the same evaluation (`GET /v1/evaluations/{id}`) as the baseline;
and the PRR budget execution document (`GET /v1/budget/reports/execution-document?format=pdf|xlsx|csv` of the
budget service, every year) against the JSON planned-vs-executed report by eixo and year as its baseline.

    python benchmarks/bench_scoring_reports_http.py [--requests 30]

Planning, execution and scoring run as real uvicorn processes on SQLite (scratch directory, free ports), the seed
plans loaded; a year of registrations is imported for each plan (every indicator at its meta, every product on its
due date, December) and one provisional evaluation is made of each. Then the variants are asked in interleaved
rounds, one request at a time, with a service token straight to scoring (no gateway): wall time per request at
the client, and the scoring process's CPU per request (its /proc utime + stime before and after, so only that
request's work is counted). Every document is built from the stored snapshot on each download. The budget service
runs too, with the seed budget (PRR C17-i03) loaded.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from metas_dev.cluster import SERVICES, Cluster, ClusterConfig, free_port
from metas_dev.run import load_seeds
from metas_kit.auth import Grant, Principal, issue_token

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-scoring-reports-" + "x" * 40
SEEDS = {"ii-2024-quar": "2024-12", "ipsm-2014-acordo": "2014-12"}
RUNNING = ("planning", "execution", "scoring", "budget")
TICK = os.sysconf("SC_CLK_TCK")


def token(sub: str, role: str) -> dict[str, str]:
    return {
        "authorization": "Bearer " + issue_token(Principal(sub, grants=[Grant(role, "*")]), SECRET, ttl_seconds=3600)
    }


def rows(plan_id: str, period: str) -> list[dict[str, Any]]:
    document = yaml.safe_load((ROOT / "data" / "plans" / f"{plan_id}.yaml").read_text(encoding="utf-8"))
    at = f"{int(period[:4]) + 1}-01-05T12:00:00Z"
    out = []
    for indicator in document["indicators"]:
        if indicator["scoring_rule"]["kind"] != "derived_from_teams" and indicator.get("meta") is not None:
            payload = {"value": indicator["meta"]}
            out.append({"item_code": indicator["code"], "period": period, "payload": payload, "registered_at": at})
    for product in document.get("products") or []:
        for target in product.get("stages") or [product]:
            payload = {"completeness": "full", "delivered_on": target["due_date"], "evidence": ["bench"]}
            out.append({"item_code": target["code"], "period": period, "payload": payload, "registered_at": at})
    return out


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def prepare(cluster: Cluster) -> dict[str, str]:
    """Registrations imported and one evaluation per seed plan; their ids."""
    admin, planner = token("admin", "admin"), token("paula", "planner")
    ids = {}
    with httpx.Client(timeout=120) as http:
        for plan_id, period in SEEDS.items():
            imported = http.post(
                f"{cluster.config.url('execution')}/v1/plans/{plan_id}/registrations:import",
                json={"reason": "benchmark", "registrations": rows(plan_id, period)},
                headers=admin,
            )
            imported.raise_for_status()
            made = http.post(
                f"{cluster.config.url('scoring')}/v1/evaluations",
                json={"plan_id": plan_id, "period_to": period, "n1": "90"},
                headers=planner,
            )
            made.raise_for_status()
            ids[plan_id] = made.json()["id"]
    return ids


def measure(cluster: Cluster, ids: dict[str, str], requests: int) -> dict[str, Any]:
    pid = cluster.procs["scoring"].pid
    baseline = "baseline: GET evaluation (JSON)"
    out: dict[str, Any] = {}
    with httpx.Client(base_url=cluster.config.url("scoring"), headers=token("vera", "viewer"), timeout=60) as http:
        for plan_id, evaluation in ids.items():
            variants: dict[str, tuple[str, dict[str, str] | None]] = {baseline: (f"/v1/evaluations/{evaluation}", None)}
            for fmt in ("csv", "xlsx", "pdf"):
                variants[f"report {fmt}"] = (f"/v1/evaluations/{evaluation}/report", {"format": fmt})
            out[plan_id] = timed(http, pid, variants, baseline, requests)
    return out


def timed(
    http: httpx.Client, pid: int, variants: dict[str, tuple[str, dict[str, str] | None]], baseline: str, requests: int
) -> dict[str, Any]:
    """Interleaved rounds of `variants` (3 warm-up rounds first); figures per variant and ratios to `baseline`."""
    warmup = 3
    wall: dict[str, list[float]] = {k: [] for k in variants}
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    size: dict[str, int] = {}
    for i in range(warmup + requests):
        for name, (path, params) in variants.items():
            c0, t0 = cpu_seconds(pid), time.perf_counter()
            answer = http.get(path, params=params)
            t1, c1 = time.perf_counter(), cpu_seconds(pid)
            answer.raise_for_status()
            size[name] = len(answer.content)
            if i >= warmup:
                wall[name].append(t1 - t0)
                cpu[name].append(c1 - c0)
    base, base_cpu = statistics.median(wall[baseline]), statistics.mean(cpu[baseline])
    return {
        name: {
            "bytes": size[name],
            "p50_ms": statistics.median(wall[name]) * 1e3,
            "p95_ms": statistics.quantiles(wall[name], n=100, method="inclusive")[94] * 1e3,
            "server_cpu_ms": statistics.mean(cpu[name]) * 1e3,
            "x_p50": statistics.median(wall[name]) / base,
            "x_cpu": statistics.mean(cpu[name]) / base_cpu if base_cpu else float("nan"),
        }
        for name in variants
    }


def measure_budget(cluster: Cluster, requests: int) -> dict[str, Any]:
    """The budget execution document of every year, against the planned-vs-executed report (JSON) it tabulates."""
    pid = cluster.procs["budget"].pid
    baseline = "baseline: planned-vs-executed eixo,year (JSON)"
    variants: dict[str, tuple[str, dict[str, str] | None]] = {
        baseline: ("/v1/budget/reports/planned-vs-executed", {"group_by": "eixo,year"})
    }
    for fmt in ("csv", "xlsx", "pdf"):
        variants[f"execution document {fmt}"] = ("/v1/budget/reports/execution-document", {"format": fmt})
    with httpx.Client(base_url=cluster.config.url("budget"), headers=token("vera", "viewer"), timeout=60) as http:
        return timed(http, pid, variants, baseline, requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scoring-reports-") as tmp:
        config = ClusterConfig(
            ports={name: free_port() for name in (*SERVICES, "gateway")},
            database_urls={s: f"sqlite+aiosqlite:///{tmp}/{s}.db" for s in SERVICES},
            jwt_secret=SECRET,
            log_dir=Path(tmp) / "logs",
        )
        cluster = Cluster(config)
        try:
            for name in RUNNING:
                cluster.start_one(name)
            cluster.wait_ready(RUNNING, timeout=120)
            load_seeds(cluster)
            ids = prepare(cluster)
            load = os.getloadavg()
            figures = measure(cluster, ids, args.requests)
            figures["budget: PRR C17-i03"] = measure_budget(cluster, args.requests)
        finally:
            cluster.stop()
    print(f"python {platform.python_version()}, load average {load}, {args.requests} interleaved rounds (+3 warm-up)")
    for plan_id, found in figures.items():
        print(f"\n{plan_id}")
        print(f"{'variant':46} {'bytes':>9} {'p50 ms':>8} {'p95 ms':>8} {'server CPU ms':>14} {'×p50':>6} {'×CPU':>6}")
        for name, f in found.items():
            print(
                f"{name:46} {f['bytes']:9,} {f['p50_ms']:8.1f} {f['p95_ms']:8.1f} {f['server_cpu_ms']:14.1f}"
                f" {f['x_p50']:6.1f} {f['x_cpu']:6.1f}"
            )


if __name__ == "__main__":
    sys.exit(main())

"""Server-side time of the console's two busiest pages against the time of the API calls they make.

    python benchmarks/bench_console.py [--requests 100] [--backends sqlite postgresql]

For each backend: the services and the gateway (real uvicorn processes, seed plans loaded), one registration of
DS-I2 for 2014-11 (so the form has a value and a history), the accounts service and the console; the DS
registrar signs in (a real session) and the console is asked with that session cookie. Each round fetches the
home page ("To register": every item DS owes in the IPSM plan, 120 rows) and the registration form of DS-I2
2014-11, in turn. The console reports in `Server-Timing` its whole time (`total`) and the wall time during which
at least one of its API calls was in flight (`api`, concurrent calls counted once), both measured inside the
same request; the console's own share is `total - api`.
The bar (issue 12): the console adds at most 1.5 × the time of the API calls it makes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from _bench_support import DEFAULT_PG, machine, recreate_pg_database

from metas_dev.cluster import SERVICES, Cluster, ClusterConfig, free_port
from metas_dev.run import load_seeds
from metas_kit.auth import Grant, Principal, issue_token

ROOT = Path(__file__).resolve().parents[1]
PLAN = "ipsm-2014-acordo"
PAGES = {"home": "/", "registration form": f"/plans/{PLAN}/registrations/DS-I2/2014-11"}
SECRET = "bench-console-" + "x" * 40
PASSWORD = "benchmark password of maria"
TIMING = re.compile(r"(\w+);dur=([0-9.]+)")


def token(sub: str, grants: list[Grant]) -> str:
    return issue_token(Principal(sub, grants=grants), SECRET, ttl_seconds=3600)


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def prepare(gateway: str) -> None:
    planner = {"authorization": "Bearer " + token("paula", [Grant("planner", "ipsm")])}
    registrar = {"authorization": "Bearer " + token("maria", [Grant("registrar", "ipsm", frozenset({"DS"}))])}
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    base = f"{gateway}/api/execution/v1/plans/{PLAN}"
    r = httpx.post(
        f"{base}/locks/2014-11/exceptions",
        json={"unit_code": "DS", "until": until, "reason": "benchmark"},
        headers=planner,
        timeout=30,
    )
    r.raise_for_status()
    r = httpx.put(
        f"{base}/registrations/DS-I2/2014-11",
        json={
            "payload": {"value": "52000", "note": "benchmark"},
            "reason": "monthly registration",
            "justification": "benchmark: short of the meta",
        },
        headers={**registrar, "if-none-match": "*"},
        timeout=30,
    )
    r.raise_for_status()


def session_of_registrar(gateway: str) -> str:
    """The DS registrar's account, and a session opened the way the sign-in form opens it."""
    admin = {"authorization": "Bearer " + token("admin", [Grant("admin", "*")])}
    body = {
        "username": "maria",
        "display_name": "Maria",
        "email": "maria@example.org",
        "locale": "pt-PT",
        "password": PASSWORD,
        "grants": [{"role": "registrar", "org": "ipsm", "units": ["DS"]}],
    }
    httpx.post(f"{gateway}/api/accounts/v1/accounts", json=body, headers=admin, timeout=30).raise_for_status()
    signed = httpx.post(f"{gateway}/api/auth/sign-in", json={"username": "maria", "password": PASSWORD}, timeout=30)
    signed.raise_for_status()
    return str(signed.json()["token"])


def measure(console: str, session: str, requests: int, warmup: int = 5) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {
        name: {"client": [], "total": [], "api": [], "added": [], "calls": []} for name in PAGES
    }
    with httpx.Client(base_url=console, timeout=30, cookies={"metas_session": session}) as client:
        for i in range(warmup + requests):
            for name, path in PAGES.items():
                t0 = time.perf_counter()
                response = client.get(path)
                wall = (time.perf_counter() - t0) * 1000
                assert response.status_code == 200, (path, response.status_code, response.text[:300])
                timing = {k: float(v) for k, v in TIMING.findall(response.headers["server-timing"])}
                calls = re.search(r'desc="(\d+) calls"', response.headers["server-timing"])
                if i >= warmup:
                    row = out[name]
                    row["client"].append(wall)
                    row["total"].append(timing["total"])
                    row["api"].append(timing["api"])
                    row["added"].append(timing["total"] - timing["api"])
                    row["calls"].append(float(calls.group(1)) if calls else 0.0)
    return out


def run_backend(backend: str, requests: int, tmp: Path) -> dict[str, object]:
    if backend == "postgresql":
        urls = {s: asyncio.run(recreate_pg_database(DEFAULT_PG, f"metas_bench_console_{s}")) for s in SERVICES}
    else:
        urls = {s: f"sqlite+aiosqlite:///{tmp}/{s}.db" for s in SERVICES}
    config = ClusterConfig(
        ports={n: free_port() for n in (*SERVICES, "gateway", "console")},
        database_urls=urls,
        jwt_secret=SECRET,
        log_dir=tmp / f"logs-{backend}",
        extra_env={"console": {"METAS_CONSOLE_LOG_LEVEL": "WARNING"}},
    )
    cluster = Cluster(config)
    cluster.start()
    try:
        cluster.wait_ready(timeout=120)
        load_seeds(cluster)
        prepare(config.url("gateway"))
        session = session_of_registrar(config.url("gateway"))
        results = measure(config.url("console"), session, requests)
    finally:
        cluster.stop()
    summary: dict[str, object] = {}
    for name, row in results.items():
        api50, added50 = statistics.median(row["api"]), statistics.median(row["added"])
        ratios = [a / b for a, b in zip(row["added"], row["api"], strict=True) if b > 0]
        summary[name] = {
            "calls": int(statistics.median(row["calls"])),
            **{f"{k}_p50": round(statistics.median(v), 2) for k, v in row.items() if k != "calls"},
            **{f"{k}_p99": round(pct(v, 99), 2) for k, v in row.items() if k != "calls"},
            "added_over_api_p50": round(added50 / api50, 3),
            "ratio_p99": round(pct(ratios, 99), 3),
        }
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(machine())
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        for backend in args.backends:
            report[backend] = run_backend(backend, args.requests, Path(tmp))
    print(
        "| backend | page | API calls | server p50 ms | server p99 ms | API p50 ms | API p99 ms | console p50 ms | "
        "console p99 ms | console / API (p50) | client p50 ms |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    worst = 0.0
    for backend, pages in report.items():
        assert isinstance(pages, dict)
        for name, s in pages.items():
            worst = max(worst, s["added_over_api_p50"])
            print(
                f"| {backend} | {name} | {s['calls']} | {s['total_p50']} | {s['total_p99']} | {s['api_p50']} | "
                f"{s['api_p99']} | {s['added_p50']} | {s['added_p99']} | {s['added_over_api_p50']} | "
                f"{s['client_p50']} |"
            )
    out = ROOT / "var" / "bench" / "console.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    verdict = "within" if worst <= 1.5 else "OVER"
    print(f"\nworst console / API (p50): {worst:.3f} — {verdict} the 1.5 bar; JSON in {out.relative_to(ROOT)}")
    return 0 if worst <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())

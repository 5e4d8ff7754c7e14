"""Execution figures: bulk import of a year, single writes, the scoring snapshot, compliance, metrics.

    python benchmarks/execution_bench.py [--database-url URL] [--writes 200]

In-process (httpx ASGI transport, no network): a seeded planning service on a temporary SQLite
file, and the execution service on a fresh SQLite file unless a URL is given.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from execution.app import ALEMBIC_INI, create_app
from execution.metrics import refresh
from execution.settings import Settings
from metas_clients.planning import PlanningClient
from metas_kit.auth import Principal, issue_token
from metas_kit.http import make_client
from metas_kit.migrations import upgrade_head

ROOT = Path(__file__).resolve().parents[1]
PLANS = ROOT / "data" / "plans"
SECRET = "bench-secret-execution-0123456789abcdef"
QUAR = "ii-2024-quar"


def ms(samples: list[float]) -> str:
    qs = statistics.quantiles(samples, n=100)
    return f"p50 {qs[49] * 1000:.2f} ms, p95 {qs[94] * 1000:.2f} ms"


def bearer(*roles: str, units: tuple[str, ...] = ()) -> dict[str, str]:
    principal = Principal("bench", frozenset(roles), frozenset(units))
    return {"authorization": "Bearer " + issue_token(principal, SECRET)}


async def run(url: str, planning_url: str, writes: int) -> None:
    from planning.app import ALEMBIC_INI as PLANNING_INI
    from planning.app import create_app as create_planning
    from planning.seed import load
    from planning.settings import Settings as PlanningSettings

    out = sys.stdout.write
    await asyncio.to_thread(upgrade_head, PLANNING_INI, planning_url)
    await load(PLANS, planning_url)
    await asyncio.to_thread(upgrade_head, ALEMBIC_INI, url)
    planning = create_planning(PlanningSettings(database_url=planning_url, jwt_secret=SECRET, log_level="WARNING"))
    async with planning.router.lifespan_context(planning):
        http = make_client(
            "http://planning", transport=httpx.ASGITransport(app=planning), jwt_secret=SECRET, service_name="execution"
        )
        settings = Settings(database_url=url, jwt_secret=SECRET, metrics_refresh_seconds=0, log_level="WARNING")
        app = create_app(settings, planning=PlanningClient(http, revalidate_seconds=60))
        app.state.clock = lambda: datetime(2025, 1, 20, 12, tzinfo=UTC)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://execution") as client:
                viewer = bearer("viewer")
                table = (await client.get(f"/v1/plans/{QUAR}/deadlines", headers=viewer)).json()
                dues = {p["period"]: p["due_date"] for p in table["periods"]}
                rows: list[dict[str, Any]] = []
                for month in range(1, 13):
                    period = f"2024-{month:02d}"
                    status = (
                        await client.get(f"/v1/plans/{QUAR}/status?period={period}&limit=500", headers=viewer)
                    ).json()
                    for item in status["items"]:
                        payload: dict[str, Any] = (
                            {"value": str(month)}
                            if item["item_kind"] == "indicator"
                            else {"cumulative_percent": str(month * 8)}
                        )
                        rows.append(
                            {
                                "item_code": item["item_code"],
                                "period": period,
                                "payload": payload,
                                "registered_at": f"{dues[period]}T12:00:00Z",
                                "justification": "benchmark: value off its target",
                            }
                        )
                t = time.perf_counter()
                res = await client.post(
                    f"/v1/plans/{QUAR}/registrations:import", json={"registrations": rows}, headers=bearer("service")
                )
                took = time.perf_counter() - t
                assert res.status_code == 200, res.text[:500]
                out(
                    f"import {len(rows)} registrations ({QUAR}, one transaction): {took:.2f} s "
                    f"({len(rows) / took:.0f} rows/s)\n"
                )

                admin = bearer("admin")
                samples = []
                etag = (await client.get(f"/v1/plans/{QUAR}/registrations/DAD-01/2024-12", headers=viewer)).headers[
                    "etag"
                ]
                for n in range(writes):
                    t = time.perf_counter()
                    r = await client.put(
                        f"/v1/plans/{QUAR}/registrations/DAD-01/2024-12",
                        json={"payload": {"cumulative_percent": str(n % 100)}, "reason": "bench"},
                        headers={**admin, "if-match": etag},
                    )
                    samples.append(time.perf_counter() - t)
                    assert r.status_code == 200, r.text
                    etag = r.headers["etag"]
                out(f"PUT new version (If-Match): {ms(samples)}\n")

                for label, path in (
                    ("GET current snapshot (2124 rows)", f"/v1/plans/{QUAR}/registrations/current?period_to=2024-12"),
                    ("GET compliance (10 units x 12 months)", f"/v1/plans/{QUAR}/compliance?through=2024-12"),
                    ("GET compliance.csv", f"/v1/plans/{QUAR}/compliance.csv?through=2024-12"),
                ):
                    samples = []
                    for _ in range(20):
                        t = time.perf_counter()
                        r = await client.get(path, headers=viewer)
                        samples.append(time.perf_counter() - t)
                        assert r.status_code == 200
                    out(f"{label}: {ms(samples)}\n")
                samples = []
                for _ in range(10):
                    t = time.perf_counter()
                    await refresh(app)
                    samples.append(time.perf_counter() - t)
                out(f"metrics refresh (both seed plans): {ms(samples)}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--writes", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/execution.db"
        asyncio.run(run(url, f"sqlite+aiosqlite:///{tmp}/planning.db", args.writes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

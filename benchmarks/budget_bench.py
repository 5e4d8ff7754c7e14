"""Budget figures: reconciliation of the seed (pure), seed load, report and reconciliation reads, amount writes.

    python benchmarks/budget_bench.py [--database-url URL] [--reads 100] [--writes 100]

In-process (httpx ASGI transport, no network), on a fresh SQLite file unless a URL is given.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from budget.app import ALEMBIC_INI, create_app
from budget.domain.published import parse_published
from budget.domain.reconciliation import mismatches, run_checks
from budget.seed import load_seed
from budget.settings import Settings
from metas_kit.auth import Principal, issue_token
from metas_kit.db import Database
from metas_kit.migrations import upgrade_head

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "budget"
SECRET = "bench-secret-budget-0123456789abcdef"


def ms(samples: list[float]) -> str:
    qs = statistics.quantiles(samples, n=100)
    return f"p50 {qs[49] * 1000:.2f} ms, p95 {qs[94] * 1000:.2f} ms"


async def run(url: str, reads: int, writes: int) -> None:
    out = sys.stdout.write
    doc = yaml.safe_load((DATA / "prr_c17_i03.yaml").read_text(encoding="utf-8"))
    pb = parse_published(doc)
    samples = []
    for _ in range(50):
        t = time.perf_counter()
        results = run_checks(pb)
        samples.append(time.perf_counter() - t)
    out(f"reconcile (pure, {len(results)} checks, {len(mismatches(pb))} mismatches): {ms(samples)}\n")

    await asyncio.to_thread(upgrade_head, ALEMBIC_INI, url)
    db = Database(url)
    t = time.perf_counter()
    async with db.sessionmaker() as session, session.begin():
        result = await load_seed(session, DATA)
    out(f"seed load ({result.amounts_loaded} amounts): {(time.perf_counter() - t) * 1000:.0f} ms\n")
    await db.dispose()

    viewer = {"authorization": "Bearer " + issue_token(Principal("bench", frozenset({"viewer"})), SECRET)}
    writer = {"authorization": "Bearer " + issue_token(Principal("bench", frozenset({"budget"})), SECRET)}
    settings = Settings(database_url=url, jwt_secret=SECRET, log_json=False, log_level="WARNING")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://budget.bench") as client:
            for name, path, params in [
                ("report eixo x year", "/v1/budget/reports/planned-vs-executed", {"group_by": "eixo,year"}),
                (
                    "report rubric csv",
                    "/v1/budget/reports/planned-vs-executed",
                    {"group_by": "rubric", "format": "csv"},
                ),
                ("reconciliation", "/v1/budget/reconciliation", {}),
            ]:
                samples = []
                for _ in range(reads):
                    t = time.perf_counter()
                    resp = await client.get(path, params=params, headers=viewer)
                    samples.append(time.perf_counter() - t)
                    assert resp.status_code == 200, resp.text
                out(f"GET {name}: {ms(samples)}\n")
            samples = []
            for i in range(writes):
                body = {
                    "breakdown": "subinvestment",
                    "subinvestment": "1.1.1",
                    "year": 2024,
                    "month": 1 + i % 12,
                    "phase": "executed",
                    "amount": f"{100 + i}.23",
                }
                t = time.perf_counter()
                resp = await client.post("/v1/budget/amounts", json=body, headers=writer)
                samples.append(time.perf_counter() - t)
                assert resp.status_code == 201, resp.text
            out(f"POST amount (audited, gauges refreshed): {ms(samples)}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reads", type=int, default=100)
    parser.add_argument("--writes", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/budget-bench.db"
        asyncio.run(run(url, args.reads, args.writes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

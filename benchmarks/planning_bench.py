"""Planning figures: validation of the seed documents, import, and plan-tree reads (200 and 304).

    python benchmarks/planning_bench.py [--database-url URL] [--reads 200]

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

from metas_kit.auth import Principal, issue_token
from metas_kit.migrations import upgrade_head
from planning.app import ALEMBIC_INI, create_app
from planning.domain.validation import check_document
from planning.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PLANS = ROOT / "data" / "plans"
SECRET = "bench-secret-planning-0123456789abcdef"


def ms(samples: list[float]) -> str:
    qs = statistics.quantiles(samples, n=100)
    return f"p50 {qs[49] * 1000:.2f} ms, p95 {qs[94] * 1000:.2f} ms"


async def run(url: str, reads: int) -> None:
    out = sys.stdout.write
    docs = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(PLANS.glob("*.yaml"))}
    for name, data in docs.items():
        samples = []
        for _ in range(20):
            t = time.perf_counter()
            _doc, report = check_document(data)
            samples.append(time.perf_counter() - t)
        out(f"validate {name}: {ms(samples)} ({len(report.errors)} errors, {len(report.warnings)} warnings)\n")

    await asyncio.to_thread(upgrade_head, ALEMBIC_INI, url)
    planner = {"authorization": "Bearer " + issue_token(Principal("bench", frozenset({"planner"})), SECRET)}
    app = create_app(Settings(database_url=url, jwt_secret=SECRET, log_json=False, log_level="WARNING"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://planning") as client:
            for name, data in docs.items():
                t = time.perf_counter()
                res = await client.post("/v1/plans:import", json=data, headers=planner)
                first = time.perf_counter() - t
                t = time.perf_counter()
                again = await client.post("/v1/plans:import", json=data, headers=planner)
                second = time.perf_counter() - t
                out(
                    f"import {name}: {first * 1000:.0f} ms ({res.json()['action']}), "
                    f"re-import {second * 1000:.0f} ms ({again.json()['action']})\n"
                )
            for name in docs:
                full, cached = [], []
                etag = ""
                for _ in range(reads):
                    t = time.perf_counter()
                    r = await client.get(f"/v1/plans/{name}/tree", headers=planner)
                    full.append(time.perf_counter() - t)
                    etag = r.headers["etag"]
                size = len(r.content)
                for _ in range(reads):
                    t = time.perf_counter()
                    r = await client.get(f"/v1/plans/{name}/tree", headers={**planner, "if-none-match": etag})
                    cached.append(time.perf_counter() - t)
                    assert r.status_code == 304
                out(f"tree {name} ({size} bytes): 200 {ms(full)}; 304 {ms(cached)}\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reads", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/planning-bench.db"
        asyncio.run(run(url, args.reads))


if __name__ == "__main__":
    main()

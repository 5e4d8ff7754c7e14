"""Budget figures, each against a baseline measured in the same run (ratios service / baseline).

For each read (planned-vs-executed report as JSON and as CSV, the reconciliation of the published tables):

- **domain** — the pure domain function (``planned_vs_executed`` / ``run_checks``) on data already loaded
  in memory (the baseline: the work no service can skip);
- **handler, no HTTP** — the router's own function called directly in a session of the service's
  database (loads the budget context and the amounts through the repositories, formats, renders JSON);
- **service** — the HTTP endpoint through the whole app (JWT, middleware, dependencies, serialisation).

Writes (``POST /v1/budget/amounts``, audited, idempotency record, gauges refreshed from the database)
against ``build_entry`` (the domain validation and VAT split) and against the insert alone (the same row
added through the repository, flushed and committed in its own session). Every variant runs in turn in each
round (interleaved), so load changes hit them alike; wall p50/p95 and the mean CPU time of this process per
call are printed as Markdown tables.

    python benchmarks/budget_bench.py [--backends sqlite,postgresql] [--reads 100] [--writes 100] [--extra-amounts 0]
    python benchmarks/budget_bench.py --database-url URL      # one given database instead

In-process (httpx ASGI transport, no network); SQLite on a temporary file, PostgreSQL on a scratch
database ``metas_bench_budget`` (dropped and created, dropped again at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import yaml
from _bench_support import (
    DEFAULT_PG,
    drop_pg_database,
    interleaved,
    machine,
    recreate_pg_database,
    table,
)
from fastapi import Response
from pydantic import BaseModel

from budget.api.reports import reconciliation, report_planned_vs_executed
from budget.app import ALEMBIC_INI, create_app
from budget.application.context import BudgetCache
from budget.application.context import load as budget_context
from budget.db import repositories as repo
from budget.domain.amounts import AmountInput, build_entry
from budget.domain.published import parse_published
from budget.domain.reconciliation import mismatches, run_checks
from budget.domain.reports import planned_vs_executed
from budget.metrics import refresh_from_session
from budget.seed import load_seed
from budget.settings import Settings
from metas_kit.auth import Principal, issue_token
from metas_kit.db import Database
from metas_kit.migrations import upgrade_head

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "budget"
SECRET = "bench-secret-budget-0123456789abcdef"
PG_DB = "metas_bench_budget"
VIEWER = Principal("bench", frozenset({"viewer"}))


def render(result: Any) -> bytes:
    if isinstance(result, Response):
        return bytes(result.body)
    if isinstance(result, BaseModel):
        return result.model_dump_json().encode()
    return json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode()


async def add_synthetic_amounts(db: Database, count: int) -> None:
    """``count`` more executed amounts (valid, spread over the months of 2021-2026) before the runs."""
    async with db.sessionmaker() as session:
        ctx = await budget_context(session, BudgetCache())
        for i in range(count):
            raw = AmountInput(
                breakdown="subinvestment",
                year=2021 + i % 6,
                month=1 + i % 12,
                phase="executed",
                amount=f"{10 + i % 997}.{i % 100:02d}",
                subinvestment="1.1.1",
                source="api",
            )
            repo.add_amount(session, build_entry(raw, ctx.structure, ctx.codes), code_table_version=ctx.codes.version)
        await session.commit()


async def bench_backend(label: str, url: str, reads: int, writes: int, extra: int = 0) -> None:
    out = sys.stdout.write
    out(f"\n### {label}\n\n")
    await asyncio.to_thread(upgrade_head, ALEMBIC_INI, url)
    seed_db = Database(url)
    t = time.perf_counter()
    async with seed_db.sessionmaker() as session, session.begin():
        loaded = await load_seed(session, DATA)
    out(f"seed load ({loaded.amounts_loaded} amounts): {(time.perf_counter() - t) * 1000:.0f} ms\n\n")
    await seed_db.dispose()

    viewer = {"authorization": "Bearer " + issue_token(VIEWER, SECRET)}
    writer = {"authorization": "Bearer " + issue_token(Principal("bench", frozenset({"budget"})), SECRET)}
    app = create_app(Settings(database_url=url, jwt_secret=SECRET, log_json=False, log_level="WARNING"))
    async with app.router.lifespan_context(app):
        db: Database = app.state.db
        if extra:
            await add_synthetic_amounts(db, extra)
        async with db.sessionmaker() as session:
            ctx = await budget_context(session, app.state.budget.cache)
            entries = await repo.all_entries(session)
        out(f"{len(entries)} amounts in the database\n\n")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://budget.bench") as client:
            report_json: dict[str, Any] = {"group_by": "eixo,year"}
            report_csv: dict[str, Any] = {"group_by": "rubric", "format": "csv"}

            def handler(call: Callable[[Any, Any], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
                async def run() -> None:
                    async with db.sessionmaker() as session:
                        render(await call(session, app.state.budget))
                        await session.commit()

                return run

            def service(path: str, params: dict[str, Any]) -> Callable[[], Awaitable[None]]:
                async def run() -> None:
                    resp = await client.get(path, params=params, headers=viewer)
                    assert resp.status_code == 200, resp.text

                return run

            def domain(call: Callable[[], object]) -> Callable[[], Awaitable[None]]:
                async def run() -> None:
                    call()

                return run

            cases: list[tuple[str, dict[str, Callable[[], Awaitable[None]]]]] = [
                (
                    "report planned-vs-executed, group_by=eixo,year (JSON)",
                    {
                        "domain: planned_vs_executed": domain(lambda: planned_vs_executed(entries, ["eixo", "year"])),
                        "handler, no HTTP": handler(
                            lambda s, c: report_planned_vs_executed(s, VIEWER, c, "eixo,year", None, None, None, "json")
                        ),
                        "service GET": service("/v1/budget/reports/planned-vs-executed", report_json),
                    },
                ),
                (
                    "report planned-vs-executed, group_by=rubric (CSV)",
                    {
                        "domain: planned_vs_executed": domain(lambda: planned_vs_executed(entries, ["rubric"])),
                        "handler, no HTTP": handler(
                            lambda s, c: report_planned_vs_executed(s, VIEWER, c, "rubric", None, None, None, "csv")
                        ),
                        "service GET": service("/v1/budget/reports/planned-vs-executed", report_csv),
                    },
                ),
                (
                    "reconciliation (mismatches only, JSON)",
                    {
                        "domain: run_checks": domain(lambda: run_checks(ctx.published.budget, ctx.codes)),
                        "handler, no HTTP": handler(lambda s, c: reconciliation(s, VIEWER, c, False, None, "json")),
                        "service GET": service("/v1/budget/reconciliation", {}),
                    },
                ),
            ]
            for title, variants in cases:
                results = await interleaved(variants, reads)
                out(table(title, results, next(iter(variants))))

            counter = 0

            def amount_body() -> dict[str, Any]:
                nonlocal counter
                counter += 1
                return {
                    "breakdown": "subinvestment",
                    "subinvestment": "1.1.1",
                    "year": 2024,
                    "month": 1 + counter % 12,
                    "phase": "executed",
                    "amount": f"{100 + counter}.23",
                }

            def amount_input() -> AmountInput:
                body = amount_body()
                return AmountInput(
                    breakdown=body["breakdown"],
                    year=body["year"],
                    month=body["month"],
                    phase=body["phase"],
                    amount=body["amount"],
                    subinvestment=body["subinvestment"],
                    source="api",
                )

            async def build() -> None:
                build_entry(amount_input(), ctx.structure, ctx.codes)

            async def insert() -> None:
                async with db.sessionmaker() as session:
                    entry = build_entry(amount_input(), ctx.structure, ctx.codes)
                    repo.add_amount(session, entry, code_table_version=ctx.codes.version)
                    await session.flush()
                    await session.commit()

            async def gauges() -> None:
                async with db.sessionmaker() as session:
                    await refresh_from_session(session)
                    await session.commit()

            async def post() -> None:
                resp = await client.post("/v1/budget/amounts", json=amount_body(), headers=writer)
                assert resp.status_code == 201, resp.text

            results = await interleaved(
                {
                    "domain: build_entry": build,
                    "insert only (repository, commit)": insert,
                    "gauge refresh alone (reads all amounts)": gauges,
                    "service POST": post,
                },
                writes,
                warmup=2,
            )
            async with db.sessionmaker() as session:
                after = len(await repo.all_entries(session))
            out(
                table(
                    f"POST /v1/budget/amounts (audited, gauges refreshed; {len(entries)} → {after} amounts)",
                    results,
                    "domain: build_entry",
                )
            )
            for name in ("gauge refresh alone (reads all amounts)", "service POST"):
                walls = results[name].wall
                tenth = max(1, len(walls) // 10)
                out(
                    f"{name}: median of the first {tenth} rounds {statistics.median(walls[:tenth]) * 1e3:.2f} ms, "
                    f"of the last {tenth} {statistics.median(walls[-tenth:]) * 1e3:.2f} ms\n"
                )


async def run(args: argparse.Namespace) -> None:
    out = sys.stdout.write
    out(machine())
    doc = yaml.safe_load((DATA / "prr_c17_i03.yaml").read_text(encoding="utf-8"))
    pb = parse_published(doc)
    t = time.perf_counter()
    for _ in range(50):
        results = run_checks(pb)
    out(
        f"reconcile (pure, {len(results)} checks, {len(mismatches(pb))} mismatches): "
        f"{(time.perf_counter() - t) / 50 * 1000:.2f} ms mean\n"
    )
    if args.database_url:
        await bench_backend(
            args.database_url.split(":", 1)[0], args.database_url, args.reads, args.writes, args.extra_amounts
        )
        return
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                await bench_backend(
                    "SQLite", f"sqlite+aiosqlite:///{tmp}/budget-bench.db", args.reads, args.writes, args.extra_amounts
                )
        elif backend == "postgresql":
            url = await recreate_pg_database(args.pg_url, PG_DB)
            try:
                await bench_backend("PostgreSQL", url, args.reads, args.writes, args.extra_amounts)
            finally:
                await drop_pg_database(args.pg_url, PG_DB)
        else:
            raise SystemExit(f"unknown backend {backend!r}")
    out(machine())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="one empty database instead of --backends")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="PostgreSQL server for the scratch database")
    parser.add_argument("--reads", type=int, default=100, help="rounds of each read (all variants)")
    parser.add_argument("--writes", type=int, default=100, help="rounds of the write variants")
    parser.add_argument(
        "--extra-amounts", type=int, default=0, help="synthetic amounts added to the seed's before measuring"
    )
    args = parser.parse_args()
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Execution bulk import against raw baselines, in one run, on PostgreSQL and SQLite.

    .venv/bin/python benchmarks/bench_import.py [--repeat 3] [--backends postgresql,sqlite] [--profile FILE]
                                                [--gc-freeze] [--uvicorn]

What is timed, per backend:

* **api import** — ``POST /v1/plans/{plan}/registrations:import`` of a year of both seed plans
  (ipsm-2014-acordo 2014: 480 rows, ii-2024-quar 2024: 2,124 rows; 2,604 in all), one request per plan,
  through the real execution service (in-process ASGI transport: JSON parsing, JWT, validation of every
  row, write window / lock / certification checks, the registration row and its version row (who, when,
  why, request id), the audit event, the idempotency record, one transaction);
* **api re-import** — the same two requests again: every row exists, each gets a new version (UPDATE of
  the current row under its version check + a version row);
* **uvicorn** (``--uvicorn``) — the import and re-import again through real uvicorn processes of planning
  and execution over loopback HTTP, with the CPU time of the execution process;
* **snapshot** — ``GET /v1/plans/ii-2024-quar/registrations/current?period_to=2024-12`` (2,124 rows);
* **baselines** — the very rows the API wrote (read back from its tables), written into an empty
  migrated database of the same schema (same indexes, constraints, foreign key): PostgreSQL ``COPY ...
  FROM STDIN`` (psycopg 3 ``cursor.copy()`` + ``write_row``) and a plain ``executemany`` INSERT (psycopg 3,
  pipelined); on SQLite the stdlib ``sqlite3`` ``executemany``. Registration rows then version rows, one
  transaction, committed.

The execution database is emptied between repetitions (not recreated); the best and the median of
``--repeat`` runs are printed. Planning runs in-process on a temporary SQLite file (its cached tree is
read once per request, as in production after the first request). JSON: var/bench/import.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from execution.app import ALEMBIC_INI, create_app
from execution.settings import Settings
from metas_clients.planning import PlanningClient
from metas_kit.auth import Principal, issue_token
from metas_kit.http import make_client
from metas_kit.migrations import upgrade_head

ROOT = Path(__file__).resolve().parents[1]
PLANS = ROOT / "data" / "plans"
SECRET = "bench-secret-execution-0123456789abcdef"
PG = os.environ.get("METAS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
YEARS = {"ipsm-2014-acordo": 2014, "ii-2024-quar": 2024}
QUAR = "ii-2024-quar"
TABLES = ("registration", "registration_version")


def bearer(*roles: str) -> dict[str, str]:
    principal = Principal(f"bench-{roles[0]}", frozenset(roles), frozenset())
    return {"authorization": "Bearer " + issue_token(principal, SECRET)}


VIEWER = bearer("viewer")
SERVICE = bearer("service")
ADMIN = bearer("admin")


def payload_for(kind: str, month: int) -> dict[str, Any]:
    if kind == "indicator":
        return {"value": str(month)}
    if kind == "initiative":
        return {"cumulative_percent": str(month * 8)}
    return {"completeness": "none", "note": f"mês {month}"}


def machine() -> dict[str, Any]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "loadavg": os.getloadavg(),
    }


async def timed(fn: Callable[[], Awaitable[Any]]) -> float:
    t = time.perf_counter()
    await fn()
    return time.perf_counter() - t


def summary(samples: list[float], rows: int) -> dict[str, Any]:
    best = min(samples)
    return {
        "best_s": round(best, 4),
        "median_s": round(statistics.median(samples), 4),
        "rows": rows,
        "rows_per_s": round(rows / best),
        "samples_s": [round(s, 4) for s in samples],
    }


async def year_rows(client: httpx.AsyncClient, plan: str, year: int) -> list[dict[str, Any]]:
    table = (await client.get(f"/v1/plans/{plan}/deadlines", headers=VIEWER)).json()
    dues = {p["period"]: p["due_date"] for p in table["periods"]}
    rows: list[dict[str, Any]] = []
    for month in range(1, 13):
        period = f"{year}-{month:02d}"
        status = (await client.get(f"/v1/plans/{plan}/status?period={period}&limit=500", headers=VIEWER)).json()
        assert status["next_cursor"] is None
        for item in status["items"]:
            rows.append(
                {
                    "item_code": item["item_code"],
                    "period": period,
                    "payload": payload_for(item["item_kind"], month),
                    "registered_at": f"{dues[period]}T12:00:00Z",
                    "justification": "benchmark: value off its target",
                }
            )
    return rows


# ---- databases ------------------------------------------------------------------------------------


def fresh_pg(name: str) -> str:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_pg(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sa_url(backend: str, where: str) -> str:
    host = PG.removeprefix("postgresql://")
    return f"postgresql+asyncpg://{host}/{where}" if backend == "postgresql" else f"sqlite+aiosqlite:///{where}"


def read_tables(backend: str, where: str) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """The rows the API wrote, as the driver hands them back (the baselines write exactly these)."""
    out: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    if backend == "postgresql":
        import psycopg
        from psycopg.types.json import Json

        with psycopg.connect(f"{PG}/{where}") as conn:
            for table in TABLES:
                cur = conn.execute(f"SELECT * FROM {table} ORDER BY id")
                cols = [d.name for d in cur.description or ()]
                rows = [tuple(Json(v) if isinstance(v, dict) else v for v in r) for r in cur.fetchall()]
                out[table] = (cols, rows)
    else:
        with sqlite3.connect(where) as lite:
            for table in TABLES:
                found = lite.execute(f"SELECT * FROM {table} ORDER BY id")
                out[table] = ([d[0] for d in found.description], found.fetchall())
    return out


def baseline_pg(db: str, data: dict[str, tuple[list[str], list[tuple[Any, ...]]]], how: str) -> float:
    import psycopg

    with psycopg.connect(f"{PG}/{db}") as conn:
        conn.execute("TRUNCATE registration_version, registration")
        conn.commit()
        t = time.perf_counter()
        with conn.cursor() as cur:
            for table in TABLES:
                cols, rows = data[table]
                names = ", ".join(cols)
                if how == "copy":
                    with cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    marks = ", ".join(["%s"] * len(cols))
                    cur.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        conn.commit()
        return time.perf_counter() - t


def baseline_sqlite(path: str, data: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> float:
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("DELETE FROM registration_version")
        conn.execute("DELETE FROM registration")
        t = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for table in TABLES:
            cols, rows = data[table]
            marks = ", ".join(["?"] * len(cols))
            conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)
        conn.execute("COMMIT")
        return time.perf_counter() - t


# ---- one backend ------------------------------------------------------------------------------------


async def empty(app: Any) -> None:
    from sqlalchemy import delete

    from execution.db.base import AuditEvent, IdempotencyRecord
    from execution.db.models import Registration, RegistrationVersion

    async with app.state.db.sessionmaker() as session, session.begin():
        for model in (RegistrationVersion, Registration, IdempotencyRecord, AuditEvent):
            await session.execute(delete(model))


async def bench_backend(
    backend: str, planning: Any, tmp: Path, repeat: int, profile: str | None, freeze: bool, uvicorn: str | None
) -> dict[str, Any]:
    """In-process import, re-import and snapshot, then the baselines; ``uvicorn``: planning's database URL
    to repeat the imports against real uvicorn processes."""
    if backend == "postgresql":
        tag = os.getpid()
        api_where = fresh_pg(f"metas_bench_import_api_{tag}")
        base_where = fresh_pg(f"metas_bench_import_base_{tag}")
    else:
        api_where, base_where = str(tmp / "api.db"), str(tmp / "base.db")
    for where in (api_where, base_where):
        await asyncio.to_thread(upgrade_head, ALEMBIC_INI, sa_url(backend, where))
    http = make_client(
        "http://planning", transport=httpx.ASGITransport(app=planning), jwt_secret=SECRET, service_name="execution"
    )
    settings = Settings(
        database_url=sa_url(backend, api_where), jwt_secret=SECRET, metrics_refresh_seconds=0, log_level="WARNING"
    )
    app = create_app(settings, planning=PlanningClient(http, revalidate_seconds=600))
    app.state.clock = lambda: datetime(2025, 1, 20, 12, tzinfo=UTC)
    result: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://execution") as client:
            bodies = {
                plan: {"reason": "bench", "registrations": await year_rows(client, plan, y)}
                for plan, y in YEARS.items()
            }
            total = sum(len(b["registrations"]) for b in bodies.values())
            # Encoded once: the client's JSON encoding is not the service's work.
            encoded = {plan: json.dumps(body).encode() for plan, body in bodies.items()}

            async def import_all(headers: dict[str, str], expect: str) -> None:
                for plan, body in bodies.items():
                    res = await client.post(
                        f"/v1/plans/{plan}/registrations:import",
                        content=encoded[plan],
                        headers={**headers, "content-type": "application/json"},
                    )
                    assert res.status_code == 200, res.text[:500]
                    assert res.json()[expect] == len(body["registrations"]), res.text[:500]

            async def snapshot() -> None:
                res = await client.get(f"/v1/plans/{QUAR}/registrations/current?period_to=2024-12", headers=VIEWER)
                assert res.status_code == 200
                assert len(res.json()["items"]) == 2124

            await import_all(SERVICE, "created")  # warm-up: caches, statement caches, planning tree
            await import_all(ADMIN, "updated")
            if freeze:
                gc.collect()
                gc.freeze()  # the set-up's objects (bodies, apps, modules) leave the collector's scans
            created: list[float] = []
            updated: list[float] = []
            snaps: list[float] = []
            profiler = None
            for n in range(repeat):
                await empty(app)
                if profile and n == repeat - 1:
                    import cProfile

                    profiler = cProfile.Profile()
                    profiler.enable()
                created.append(await timed(lambda: import_all(SERVICE, "created")))
                updated.append(await timed(lambda: import_all(ADMIN, "updated")))
                if profiler is not None:
                    profiler.disable()
                for _ in range(3):
                    snaps.append(await timed(snapshot))
            if profiler is not None and profile:
                profiler.dump_stats(f"{profile}.{backend}")
            await empty(app)
            await import_all(SERVICE, "created")
        data = await asyncio.to_thread(read_tables, backend, api_where)
    assert len(data["registration"][1]) == total
    assert len(data["registration_version"][1]) == total
    result["api_import"] = summary(created, total)
    result["api_reimport"] = summary(updated, total)
    result["snapshot_2124"] = summary(snaps, 2124)
    if backend == "postgresql":
        copies = [await asyncio.to_thread(baseline_pg, base_where, data, "copy") for _ in range(repeat)]
        many = [await asyncio.to_thread(baseline_pg, base_where, data, "executemany") for _ in range(repeat)]
        result["copy"] = summary(copies, total)
        result["executemany"] = summary(many, total)
        for name in (api_where, base_where):
            drop_pg(name)
    else:
        many = [await asyncio.to_thread(baseline_sqlite, base_where, data) for _ in range(repeat)]
        result["executemany"] = summary(many, total)
    if uvicorn:
        counts = {plan: len(body["registrations"]) for plan, body in bodies.items()}
        result.update(await bench_uvicorn(backend, uvicorn, tmp, repeat, encoded, counts))
    for api_key, label in (("api_import", "api"), ("api_import_uvicorn", "api_uvicorn")):
        for base in ("copy", "executemany"):
            if base in result and api_key in result:
                result[f"{label}_over_{base}"] = round(result[api_key]["best_s"] / result[base]["best_s"], 1)
    return result


# ---- the same imports against real uvicorn processes (loopback HTTP) --------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve(module: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", "--factory", f"{module}.app:create_app", "--port", str(port)]
    cmd += ["--log-level", "warning", "--no-access-log"]
    prefix = f"METAS_{module.upper()}_"
    env = {**os.environ, **env, "METAS_JWT_SECRET": SECRET, f"{prefix}LOG_LEVEL": "WARNING"}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def ready(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


def empty_tables(backend: str, where: str) -> None:
    tables = ("registration_version", "registration", "idempotency_record", "audit_event")
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(f"{PG}/{where}") as conn:
            for table in tables:
                conn.execute(f"DELETE FROM {table}")
    else:
        with sqlite3.connect(where) as lite:
            for table in tables:
                lite.execute(f"DELETE FROM {table}")


async def bench_uvicorn(
    backend: str, planning_url: str, tmp: Path, repeat: int, bodies: dict[str, bytes], counts: dict[str, int]
) -> dict[str, Any]:
    """Import and re-import through uvicorn processes (one worker each, default GC, access log off, log level
    WARNING); CPU of the execution process read from /proc (10 ms ticks), least of the runs."""
    where = fresh_pg(f"metas_bench_import_uv_{os.getpid()}") if backend == "postgresql" else str(tmp / "uv.db")
    await asyncio.to_thread(upgrade_head, ALEMBIC_INI, sa_url(backend, where))
    p_port, e_port = free_port(), free_port()
    planning = serve("planning", p_port, {"METAS_PLANNING_DATABASE_URL": planning_url})
    execution = serve(
        "execution",
        e_port,
        {
            "METAS_EXECUTION_DATABASE_URL": sa_url(backend, where),
            "METAS_EXECUTION_PLANNING_URL": f"http://127.0.0.1:{p_port}",
            "METAS_EXECUTION_METRICS_REFRESH_SECONDS": "0",
            "METAS_EXECUTION_PLANNING_REVALIDATE_SECONDS": "600",
        },
    )
    base = f"http://127.0.0.1:{e_port}"
    total = sum(counts.values())
    try:
        await ready(f"http://127.0.0.1:{p_port}")
        await ready(base)
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:

            async def import_all(headers: dict[str, str], expect: str) -> None:
                for plan, body in bodies.items():
                    res = await client.post(
                        f"/v1/plans/{plan}/registrations:import",
                        content=body,
                        headers={**headers, "content-type": "application/json"},
                    )
                    assert res.status_code == 200, res.text[:500]
                    assert res.json()[expect] == counts[plan], res.text[:500]

            await import_all(SERVICE, "created")
            await import_all(ADMIN, "updated")
            created: list[float] = []
            updated: list[float] = []
            cpu: list[float] = []
            for _ in range(repeat):
                await asyncio.to_thread(empty_tables, backend, where)
                before = cpu_seconds(execution.pid)
                created.append(await timed(lambda: import_all(SERVICE, "created")))
                cpu.append(cpu_seconds(execution.pid) - before)
                updated.append(await timed(lambda: import_all(ADMIN, "updated")))
    finally:
        for proc in (execution, planning):
            proc.terminate()
            proc.wait(timeout=20)
        if backend == "postgresql":
            drop_pg(where)
    return {
        "api_import_uvicorn": summary(created, total),
        "api_reimport_uvicorn": summary(updated, total),
        "import_cpu_ms_uvicorn": round(min(cpu) * 1000, 1),
    }


async def run(backends: list[str], repeat: int, profile: str | None, freeze: bool, uvicorn: bool) -> dict[str, Any]:
    from planning.app import ALEMBIC_INI as PLANNING_INI
    from planning.app import create_app as create_planning
    from planning.seed import load
    from planning.settings import Settings as PlanningSettings

    out: dict[str, Any] = {"machine": machine(), "command": " ".join(sys.argv), "backends": {}}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        planning_url = f"sqlite+aiosqlite:///{tmp}/planning.db"
        await asyncio.to_thread(upgrade_head, PLANNING_INI, planning_url)
        await load(PLANS, planning_url)
        planning = create_planning(PlanningSettings(database_url=planning_url, jwt_secret=SECRET, log_level="WARNING"))
        async with planning.router.lifespan_context(planning):
            for backend in backends:
                sub = tmp / backend
                sub.mkdir()
                out["backends"][backend] = await bench_backend(
                    backend, planning, sub, repeat, profile, freeze, planning_url if uvicorn else None
                )
    out["loadavg_after"] = os.getloadavg()
    return out


def report(out: dict[str, Any]) -> None:
    w = sys.stdout.write
    m = out["machine"]
    w(f"machine: {m['cpus']} CPU {m['cpu']}, Linux {m['kernel']}, Python {m['python']}, SQLite {m['sqlite']}\n")
    w(f"load average before {m['loadavg']}, after {out['loadavg_after']}\n")
    for backend, r in out["backends"].items():
        w(f"\n{backend}  (best of {len(r['api_import']['samples_s'])}; median in brackets)\n")
        keys = ("api_import", "api_reimport", "api_import_uvicorn", "api_reimport_uvicorn", "copy", "executemany")
        for key in (*keys, "snapshot_2124"):
            if key in r:
                s = r[key]
                w(
                    f"  {key:<20} {s['rows']:>5} rows {s['best_s'] * 1000:9.1f} ms ({s['median_s'] * 1000:.1f})"
                    f" {s['rows_per_s']:>9} rows/s\n"
                )
        if "import_cpu_ms_uvicorn" in r:
            w(
                f"  CPU of the uvicorn execution process per import of {r['api_import']['rows']} rows:"
                f" {r['import_cpu_ms_uvicorn']} ms\n"
            )
        ratios = ", ".join(f"{k} {v}" for k, v in r.items() if "_over_" in k)
        w(f"  ratios (time): {ratios}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--profile", default=None, help="cProfile the last import + re-import into FILE.<backend>")
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() after the warm-up (as a preloaded server)"
    )
    parser.add_argument("--uvicorn", action="store_true", help="also import through uvicorn processes (loopback)")
    args = parser.parse_args()
    out = asyncio.run(run(args.backends.split(","), args.repeat, args.profile, args.gc_freeze, args.uvicorn))
    out["gc_freeze"] = args.gc_freeze
    report(out)
    dest = ROOT / "var" / "bench"
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "import.json").write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

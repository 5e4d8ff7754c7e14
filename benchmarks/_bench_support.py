"""Shared helpers of the planning and budget benchmarks: interleaved timing, percentiles, scratch databases.

Not a benchmark itself (run_all.py skips modules whose name starts with an underscore).
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"


@dataclass
class Samples:
    """Wall-clock and CPU seconds (this process, every thread) of each call of one variant."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def pct(self, q: int) -> float:
        if len(self.wall) < 2:
            return self.wall[0]
        return statistics.quantiles(self.wall, n=100, method="inclusive")[q - 1]

    @property
    def p50(self) -> float:
        return statistics.median(self.wall)

    @property
    def p95(self) -> float:
        return self.pct(95)

    @property
    def cpu_mean(self) -> float:
        return sum(self.cpu) / len(self.cpu)


async def interleaved(
    variants: Mapping[str, Callable[[], Awaitable[object]]], reps: int, warmup: int = 5
) -> dict[str, Samples]:
    """Run the variants in turn, ``reps`` rounds after ``warmup`` rounds: each round calls every variant
    once, so a change of the machine's load during the run hits every variant alike."""
    out = {name: Samples() for name in variants}
    for i in range(warmup + reps):
        for name, call in variants.items():
            c0, t0 = time.process_time(), time.perf_counter()
            await call()
            t1, c1 = time.perf_counter(), time.process_time()
            if i >= warmup:
                out[name].wall.append(t1 - t0)
                out[name].cpu.append(c1 - c0)
    return out


def sync_interleaved(variants: Mapping[str, Callable[[], object]], reps: int, warmup: int = 3) -> dict[str, Samples]:
    out = {name: Samples() for name in variants}
    for i in range(warmup + reps):
        for name, call in variants.items():
            c0, t0 = time.process_time(), time.perf_counter()
            call()
            t1, c1 = time.perf_counter(), time.process_time()
            if i >= warmup:
                out[name].wall.append(t1 - t0)
                out[name].cpu.append(c1 - c0)
    return out


def table(title: str, results: Mapping[str, Samples], baseline: str) -> str:
    """A Markdown table: p50/p95 wall ms, mean CPU ms, and each variant's ratios to ``baseline``."""
    base = results[baseline]
    lines = [
        f"{title} (n={len(base.wall)} each; ratios to `{baseline}`)",
        "",
        "| variant | p50 ms | p95 ms | CPU ms/call | ×p50 | ×p95 | ×CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, s in results.items():
        lines.append(
            f"| {name} | {s.p50 * 1e3:.3f} | {s.p95 * 1e3:.3f} | {s.cpu_mean * 1e3:.3f} | "
            f"{s.p50 / base.p50:.2f} | {s.p95 / base.p95:.2f} | {s.cpu_mean / base.cpu_mean:.2f} |"
        )
    return "\n".join(lines) + "\n\n"


def machine() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} CPU, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, load average {load}, {time.strftime('%H:%M:%S UTC', time.gmtime())}\n"
    )


def with_database(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def recreate_pg_database(server_url: str, name: str) -> str:
    """Drop and create the scratch database ``name`` on the server of ``server_url``; its SQLAlchemy URL."""
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_dsn(with_database(server_url, "postgres")))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(server_url, name)


async def drop_pg_database(server_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_dsn(with_database(server_url, "postgres")))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


class RawConnection:
    """The database driver itself (aiosqlite or asyncpg) on one open connection: the floor of a read."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = url.startswith("sqlite")
        self._conn: object = None

    async def open(self) -> None:
        if self.sqlite:
            import aiosqlite

            self._conn = await aiosqlite.connect(self.url.split(":///", 1)[1])
        else:
            import asyncpg

            self._conn = await asyncpg.connect(_asyncpg_dsn(self.url))

    async def close(self) -> None:
        await self._conn.close()  # type: ignore[attr-defined]

    async def fetchrow(self, sql: str, *args: object) -> tuple[object, ...] | None:
        """``sql`` with ``?`` placeholders (rewritten to $1, $2, ... for PostgreSQL)."""
        rows = await self.fetchall(sql, *args)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        if self.sqlite:
            cur = await self._conn.execute(sql, args)  # type: ignore[attr-defined]
            rows = await cur.fetchall()
            await cur.close()
            return [tuple(r) for r in rows]
        return [tuple(r) for r in await self._conn.fetch(_dollar_params(sql), *args)]  # type: ignore[attr-defined]


def _dollar_params(sql: str) -> str:
    """``?`` placeholders → asyncpg's ``$1, $2, ...``."""
    parts = sql.split("?")
    return "".join(part + (f"${i + 1}" if i < len(parts) - 1 else "") for i, part in enumerate(parts))

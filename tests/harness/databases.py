"""Fresh migrated databases on PostgreSQL and SQLite for the suites of every service (test harness: not shipped)."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import psycopg

from metas_kit.migrations import upgrade_head

PG_ADMIN_DSN = os.environ.get("METAS_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgresql")
_SAFE = re.compile(r"^[a-z0-9_]{1,60}$")


def pg_async_url(dbname: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{dbname}"


# PostgreSQL is touched only by a session that makes a database: pure unit suites run without it.
_made_pg_databases = False


def made_pg_databases() -> bool:
    """Whether this process made a PostgreSQL database (its session then drops them at the end)."""
    return _made_pg_databases


def create_pg_database(dbname: str) -> str:
    """Drop and create ``dbname``; returns its asyncpg URL. The first call of a process also drops the
    databases that killed earlier runs left behind."""
    global _made_pg_databases
    if not _SAFE.match(dbname):
        raise ValueError(f"unsafe database name {dbname!r}")
    if not _made_pg_databases:
        drop_test_databases()
        _made_pg_databases = True
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    return pg_async_url(dbname)


def drop_pg_database(dbname: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def fresh_database(backend: str, name: str, tmp_dir: Path, alembic_ini: Path | None = None) -> str:
    """A new empty database for ``backend``, migrated to head when ``alembic_ini`` is given."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    if backend == "postgresql":
        # pid and worker in the name: two test runs at once (or two xdist workers) never share a database.
        url = create_pg_database(f"metas_t_{os.getpid()}_{worker}_{name}".lower())
    elif backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_dir / (name + '.db')}"
    else:
        raise ValueError(backend)
    if alembic_ini is not None:
        upgrade_head(alembic_ini, url)
    return url


async def fresh_database_async(backend: str, name: str, tmp_dir: Path, alembic_ini: Path | None = None) -> str:
    """`fresh_database` for async fixtures (Alembic's env runs its own event loop, so it gets a thread)."""
    return await asyncio.to_thread(fresh_database, backend, name, tmp_dir, alembic_ini)


# Databases made by fresh_database / the cluster fixture carry the pid of the test process that made them.
_OWNED = re.compile(r"^metas_(?:t|it)_(\d+)_")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def drop_test_databases(*, only_pid: int | None = None) -> list[str]:
    """Drop the test databases of ``only_pid`` (a session's own, at its end), or of every test process that is
    no longer running (left behind by a killed run). Databases of running processes are never touched."""
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'metas\\_%'")]
        dropped = []
        for name in names:
            match = _OWNED.match(name)
            if not match:
                continue
            pid = int(match.group(1))
            if (only_pid is not None and pid != only_pid) or (only_pid is None and _pid_alive(pid)):
                continue
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            dropped.append(name)
    return dropped

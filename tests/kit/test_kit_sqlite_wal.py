"""A SQLite file is put in WAL mode once, before any pooled connection opens: the switch takes the file's
exclusive lock and SQLite refuses it at once ("database is locked", no busy wait) while another connection holds
a lock, so two first connections switching together could fail a request (seen in CI: a service's first read
beside its first background job answered 503)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from metas_kit.db import Database, ensure_wal, sqlite_file
from metas_kit.migrations import upgrade_head
from scoring.app import ALEMBIC_INI


def _rollback_journal_file(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE thing (n INTEGER)")
    conn.commit()
    conn.close()


def _journal_mode(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        conn.close()


def test_the_switch_itself_is_refused_at_once_while_another_connection_writes(tmp_path: Path) -> None:
    """The SQLite behaviour the kit works around (if a SQLite release changes it, this says so)."""
    path = tmp_path / "plain.db"
    _rollback_journal_file(path)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    other = sqlite3.connect(path, timeout=5, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        other.execute("PRAGMA journal_mode=WAL")
    writer.execute("ROLLBACK")
    writer.close()
    other.close()


async def test_a_first_connection_opens_while_another_connection_writes(tmp_path: Path) -> None:
    path = tmp_path / "service.db"
    _rollback_journal_file(path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO thing VALUES (1)")
    try:
        # The read engine's first connection sets its pragmas while the write lock is held: it reads the last
        # committed state instead of failing.
        async with db.read_engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM thing"))).scalar_one() == 0
    finally:
        writer.execute("COMMIT")
        writer.close()
        await db.dispose()
    assert _journal_mode(path) == "wal"


async def test_many_first_connections_at_once_on_both_engines(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    _rollback_journal_file(path)
    db = Database(f"sqlite+aiosqlite:///{path}")

    async def count(engine_name: str) -> int:
        engine = db.engine if engine_name == "write" else db.read_engine
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM thing"))).scalar_one())

    try:
        counts = await asyncio.gather(*(count("write" if i % 2 else "read") for i in range(10)))
    finally:
        await db.dispose()
    assert counts == [0] * 10


def test_ensure_wal_waits_for_a_writer_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "waits.db"
    _rollback_journal_file(path)
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    released = threading.Timer(0.2, lambda: writer.execute("COMMIT"))
    released.start()
    ensure_wal(f"sqlite+aiosqlite:///{path}", wait_seconds=5)
    released.join()
    writer.close()
    assert _journal_mode(path) == "wal"


def test_ensure_wal_gives_up_after_its_wait(tmp_path: Path) -> None:
    path = tmp_path / "held.db"
    _rollback_journal_file(path)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            ensure_wal(f"sqlite+aiosqlite:///{path}", wait_seconds=0.1)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert _journal_mode(path) == "delete"


def test_migrated_files_are_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "scoring.db"
    upgrade_head(ALEMBIC_INI, f"sqlite+aiosqlite:///{path}")
    assert _journal_mode(path) == "wal"


@pytest.mark.parametrize(
    ("url", "file"),
    [
        ("sqlite+aiosqlite:///var/metas/planning.db", "var/metas/planning.db"),
        ("sqlite+aiosqlite:////abs/planning.db", "/abs/planning.db"),
        ("sqlite+aiosqlite:///:memory:", None),
        ("sqlite+aiosqlite://", None),
        ("postgresql+asyncpg://u@h/db", None),
    ],
)
def test_sqlite_file(url: str, file: str | None) -> None:
    assert sqlite_file(url) == file

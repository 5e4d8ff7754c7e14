"""The kit's SQLite engine (aiosqlite with one hand-off to the connection's thread per statement) behaves as the
adapter it replaces: rows, row counts, RETURNING, last row ids, executemany, errors, transactions, streaming —
and a statement costs one hand-off, not four."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from metas_kit.db import make_engine

META = MetaData()
THING = Table(
    "thing",
    META,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(20), nullable=False, unique=True),
    Column("n", Integer, nullable=False),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(META.create_all)
    yield engine
    await engine.dispose()


async def test_rows_counts_returning_and_lastrowid(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        done = await conn.execute(insert(THING), [{"name": f"t{i}", "n": i} for i in range(5)])
        assert done.rowcount == 5
        one = await conn.execute(insert(THING).values(name="six", n=6))
        assert one.inserted_primary_key == (6,)
        back = await conn.execute(insert(THING).values(name="seven", n=7).returning(THING.c.id, THING.c.n))
        assert back.all() == [(7, 7)]
        changed = await conn.execute(update(THING).where(THING.c.n < 3).values(n=THING.c.n + 100))
        assert changed.rowcount == 3
        rows = (await conn.execute(select(THING.c.name, THING.c.n).order_by(THING.c.id))).all()
        assert rows == [("t0", 100), ("t1", 101), ("t2", 102), ("t3", 3), ("t4", 4), ("six", 6), ("seven", 7)]
        assert (await conn.execute(select(THING.c.id).where(THING.c.n > 1000))).first() is None
        assert (await conn.execute(text("SELECT count(*) FROM thing"))).scalar_one() == 7
        result = await conn.execute(select(THING.c.n).order_by(THING.c.n))
        assert result.fetchmany(2) == [(3,), (4,)]
        assert result.fetchone() == (6,)
        assert len(result.fetchall()) == 4


async def test_errors_and_rollbacks(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(THING).values(name="a", n=1))

    async def duplicate() -> None:
        async with engine.begin() as conn:
            await conn.execute(insert(THING).values(name="b", n=2))
            await conn.execute(insert(THING).values(name="a", n=3))  # unique name

    with pytest.raises(IntegrityError):
        await duplicate()
    with pytest.raises(OperationalError):
        async with engine.connect() as conn:
            await conn.execute(text("SELECT nope FROM thing"))
    async with engine.connect() as conn:
        # the failed transaction left nothing; the connection pool is still usable
        assert (await conn.execute(select(THING.c.name))).scalars().all() == ["a"]


async def test_streaming_still_uses_a_server_side_cursor(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(THING), [{"name": f"s{i}", "n": i} for i in range(50)])
    async with engine.connect() as conn:
        seen = [row.n async for row in await conn.stream(select(THING.c.n).order_by(THING.c.n))]
    assert seen == list(range(50))


async def test_one_hand_off_per_statement(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the connection is made and its transaction begun
        await conn.commit()
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        await conn.execute(insert(THING).values(name="x", n=1))  # BEGIN IMMEDIATE, then the INSERT
        rows = (await conn.execute(select(THING.c.name, THING.c.n))).all()
        await conn.commit()
    assert rows == [("x", 1)]
    # BEGIN, INSERT, SELECT: one hand-off each (the adapter made four per statement: cursor, execute,
    # fetchall, close); COMMIT one; the pool's rollback on return none, as no transaction is open.
    assert calls == ["_run", "_run", "_run", "commit"], calls
    calls.clear()
    async with engine.connect() as conn:
        await conn.execute(insert(THING).values(name="y", n=2))
    # Closed without a commit: the transaction is rolled back (the adapter's rollback, one hand-off).
    assert calls == ["_run", "_run", "rollback"], calls
    async with engine.connect() as conn:
        assert (await conn.execute(select(THING.c.name).order_by(THING.c.name))).scalars().all() == ["x"]


async def test_a_failed_statement_inside_a_transaction_is_rolled_back(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(insert(THING).values(name="z", n=1))
        with pytest.raises(IntegrityError):
            await conn.execute(insert(THING).values(name="z", n=2))
        await conn.rollback()
        await conn.execute(insert(THING).values(name="w", n=3))
        await conn.commit()
    async with engine.connect() as conn:
        assert (await conn.execute(select(THING.c.name))).scalars().all() == ["w"]

"""PostgreSQL reads run in autocommit: each statement is its own transaction (no BEGIN/COMMIT round trips), and a
read connection refuses to write — so a GET can never leave half a write behind. Writes keep one transaction."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest
from harness.databases import create_pg_database, drop_pg_database
from sqlalchemy import text

from metas_kit.db import Database, WriteOnReadConnection

NAME = f"metas_kit_reads_{os.getpid()}"


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    url = await asyncio.to_thread(create_pg_database, NAME)
    database = Database(url)
    async with database.sessionmaker() as session, session.begin():
        await session.execute(text("CREATE TABLE note (body text)"))
    yield database
    await database.dispose()
    await asyncio.to_thread(drop_pg_database, NAME)


async def two_instants(maker: object) -> tuple[object, object]:
    """now() is the start of the current transaction: equal twice inside one, different in autocommit."""
    async with maker() as session:  # type: ignore[operator]
        first = (await session.execute(text("SELECT now()"))).scalar_one()
        await asyncio.sleep(0.01)
        second = (await session.execute(text("SELECT now()"))).scalar_one()
        await session.commit()
    return first, second


async def test_a_read_is_its_statements_alone_and_a_write_one_transaction(db: Database) -> None:
    first, second = await two_instants(db.read_sessionmaker)
    assert first != second
    first, second = await two_instants(db.sessionmaker)
    assert first == second


async def test_a_read_connection_refuses_to_write(db: Database) -> None:
    for statement in (
        "INSERT INTO note VALUES ('x')",
        "  update note SET body = 'y'",
        "DELETE FROM note",
        "TRUNCATE note",
    ):
        async with db.read_sessionmaker() as session:
            with pytest.raises(WriteOnReadConnection):
                await session.execute(text(statement))
    async with db.read_sessionmaker() as session:
        assert (await session.execute(text("SELECT count(*) FROM note"))).scalar_one() == 0
        rows = await session.execute(text("WITH n AS (SELECT 1 AS one) SELECT one FROM n"))
        assert rows.scalar_one() == 1
    async with db.sessionmaker() as session, session.begin():  # the write engine writes
        await session.execute(text("INSERT INTO note VALUES ('kept')"))
    async with db.read_sessionmaker() as session:
        assert (await session.execute(text("SELECT body FROM note"))).scalars().all() == ["kept"]

"""The kit's PostgreSQL pool has no pre-ping: a pooled connection the server closed (as on a restart) is found
closed at checkout and replaced, so the next request neither fails nor waits for a ping round trip; a connection
that dies unnoticed fails as a disconnect (503 + Retry-After for the caller) and the pool starts afresh."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import psycopg
import pytest
from harness.databases import PG_ADMIN_DSN, create_pg_database, drop_pg_database
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from metas_kit.db import make_engine
from metas_kit.errors import is_transient_db_error

NAME = f"metas_kit_pool_{os.getpid()}"


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    url = await asyncio.to_thread(create_pg_database, NAME)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()
    await asyncio.to_thread(drop_pg_database, NAME)


def _terminate(pid: int) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        assert conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_the_server_closed_is_replaced_at_checkout(engine: AsyncEngine) -> None:
    first = await _backend_pid(engine)
    assert await _backend_pid(engine) == first  # pooled: the same server process
    await asyncio.to_thread(_terminate, first)
    for _ in range(50):  # the event loop sees the server's close of the idle socket
        await asyncio.sleep(0.02)
    second = await _backend_pid(engine)  # no error: replaced before use
    assert second != first


async def test_a_connection_that_dies_unnoticed_fails_as_transient_and_the_pool_recovers(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as conn:
        pid = int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        await conn.commit()
        await asyncio.to_thread(_terminate, pid)  # while checked out: found only when used
        with pytest.raises(DBAPIError) as caught:
            await conn.execute(text("SELECT 1"))
    assert is_transient_db_error(caught.value)  # answered 503 + Retry-After, not 500
    assert await _backend_pid(engine) != pid

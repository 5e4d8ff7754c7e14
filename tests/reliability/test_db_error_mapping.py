"""How the kit answers database errors that are not the service's fault, on real PostgreSQL errors raised
through SQLAlchemy + asyncpg: a database going away is a 503 (retry), a value it cannot store a 422 (fix the
request), anything else stays a 500."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from harness.databases import create_pg_database, drop_pg_database
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from metas_kit.errors import is_transient_db_error, is_unstorable_input

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    name = f"metas_rel_{os.getpid()}_dberrors"
    yield create_pg_database(name)
    drop_pg_database(name)


async def raised(
    url: str, sql: str, params: dict[str, object] | None = None, *, kill_first: bool = False
) -> DBAPIError:
    engine = create_async_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            if kill_first:
                # Another session terminates ours, as a PostgreSQL restart does.
                pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                killer = create_async_engine(url)
                async with killer.connect() as other:
                    await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                await killer.dispose()
            with pytest.raises(DBAPIError) as info:
                await conn.execute(text(sql), params or {})
            return info.value
    finally:
        await engine.dispose()


async def test_connection_terminated_by_the_server_is_transient(pg_url: str) -> None:
    exc = await raised(pg_url, "SELECT 1", kill_first=True)
    assert is_transient_db_error(exc)
    assert not is_unstorable_input(exc)


async def test_integer_beyond_int32_is_unstorable_input(pg_url: str) -> None:
    exc = await raised(pg_url, "SELECT CAST(:n AS integer)", {"n": "-25426532541"})
    assert is_unstorable_input(exc)
    assert not is_transient_db_error(exc)


async def test_nul_byte_in_text_is_unstorable_input(pg_url: str) -> None:
    exc = await raised(pg_url, "SELECT CAST(:s AS text)", {"s": "a\x00b"})
    assert is_unstorable_input(exc)


async def test_a_bug_in_the_services_own_sql_stays_a_server_error(pg_url: str) -> None:
    division = await raised(pg_url, "SELECT 1 / 0")
    missing = await raised(pg_url, "SELECT * FROM no_such_table")
    for exc in (division, missing):
        assert not is_unstorable_input(exc)
        assert not is_transient_db_error(exc)

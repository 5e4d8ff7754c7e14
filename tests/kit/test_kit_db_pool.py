"""The kit's PostgreSQL pool is fixed: at 32 requests at once it opens its 12 connections once and the requests
above them wait their turn, where a pool with an overflow opened and closed connections per request. When every
connection stays busy for the pool's whole timeout, the caller gets a 503 problem with Retry-After, not a 500."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from harness.databases import create_pg_database, drop_pg_database
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from metas_kit.db import make_engine
from metas_kit.errors import install_error_handlers
from metas_kit.settings import ServiceSettings

NAME = f"metas_kit_pool_size_{os.getpid()}"


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    url = await asyncio.to_thread(create_pg_database, NAME)
    yield url
    await asyncio.to_thread(drop_pg_database, NAME)


def count_connects(engine: AsyncEngine) -> list[int]:
    opened = [0]

    def connected(_conn: Any, _record: Any) -> None:
        opened[0] += 1

    event.listen(engine.sync_engine, "connect", connected)
    return opened


async def hold_together(engine: AsyncEngine, n: int) -> None:
    """n sessions each holding a connection at the same moment, then all returning it."""
    barrier = asyncio.Barrier(n)

    async def one() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            await barrier.wait()

    await asyncio.gather(*(one() for _ in range(n)))


async def burst(engine: AsyncEngine, n: int) -> None:
    """n short sessions at once, each a round trip, as n concurrent requests make them."""

    async def one() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_sleep(0.001)"))

    await asyncio.gather(*(one() for _ in range(n)))


async def test_the_default_pool_opens_its_connections_once_under_a_larger_load(pg_url: str) -> None:
    settings = ServiceSettings(database_url=pg_url, jwt_secret="s" * 32)
    engine = make_engine(pg_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
    opened = count_connects(engine)
    try:
        for _ in range(5):
            await burst(engine, 32)  # every session served, the ones above the pool after a wait
        assert opened[0] == settings.db_pool_size == 12
    finally:
        await engine.dispose()


async def test_a_pool_smaller_than_the_load_reconnects_every_time(pg_url: str) -> None:
    # What the kit's default was before (10 + 10): the control case of the test above.
    engine = make_engine(pg_url, pool_size=10, max_overflow=10)
    opened = count_connects(engine)
    try:
        await hold_together(engine, 20)
        await hold_together(engine, 20)
        assert opened[0] == 30  # 10 kept, 10 opened and closed twice
    finally:
        await engine.dispose()


async def test_an_exhausted_pool_answers_503_with_retry_after(tmp_path: Any) -> None:
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path}/pool.db", pool_size=1, max_overflow=0, pool_timeout=0.1
    )
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/read")
    async def read() -> dict[str, int]:
        async with engine.connect() as conn:
            return {"one": int((await conn.execute(text("SELECT 1"))).scalar_one())}

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/read")).json() == {"one": 1}
            async with engine.connect() as held:  # the only connection, busy
                await held.execute(text("SELECT 1"))
                busy = await client.get("/read")
            assert busy.status_code == 503
            assert busy.headers["retry-after"] == "1"
            assert busy.headers["content-type"] == "application/problem+json"
            assert busy.json()["type"].endswith("/database-busy")
            assert (await client.get("/read")).status_code == 200  # free again
    finally:
        await engine.dispose()

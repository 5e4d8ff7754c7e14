"""Helpers of the budget API tests: fresh migrated databases (PostgreSQL, SQLite), seeding, a running app."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from budget.app import ALEMBIC_INI, create_app
from budget.seed import load_seed
from budget.settings import Settings
from metas_kit.auth import Principal, issue_token
from metas_kit.db import Database
from metas_kit.migrations import upgrade_head

DATA = Path(__file__).resolve().parents[2] / "data" / "budget"

# ---- database-backed fixtures (PostgreSQL and SQLite) -----------------------------------------------


SECRET = "test-secret-budget-0123456789abcdef"
PG_ADMIN = os.environ.get("METAS_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_HOST = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "")


async def _fresh_pg(name: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"postgresql+asyncpg://{PG_HOST}/{name}"


async def fresh_database(backend: str, tag: str, tmp: Path) -> str:
    """An empty, migrated database of the given backend."""
    if backend == "postgresql":
        url = await _fresh_pg(f"metas_test_budget_{tag}_{os.getpid()}")
    else:
        url = f"sqlite+aiosqlite:///{tmp / f'budget-{tag}.db'}"
    await asyncio.to_thread(upgrade_head, ALEMBIC_INI, url)
    return url


async def seed_database(url: str) -> None:
    db = Database(url)
    try:
        async with db.sessionmaker() as session, session.begin():
            await load_seed(session, DATA)
    finally:
        await db.dispose()


def token(*roles: str, sub: str = "alice") -> dict[str, str]:
    return {"authorization": "Bearer " + issue_token(Principal(sub=sub, roles=frozenset(roles)), SECRET)}


class Api:
    """A running app (lifespan entered) with an httpx client, plus the database URL behind it."""

    def __init__(self, client: httpx.AsyncClient, url: str, app: object) -> None:
        self.client = client
        self.url = url
        self.app = app


async def start_api(url: str) -> AsyncIterator[Api]:
    settings = Settings(
        database_url=url,
        jwt_secret=SECRET,
        migrate_on_start=False,
        metrics_refresh_seconds=3600,
        log_json=False,
        log_level="WARNING",
        planning_url="http://planning.test",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://budget.test") as client:
            yield Api(client, url, app)

"""Fixtures of the budget tests: the project's copy of the PRR seed, the code table, and a seeded service
on a fresh migrated database of each backend (PostgreSQL and SQLite)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from harness.databases import drop_pg_database, fresh_database_async
from harness.tokens import TEST_JWT_SECRET, bearer

from budget.app import ALEMBIC_INI, create_app
from budget.domain.economic_codes import CodeTable, load_code_tables
from budget.domain.published import PublishedBudget, parse_published
from budget.seed import load_seed
from budget.settings import Settings
from metas_kit.db import Database

DATA = Path(__file__).resolve().parents[2] / "data" / "budget"


@pytest.fixture(scope="session")
def seed_doc() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((DATA / "prr_c17_i03.yaml").read_text(encoding="utf-8"))
    return doc


@pytest.fixture(scope="session")
def published(seed_doc: dict[str, Any]) -> PublishedBudget:
    return parse_published(seed_doc)


@pytest.fixture(scope="session")
def codes() -> CodeTable:
    tables = load_code_tables(yaml.safe_load((DATA / "economic_codes.yaml").read_text(encoding="utf-8")))
    return tables[-1]


# ---- database-backed fixtures (PostgreSQL and SQLite) -----------------------------------------------


SECRET = TEST_JWT_SECRET


async def fresh_database(backend: str, tag: str, tmp: Path) -> str:
    """An empty, migrated database of the given backend."""
    return await fresh_database_async(backend, f"budget_{tag}", tmp, ALEMBIC_INI)


async def seed_database(url: str) -> None:
    db = Database(url)
    try:
        async with db.sessionmaker() as session, session.begin():
            await load_seed(session, DATA)
    finally:
        await db.dispose()


Auth = Callable[..., dict[str, str]]


def _token(*roles: str, sub: str = "alice") -> dict[str, str]:
    return bearer(*roles, sub=sub)


@pytest.fixture(scope="session")
def auth() -> Auth:
    """auth("budget") -> headers with a bearer token holding those roles."""
    return _token


@pytest.fixture(scope="session")
def budget_app_factory() -> Callable[..., FastAPI]:
    return make_app


@pytest.fixture(scope="session")
def reseed() -> Callable[[str], Awaitable[None]]:
    """Run the seed loader again on a database (idempotence tests)."""
    return seed_database


@pytest.fixture(scope="session")
def reader() -> dict[str, str]:
    return _token("viewer")


@pytest.fixture(scope="session")
def writer() -> dict[str, str]:
    return _token("budget")


def make_app(url: str, **overrides: Any) -> FastAPI:
    settings = Settings(
        database_url=url,
        jwt_secret=SECRET,
        migrate_on_start=False,
        metrics_refresh_seconds=3600,
        log_json=False,
        log_level="WARNING",
        planning_url="http://planning.test",
        **overrides,
    )
    return create_app(settings)


async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://budget.test") as client:
            yield client


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
async def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A fresh, migrated and seeded database per backend and test module (PostgreSQL ones dropped after)."""
    tag = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_budget_")
    url = await fresh_database(str(request.param), tag, tmp_path_factory.mktemp("budget"))
    await seed_database(url)
    yield url
    if request.param == "postgresql":
        await asyncio.to_thread(drop_pg_database, url.rsplit("/", 1)[-1])


@pytest.fixture(scope="module")
def api_app(db_url: str) -> FastAPI:
    return make_app(db_url)


@pytest.fixture(scope="module")
async def api(api_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The seeded service (lifespan entered) behind an httpx client."""
    async for client in serve(api_app):
        yield client


@pytest.fixture
async def empty_api(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The service on a migrated SQLite database with nothing loaded."""
    url = await fresh_database("sqlite", "empty", tmp_path)
    async for client in serve(make_app(url)):
        yield client

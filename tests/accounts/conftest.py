"""Fixtures of the accounts tests: the service on a fresh migrated database of each backend, behind httpx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from accounts_support import make_app, serve
from fastapi import FastAPI
from harness.databases import drop_pg_database, fresh_database_async

from accounts.app import ALEMBIC_INI


@pytest.fixture(params=["postgresql", "sqlite"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated database per test and backend."""
    name = request.node.name.split("[")[0].removeprefix("test_")[:30]
    url = await fresh_database_async(str(request.param), f"acc_{name}", tmp_path, ALEMBIC_INI)
    yield url
    if request.param == "postgresql":
        await asyncio.to_thread(drop_pg_database, url.rsplit("/", 1)[-1])


@pytest.fixture
def app_factory(db_url: str, jwt_secret: str) -> Callable[..., FastAPI]:
    return lambda **overrides: make_app(db_url, jwt_secret, **overrides)


@pytest.fixture
async def api(app_factory: Callable[..., FastAPI]) -> AsyncIterator[httpx.AsyncClient]:
    async for client in serve(app_factory(max_failures_per_account=3, max_failures_per_address=5)):
        yield client


@pytest.fixture
def admin(token_for: Callable[..., str]) -> dict[str, str]:
    return {"authorization": token_for("admin", sub="root")}


@pytest.fixture
def gateway(token_for: Callable[..., str]) -> dict[str, str]:
    return {"authorization": token_for("service", sub="gateway")}

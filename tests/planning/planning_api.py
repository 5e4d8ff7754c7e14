"""Database and HTTP helpers of the planning API tests (PostgreSQL and SQLite)."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI
from harness.databases import fresh_database_async
from harness.tokens import TEST_JWT_SECRET, bearer
from sqlalchemy import text

from metas_kit.db import Database
from planning.app import ALEMBIC_INI
from planning.settings import Settings

# ---- database-backed fixtures (PostgreSQL and SQLite) -----------------------------------------------

SECRET = TEST_JWT_SECRET
TABLES = ("plan_item", "plan_version", "plan", "organisation", "audit_event", "idempotency_record")


async def fresh_database(backend: str, tag: str, tmp: Path) -> str:
    """An empty database of the given backend, migrated by Alembic (never create_all)."""
    return await fresh_database_async(backend, f"planning_{tag}", tmp, ALEMBIC_INI)


def token(*roles: str, sub: str = "alice") -> dict[str, str]:
    return bearer(*roles, sub=sub)


PLANNER = token("planner", sub="paula")
VIEWER = token("viewer", sub="victor")
ADMIN = token("admin", sub="ada")


def make_settings(url: str) -> Settings:
    return Settings(database_url=url, jwt_secret=SECRET, migrate_on_start=False, log_json=False, log_level="WARNING")


class Api:
    """A running app (lifespan entered) with an httpx client, plus the database URL behind it."""

    def __init__(self, client: httpx.AsyncClient, url: str, app: FastAPI, backend: str) -> None:
        self.client = client
        self.url = url
        self.app = app
        self.backend = backend

    async def wipe(self) -> None:
        db = Database(self.url)
        try:
            async with db.engine.begin() as conn:
                for table in TABLES:
                    await conn.execute(text(f"DELETE FROM {table}"))
        finally:
            await db.dispose()

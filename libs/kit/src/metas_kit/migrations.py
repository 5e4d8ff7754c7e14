"""Alembic helpers: one async env for every service, and a programmatic upgrade for embedded mode."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from metas_kit.db import ensure_wal, sqlite_file


def alembic_config(ini_path: Path, url: str) -> Config:
    cfg = Config(str(ini_path))
    cfg.set_main_option("script_location", str(ini_path.parent / "migrations"))
    # ConfigParser interpolation would choke on a '%' in a password.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["metas_url"] = url
    return cfg


def upgrade_head(ini_path: Path, url: str) -> None:
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        ensure_wal(url)
    command.upgrade(alembic_config(ini_path, url), "head")


def _ensure_sqlite_dir(url: str) -> None:
    path = sqlite_file(url)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _do_run(connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_env(metadata: MetaData, default_url: str) -> None:
    """Body of every service's migrations/env.py."""
    cfg = context.config
    url = cfg.attributes.get("metas_url") or default_url
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    async def online() -> None:
        engine = async_engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool)
        async with engine.connect() as conn:
            await conn.run_sync(_do_run, metadata)
        await engine.dispose()

    asyncio.run(online())

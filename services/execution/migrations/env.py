"""Alembic environment of the execution service."""

from execution.db import evidence, reminders, unlock_requests, value_checks  # noqa: F401 - register their tables on Base.metadata
from execution.db.models import Base
from execution.settings import Settings
from metas_kit.migrations import run_env

run_env(Base.metadata, Settings().database_url)

"""Alembic environment of the execution service."""

from execution.db import unlock_requests  # noqa: F401 - registers its table on Base.metadata
from execution.db.models import Base
from execution.settings import Settings
from metas_kit.migrations import run_env

run_env(Base.metadata, Settings().database_url)

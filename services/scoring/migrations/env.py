"""Alembic environment of the scoring service."""

from metas_kit.migrations import run_env
from scoring.db.models import Base
from scoring.settings import Settings

run_env(Base.metadata, Settings().database_url)

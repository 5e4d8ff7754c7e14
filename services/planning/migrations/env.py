"""Alembic environment of the planning service."""

from metas_kit.migrations import run_env
from planning.db.models import Base
from planning.settings import Settings

run_env(Base.metadata, Settings().database_url)

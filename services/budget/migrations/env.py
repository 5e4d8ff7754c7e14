"""Alembic environment of the budget service."""

from budget.db.models import Base
from budget.settings import Settings
from metas_kit.migrations import run_env

run_env(Base.metadata, Settings().database_url)

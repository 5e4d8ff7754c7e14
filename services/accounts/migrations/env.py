"""Alembic environment of the accounts service."""

from accounts.db.models import Base
from accounts.settings import Settings
from metas_kit.migrations import run_env

run_env(Base.metadata, Settings().database_url)

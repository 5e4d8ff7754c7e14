"""Settings of the execution service (env prefix METAS_EXECUTION_)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field

from metas_kit.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("EXECUTION")

    database_url: str = "sqlite+aiosqlite:///var/execution.db"
    planning_url: str = "http://127.0.0.1:8001"
    # A cached plan tree is revalidated (If-None-Match) at most this often.
    planning_revalidate_seconds: float = 5.0
    # Evidence files (docs/api/execution.md#evidence): largest accepted file, files per registration, where
    # the bytes are kept ("database": execution's own database, in the same transaction as the file's row).
    evidence_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    evidence_max_files: int = Field(default=50, ge=1)
    evidence_store: Literal["database"] = "database"


@lru_cache
def get_settings() -> Settings:
    return Settings()

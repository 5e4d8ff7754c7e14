"""Settings of the execution service (env prefix METAS_EXECUTION_)."""

from __future__ import annotations

from functools import lru_cache

from metas_kit.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("EXECUTION")

    database_url: str = "sqlite+aiosqlite:///var/execution.db"
    planning_url: str = "http://127.0.0.1:8001"
    # A cached plan tree is revalidated (If-None-Match) at most this often.
    planning_revalidate_seconds: float = 5.0


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""Settings of the planning service (env prefix METAS_PLANNING_)."""

from __future__ import annotations

from functools import lru_cache

from metas_kit.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("PLANNING")

    database_url: str = "sqlite+aiosqlite:///var/planning.db"


@lru_cache
def get_settings() -> Settings:
    return Settings()

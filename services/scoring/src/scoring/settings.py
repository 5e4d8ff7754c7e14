"""Settings of the scoring service (env prefix METAS_SCORING_)."""

from __future__ import annotations

from functools import lru_cache

from metas_kit.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("SCORING")

    database_url: str = "sqlite+aiosqlite:///var/scoring.db"
    planning_url: str = "http://127.0.0.1:8001"
    execution_url: str = "http://127.0.0.1:8002"
    # A plan document read from planning is revalidated with its ETag at most this often.
    planning_revalidate_seconds: float = 5.0


@lru_cache
def get_settings() -> Settings:
    return Settings()

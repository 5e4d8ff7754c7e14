"""Settings of the budget service (env prefix METAS_BUDGET_)."""

from __future__ import annotations

from functools import lru_cache

from metas_kit.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("BUDGET")

    database_url: str = "sqlite+aiosqlite:///var/budget.db"
    planning_url: str = "http://127.0.0.1:8001"
    # The organisation that owns this installation's budget (the PRR investment of Instituto de Informática):
    # only grants for it (or installation-wide ones) read or write the budget.
    organisation: str = "ii"


@lru_cache
def get_settings() -> Settings:
    return Settings()

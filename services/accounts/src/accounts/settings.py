"""Settings of the accounts service (env prefix METAS_ACCOUNTS_)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from metas_kit.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("ACCOUNTS")

    database_url: str = "sqlite+aiosqlite:///var/accounts.db"
    # A session ends after this long without a request, and in any case this long after sign-in.
    session_idle_seconds: int = Field(default=30 * 60, ge=60, le=24 * 3600)
    session_absolute_seconds: int = Field(default=12 * 3600, ge=300, le=7 * 24 * 3600)
    # Failed sign-ins counted over a sliding window, per account name and per client address: past the limit,
    # sign-in is refused (429) until the oldest failure in the window leaves it.
    throttle_window_seconds: int = Field(default=15 * 60, ge=1)
    max_failures_per_account: int = Field(default=5, ge=1)
    max_failures_per_address: int = Field(default=20, ge=1)
    # argon2id cost (RFC 9106's second recommended option: 64 MiB, 3 passes). Lower only in tests.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=64 * 1024, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)


@lru_cache
def get_settings() -> Settings:
    return Settings()

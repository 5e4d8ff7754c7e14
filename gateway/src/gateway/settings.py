"""Gateway settings (env prefix METAS_GATEWAY_)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from metas_kit.settings import ServiceSettings, service_config

UPSTREAMS = ("planning", "execution", "scoring", "budget")


class GatewaySettings(ServiceSettings):
    model_config = service_config("GATEWAY")

    planning_url: str = "http://127.0.0.1:8001"
    execution_url: str = "http://127.0.0.1:8002"
    scoring_url: str = "http://127.0.0.1:8003"
    budget_url: str = "http://127.0.0.1:8004"
    # Whole-request budget per upstream call; connect is kept short so a dead upstream fails fast.
    upstream_timeout_seconds: float = 10.0
    upstream_connect_timeout_seconds: float = 1.0
    max_connections_per_upstream: int = 200
    # Retries only for idempotent requests (safe methods, or a write carrying an Idempotency-Key).
    retries: int = 2
    retry_backoff_seconds: float = 0.05
    breaker_failure_threshold: int = 5
    breaker_reset_seconds: float = 5.0
    rate_limit_per_second: float = 200.0
    rate_limit_burst: int = 400
    max_body_bytes: int = 8 * 1024 * 1024
    cors_origins: list[str] = Field(default_factory=list)
    # JSON object {"<sha256 of key>": {"sub": ..., "roles": [...], "units": [...]}}; keys are never stored plain.
    api_keys: dict[str, dict[str, object]] = Field(default_factory=dict)
    api_keys_file: str | None = None

    def upstream_urls(self) -> dict[str, str]:
        return {name: getattr(self, f"{name}_url") for name in UPSTREAMS}


@lru_cache
def get_settings() -> GatewaySettings:
    return GatewaySettings()

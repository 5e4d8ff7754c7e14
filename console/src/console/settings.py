"""Console settings (env prefix METAS_CONSOLE_)."""

from __future__ import annotations

from functools import lru_cache

from metas_kit.settings import ServiceSettings, service_config


class ConsoleSettings(ServiceSettings):
    model_config = service_config("CONSOLE")

    # Every read and write goes through the gateway's public API with the person's session.
    gateway_url: str = "http://127.0.0.1:8000"
    upstream_timeout_seconds: float = 10.0


@lru_cache
def get_settings() -> ConsoleSettings:
    return ConsoleSettings()

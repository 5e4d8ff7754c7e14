"""Console settings (env prefix METAS_CONSOLE_)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import SecretStr, model_validator

from metas_kit.settings import ServiceSettings, service_config


class ConsoleSettings(ServiceSettings):
    model_config = service_config("CONSOLE")

    # Every read and write goes through the gateway's public API with the person's session.
    gateway_url: str = "http://127.0.0.1:8000"
    upstream_timeout_seconds: float = 10.0
    max_connections: int = 100
    # The name of the OpenID Connect provider the gateway is configured for (METAS_GATEWAY_OIDC_ISSUER): when
    # set, the sign-in page offers "Sign in with <name>" through the gateway's /api/auth/oidc/start. The gateway
    # publishes no public signal of its OIDC configuration, so the console is told alongside it.
    oidc_provider_name: str | None = None
    # Development only: act as the holder of this JWT when the browser has no session (refused elsewhere).
    dev_token: SecretStr | None = None

    @model_validator(mode="after")
    def _dev_token_only_in_development(self) -> ConsoleSettings:
        if self.dev_token is not None and self.environment != "development":
            raise ValueError("METAS_CONSOLE_DEV_TOKEN is for development only; unset it in " + self.environment)
        return self


@lru_cache
def get_settings() -> ConsoleSettings:
    return ConsoleSettings()

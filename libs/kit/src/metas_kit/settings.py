"""Settings base: every service subclasses it with its own env prefix (METAS_<SERVICE>_)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 32


class ServiceSettings(BaseSettings):
    """Common settings. Subclasses set ``model_config = service_config("PLANNING")``."""

    model_config = SettingsConfigDict(env_prefix="METAS_", extra="ignore", env_ignore_empty=True)

    environment: str = "development"
    database_url: str = "sqlite+aiosqlite:///var/service.db"
    # Embedded mode migrates on start; production runs `alembic upgrade head` as a separate step.
    migrate_on_start: bool = False
    # PostgreSQL: a fixed pool, no overflow. A request holds its connection from its first statement to its commit
    # while the event loop serves the others, so under load more requests want one than the process can use; with
    # an overflow, each connection opened above the pool was closed again on return (a connect and a close per
    # request at 32 at once: 6–8 % of a plan read's CPU, BENCHMARKS.md). Above the pool, requests wait their turn
    # (up to 30 s, then 503). SQLite keeps its own small pool (metas_kit.db.make_engine).
    db_pool_size: int = 12
    db_max_overflow: int = 0
    log_level: str = "INFO"
    log_json: bool = True
    # One secret shared by the gateway and the services (HS256); never defaulted outside tests.
    jwt_secret: SecretStr | None = Field(default=None, validation_alias=AliasChoices("METAS_JWT_SECRET", "jwt_secret"))
    jwt_issuer: str = Field(default="metas", validation_alias=AliasChoices("METAS_JWT_ISSUER", "jwt_issuer"))
    upstream_timeout_seconds: float = 5.0
    # Every service bounds requests itself (a service reached directly has no gateway in front of it): bodies
    # over max_body_bytes are 413, bodies not received within body_timeout_seconds 408, longer queries 414.
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1)
    body_timeout_seconds: float = Field(default=30.0, gt=0)
    max_query_bytes: int = Field(default=8 * 1024, ge=1)
    docs_enabled: bool = True
    # Gauges computed from the database are recomputed this often (0 disables the background refresh).
    metrics_refresh_seconds: float = 30.0

    @model_validator(mode="after")
    def _refuse_weak_jwt_secret(self) -> ServiceSettings:
        """A guessable secret lets anyone mint an admin token: refuse to start with one."""
        if self.jwt_secret is None:
            return self
        secret = self.jwt_secret.get_secret_value()
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"METAS_JWT_SECRET must be at least {MIN_SECRET_LENGTH} characters long")
        if "REPLACE" in secret:
            raise ValueError("METAS_JWT_SECRET is still the template's placeholder")
        if "change-me" in secret and self.environment != "development":
            raise ValueError(f"METAS_JWT_SECRET is a development placeholder; environment is {self.environment!r}")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def service_config(prefix: str) -> SettingsConfigDict:
    """Settings config for a service: env vars ``METAS_<PREFIX>_<FIELD>``."""
    return SettingsConfigDict(env_prefix=f"METAS_{prefix}_", extra="ignore", env_ignore_empty=True)

"""Settings of the execution service (env prefix METAS_EXECUTION_)."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import AwareDatetime, Field, SecretStr, model_validator

from metas_kit.settings import ServiceSettings, service_config


class Settings(ServiceSettings):
    model_config = service_config("EXECUTION")

    database_url: str = "sqlite+aiosqlite:///var/execution.db"
    planning_url: str = "http://127.0.0.1:8001"
    # A cached plan tree is revalidated (If-None-Match) at most this often.
    planning_revalidate_seconds: float = 5.0
    # A lock exception ends at the latest with the month in which the cycle's last write window closes, or this many
    # days from when it is granted if that is later (docs/api/execution.md, "Locks").
    lock_exception_max_days: int = Field(31, ge=1, le=366)
    # Evidence files (docs/api/execution.md#evidence): largest accepted file, files per registration, where
    # the bytes are kept ("database": execution's own database, in the same transaction as the file's row).
    evidence_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    evidence_max_files: int = Field(default=50, ge=1)
    evidence_store: Literal["database", "s3"] = "database"
    # The S3-compatible object store of evidence_store="s3" (path-style requests, AWS Signature V4): endpoint URL,
    # bucket (it must exist), region of the signature, credentials, the key prefix, and the sweeper that deletes
    # objects no row names (every interval, once older than grace; docs/api/execution.md#evidence).
    evidence_s3_endpoint: str | None = None
    evidence_s3_bucket: str | None = None
    evidence_s3_region: str = "us-east-1"
    evidence_s3_access_key_id: str | None = None
    evidence_s3_secret_access_key: SecretStr | None = None
    evidence_s3_prefix: str = "evidence/"
    evidence_s3_timeout_seconds: float = Field(default=30.0, gt=0)
    evidence_sweep_interval_seconds: float = Field(default=3600.0, ge=0)  # 0 disables the sweeper
    evidence_sweep_grace_seconds: float = Field(default=3600.0, ge=0)
    # Out-of-history warnings (docs/domain.md §2.6): a value outside median ± k × 1.4826 × MAD of the item's last
    # `window` certified values (when there are at least `min_values`) is registered with a warning.
    history_band_k: Decimal = Field(default=Decimal("3.5"), gt=0, le=100)
    history_band_window: int = Field(default=12, ge=1, le=120)
    history_band_min_values: int = Field(default=3, ge=2, le=120)
    # Reminder digests (docs/api/execution.md#reminders). Nothing is sent while smtp_host is unset.
    accounts_url: str = "http://127.0.0.1:8005"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "metas <metas@localhost>"
    smtp_timeout_seconds: float = Field(default=20.0, gt=0)
    reminders_interval_seconds: float = 300.0  # how often the job looks for digests to send; 0 disables it
    reminder_lead_business_days: int = Field(default=3, ge=1, le=20)
    # A digest whose claim or send did not complete is retried after this long, at most max_attempts times.
    reminders_retry_after_seconds: float = Field(default=900.0, ge=0)
    reminders_max_attempts: int = Field(default=5, ge=1)
    # Work out the digests as of this instant instead of now (replaying a day the job missed; tests).
    reminders_as_of: AwareDatetime | None = None

    @model_validator(mode="after")
    def _s3_is_complete(self) -> Settings:
        if self.evidence_store == "s3":
            missing = [
                name
                for name in (
                    "evidence_s3_endpoint",
                    "evidence_s3_bucket",
                    "evidence_s3_access_key_id",
                    "evidence_s3_secret_access_key",
                )
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"evidence_store=s3 needs {', '.join(m.upper() for m in missing)}")
        return self

    @model_validator(mode="after")
    def _room_for_evidence(self) -> Settings:
        """An evidence upload's body is the file: unless the body limit is set explicitly, the kit's limit (8 MiB)
        grows to the evidence limit, so the file's own check (413 naming the limit) is the one that answers."""
        if "max_body_bytes" not in self.model_fields_set:
            self.max_body_bytes = max(self.max_body_bytes, self.evidence_max_bytes)
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()

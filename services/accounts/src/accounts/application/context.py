"""What the application functions need besides the database session, built once per app (app.state)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from accounts.domain.passwords import Passwords
from accounts.domain.sessions import Lifetime
from accounts.settings import Settings


@dataclass(frozen=True)
class AccountsContext:
    passwords: Passwords
    lifetime: Lifetime
    window: timedelta
    max_failures_per_account: int
    max_failures_per_address: int

    @classmethod
    def from_settings(cls, settings: Settings) -> AccountsContext:
        return cls(
            passwords=Passwords(
                time_cost=settings.argon2_time_cost,
                memory_kib=settings.argon2_memory_kib,
                parallelism=settings.argon2_parallelism,
            ),
            lifetime=Lifetime(
                idle=timedelta(seconds=settings.session_idle_seconds),
                absolute=timedelta(seconds=settings.session_absolute_seconds),
            ),
            window=timedelta(seconds=settings.throttle_window_seconds),
            max_failures_per_account=settings.max_failures_per_account,
            max_failures_per_address=settings.max_failures_per_address,
        )

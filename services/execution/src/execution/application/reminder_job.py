"""Lifespan hooks of the reminder job: the accounts directory client and the periodic run in every replica."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from execution.application.reminders import run_reminders
from execution.clients.accounts import AccountsClient
from execution.settings import Settings
from metas_kit.background import Periodic
from metas_kit.http import make_client

Hook = Callable[[FastAPI], Awaitable[None]]


def reminder_hooks(settings: Settings, accounts: AccountsClient | None = None) -> tuple[Hook, Hook]:
    """``accounts`` lets a caller (tests) supply its own directory client. The job runs only with an SMTP host."""
    every = settings.reminders_interval_seconds if settings.smtp_host else 0
    job = Periodic("reminders", every, run_reminders)

    async def start(app: FastAPI) -> None:
        if accounts is not None:
            app.state.accounts = accounts
        else:
            secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
            http = make_client(
                settings.accounts_url,
                timeout=settings.upstream_timeout_seconds,
                service_name="execution",
                jwt_secret=secret,
            )
            app.state.accounts = AccountsClient(http)
        await job.start(app)

    async def stop(app: FastAPI) -> None:
        await job.stop(app)
        if accounts is None:
            await app.state.accounts.aclose()

    return start, stop

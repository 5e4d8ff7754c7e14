"""Helpers of the accounts tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI

from accounts.app import create_app
from accounts.settings import Settings

# Cheap argon2 parameters: the tests exercise the logic, not the cost (the default cost is asserted apart).
FAST_HASH = {"argon2_time_cost": 1, "argon2_memory_kib": 1024, "argon2_parallelism": 1}
PASSWORD = "correct horse battery"


def person(username: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": username,
        "display_name": username.capitalize(),
        "email": f"{username}@example.pt",
        "locale": "pt-PT",
        "password": PASSWORD,
        "grants": [{"role": "registrar", "org": "ipsm", "units": ["DS"]}],
    }
    body.update(extra)
    return body


def make_app(url: str, secret: str, **overrides: Any) -> FastAPI:
    settings = Settings(
        database_url=url,
        jwt_secret=secret,
        migrate_on_start=False,
        log_json=False,
        log_level="WARNING",
        **{**FAST_HASH, **overrides},
    )
    return create_app(settings)


async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://accounts.test") as client:
            yield client

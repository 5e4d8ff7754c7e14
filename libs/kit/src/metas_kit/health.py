"""Liveness (/healthz: the process answers) and readiness (/readyz: its database and upstreams answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

ReadinessCheck = Callable[[Request], Awaitable[None]]


def health_router(checks: dict[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        async def run(name: str, check: ReadinessCheck) -> tuple[str, str]:
            try:
                await asyncio.wait_for(check(request), timeout=2.0)
                return name, "ok"
            except Exception as exc:  # readiness reports any failure, whatever its type
                return name, f"fail: {type(exc).__name__}"

        results = dict(await asyncio.gather(*(run(n, c) for n, c in checks.items())))
        ready = all(v == "ok" for v in results.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": results},
            status_code=200 if ready else 503,
        )

    return router


async def database_check(request: Request) -> None:
    await request.app.state.db.ping()

"""Console app factory: `uvicorn --factory console.app:create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from console.settings import ConsoleSettings, get_settings
from metas_kit.health import health_router
from metas_kit.logging import configure_logging
from metas_kit.metrics import metrics_router
from metas_kit.middleware import RequestContextMiddleware


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("console", settings.log_level, settings.log_json)
        app.state.gateway = httpx.AsyncClient(base_url=settings.gateway_url, timeout=settings.upstream_timeout_seconds)
        try:
            yield
        finally:
            await app.state.gateway.aclose()

    app = FastAPI(title="metas console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.add_middleware(RequestContextMiddleware, service="console")
    app.include_router(health_router({}))
    app.include_router(metrics_router())

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def home() -> str:
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>metas</title></head>'
            "<body><main><h1>metas</h1><p>The console is being built.</p></main></body></html>"
        )

    return app

"""App factory shared by the services: errors, request context, metrics, health, auth state, lifespan."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

from metas_kit.auth import current_principal
from metas_kit.db import Database
from metas_kit.errors import install_error_handlers
from metas_kit.health import ReadinessCheck, database_check, health_router
from metas_kit.logging import configure_logging
from metas_kit.metrics import metrics_router
from metas_kit.middleware import BodyLimitMiddleware, HeadAsGetMiddleware, RequestContextMiddleware
from metas_kit.migrations import upgrade_head
from metas_kit.pagination import derive_cursor_key
from metas_kit.settings import ServiceSettings

Hook = Callable[[FastAPI], Awaitable[None]]

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
        "warnings": {"type": "array", "items": {"type": "object"}},
    },
    "additionalProperties": True,
}


def operation_id(route: APIRoute) -> str:
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


def create_service_app(
    *,
    name: str,
    settings: ServiceSettings,
    routers: Sequence[APIRouter],
    alembic_ini: Path | None = None,
    readiness: dict[str, ReadinessCheck] | None = None,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    description: str = "",
    version: str = "0.1.0",
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(name, settings.log_level, settings.log_json)
        if settings.migrate_on_start and alembic_ini is not None:
            # Alembic's env runs its own event loop: give it a thread of its own.
            await asyncio.to_thread(upgrade_head, alembic_ini, settings.database_url)
        app.state.db = Database(
            settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
        for hook in on_startup:
            await hook(app)
        # Everything built so far (modules, routes, models, pools) lives as long as the process: moving it out of
        # the collector's generations spares every full collection from rescanning it.
        gc.freeze()
        try:
            yield
        finally:
            for hook in on_shutdown:
                await hook(app)
            await app.state.db.dispose()

    app = FastAPI(
        title=f"metas {name}",
        description=description,
        version=version,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    app.state.service_name = name
    app.state.settings = settings
    app.state.jwt_secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
    app.state.jwt_issuer = settings.jwt_issuer
    install_error_handlers(app)
    # Innermost: the application answers HEAD as GET; the request context outside it still sees (and logs) HEAD.
    app.add_middleware(HeadAsGetMiddleware)
    # Added next, so it runs inside the request context (its 413/408/414 carry the request id and are counted).
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        timeout_seconds=settings.body_timeout_seconds,
        max_query_bytes=settings.max_query_bytes,
    )
    app.add_middleware(RequestContextMiddleware, service=name, cursor_key=derive_cursor_key(app.state.jwt_secret, name))
    # Authentication runs before any dependency of any route, so nothing (a lookup, a 404, a 409) is decided
    # for a caller without a valid token; routes then require their roles.
    for router in routers:
        app.include_router(router, dependencies=[Depends(current_principal)])
    # Health and metrics last: a request is matched against the routes in order (a few µs each), and the API's
    # requests outnumber the probes' and the scrapes'. Every API path starts with /v1, so none can shadow them.
    checks: dict[str, ReadinessCheck] = {"database": database_check, **(readiness or {})}
    app.include_router(health_router(checks))
    app.include_router(metrics_router())
    _add_problem_schema(app)
    return app


def _add_problem_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]

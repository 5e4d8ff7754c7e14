"""Console app factory: `uvicorn --factory console.app:create_app`."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from console.gateway import ApiProblem
from console.i18n import load_catalogs
from console.pages import (
    admin,
    auth,
    budget,
    bulk,
    bulk_template,
    certify,
    compliance,
    evidence,
    home,
    item_checks,
    plan_versions,
    planner,
    registration,
    reminders,
    scorecards,
    unlock,
)
from console.pages.common import with_organisations
from console.problems import Told, tell
from console.security import SecurityHeaders
from console.settings import ConsoleSettings, get_settings
from console.web import CsrfRejected, Page, SignInRequired, page_context, sign_in_url
from metas_kit.health import health_router
from metas_kit.logging import configure_logging
from metas_kit.metrics import metrics_router
from metas_kit.middleware import RequestContextMiddleware

HERE = Path(__file__).parent
log = logging.getLogger("metas.console")


def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    return env


def create_app(settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("console", settings.log_level, settings.log_json)
        app.state.gateway = httpx.AsyncClient(
            base_url=settings.gateway_url,
            timeout=httpx.Timeout(
                settings.upstream_timeout_seconds, connect=min(settings.upstream_timeout_seconds, 2.0)
            ),
            limits=httpx.Limits(max_connections=settings.max_connections),
            headers={"user-agent": "metas-console"},
        )
        gc.freeze()  # start-up objects live as long as the process: keep them out of full collections
        try:
            yield
        finally:
            await app.state.gateway.aclose()

    app = FastAPI(title="metas console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.templates = templates()
    app.state.catalogs = load_catalogs()
    app.state.plan_cache = {}
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestContextMiddleware, service="console")

    async def gateway_ready(request: Request) -> None:
        response = await request.app.state.gateway.get("/healthz", timeout=1.5)
        if response.status_code != 200:
            raise RuntimeError("gateway not answering")

    app.include_router(health_router({"gateway": gateway_ready}))
    app.include_router(metrics_router())
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # plan_versions before planner: /plans/import is not a plan id
    for module in (
        auth,
        home,
        registration,
        bulk,
        bulk_template,
        certify,
        plan_versions,
        planner,
        item_checks,
        budget,
        admin,
        scorecards,
        compliance,
        evidence,
        unlock,
        reminders,
    ):
        app.include_router(module.router)

    async def error_page(request: Request) -> Page:
        """An error page keeps the layout of a signed-in person (menu, organisation, sign-out) when the session
        still holds; without one, or when the gateway cannot say who it is, the bare layout."""
        try:
            page = await page_context(request)
            await with_organisations(page)
            return page
        except (SignInRequired, ApiProblem):
            return await page_context(request, signed_in=False)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: Exception) -> Response:
        response = Response(status_code=303, headers={"location": sign_in_url(request)})
        if request.headers.get("hx-request"):
            response.headers["hx-redirect"] = sign_in_url(request)
        return response

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, exc: Exception) -> Response:
        page = await error_page(request)
        told = Told(
            page.gettext("This form had expired. Nothing was sent; reload the page and try again."), reload=True
        )
        title = page.gettext("Form expired")
        return page.render("error.html", status=403, title=title, told=told, reload_url=request.url.path)

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiProblem)
        if exc.status == 401:
            return await _sign_in(request, exc)
        page = await error_page(request)
        told = tell(exc, page.gettext)
        status = exc.status if exc.status in (403, 404, 409, 412, 422, 429) else 503
        title = {403: page.gettext("Not allowed"), 404: page.gettext("Not found")}.get(status, page.gettext("Problem"))
        return page.render(
            "error.html", status=status, title=title, told=told, detail=exc.detail, reload_url=request.url.path
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        page = await error_page(request)
        title = page.gettext("Not found") if exc.status_code == 404 else page.gettext("Problem")
        told = Told(page.gettext("This page does not exist.") if exc.status_code == 404 else str(exc.detail))
        return page.render("error.html", status=exc.status_code, title=title, told=told, detail=None, reload_url=None)

    return app

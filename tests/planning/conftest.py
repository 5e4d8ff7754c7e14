"""Fixtures of the planning tests: the seed plan documents and the app on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from planning_api import Api, fresh_database, make_settings
from planning_seeds import load_plan

from planning.app import create_app


@pytest.fixture
def quar() -> dict[str, Any]:
    return load_plan("ii-2024-quar")


@pytest.fixture
def acordo() -> dict[str, Any]:
    return load_plan("ipsm-2014-acordo")


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
async def api_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    tag = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    url = await fresh_database(request.param, tag, tmp_path_factory.mktemp("planning"))
    app = create_app(make_settings(url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://planning.test") as client:
            yield Api(client, url, app, request.param)


@pytest.fixture
async def api(api_server: Api) -> Api:
    """The module's app over an emptied database."""
    await api_server.wipe()
    return api_server

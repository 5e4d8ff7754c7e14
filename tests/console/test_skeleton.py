"""The console answers with a page and its health endpoints, as a process the gateway can route to."""

from __future__ import annotations

import httpx

from console.app import create_app
from console.settings import ConsoleSettings


async def test_home_page_is_html() -> None:
    app = create_app(ConsoleSettings(gateway_url="http://127.0.0.1:9"))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as client:
            page = await client.get("/")
            health = await client.get("/healthz")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<main>" in page.text
    assert health.json() == {"status": "ok"}

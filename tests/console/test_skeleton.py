"""The console in-process: without a session every page leads to sign-in; the sign-in page carries the headers
that keep scripts and styles to the console's own files."""

from __future__ import annotations

import httpx

from console.app import create_app
from console.settings import ConsoleSettings


async def test_without_a_session_pages_lead_to_sign_in() -> None:
    app = create_app(ConsoleSettings(gateway_url="http://127.0.0.1:9"))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as client:
            home = await client.get("/")
            deep = await client.get("/plans/ipsm-2014-acordo/registrations/DS-I2/2014-11?x=1")
            page = await client.get("/sign-in", headers={"accept-language": "pt-BR,pt;q=0.9"})
            health = await client.get("/healthz")
    assert (home.status_code, home.headers["location"]) == (303, "/sign-in")
    target = "%2Fplans%2Fipsm-2014-acordo%2Fregistrations%2FDS-I2%2F2014-11%3Fx%3D1"
    assert deep.headers["location"] == f"/sign-in?next={target}"
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="pt-BR">' in page.text
    assert '<label for="password">Senha</label>' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "<script>" not in page.text
    assert "<style" not in page.text
    assert " style=" not in page.text
    assert page.cookies.get("console_csrf")
    assert health.json() == {"status": "ok"}


async def test_sign_in_offers_oidc_only_when_a_provider_is_named() -> None:
    plain = create_app(ConsoleSettings(gateway_url="http://127.0.0.1:9"))
    named = create_app(ConsoleSettings(gateway_url="http://127.0.0.1:9", oidc_provider_name="Autenticação.gov"))
    pages = {}
    for key, app in (("plain", plain), ("named", named)):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
                pages[key] = await client.get("/sign-in?next=%2Fplans%3Fx%3D1", headers={"accept-language": "pt-PT"})
    assert pages["plain"].status_code == 200
    assert "/api/auth/oidc/start" not in pages["plain"].text
    assert 'data-testid="oidc"' not in pages["plain"].text
    # The person comes back where they were going (the start endpoint's `next`), and the name is escaped text.
    assert (
        '<a class="button" href="/api/auth/oidc/start?next=%2Fplans%3Fx%3D1" data-testid="oidc">'
        "Iniciar sessão com Autenticação.gov</a>"
    ) in pages["named"].text

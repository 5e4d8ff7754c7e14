"""Browser tests of the console: the real cluster (services, gateway, console) with the seed plans, Debian's
chromium driven by Playwright, axe-core checking every page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from console_support import CHEAP_ARGON2, CHROMIUM, CHROMIUM_ARGS, Stack, running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> Iterator[Stack]:
    extra_env = {
        "accounts": CHEAP_ARGON2,
        # The sign-in page then offers the gateway's OpenID Connect start (its flow is tested in tests/gateway).
        "console": {"METAS_CONSOLE_OIDC_PROVIDER_NAME": "Test IdP"},
        # Evidence files of at most 1 MiB, so the browser tests can send one too large (the default is 20 MiB).
        "execution": {"METAS_EXECUTION_EVIDENCE_MAX_BYTES": "1048576"},
    }
    with running_stack(tmp_path_factory.mktemp("console-stack"), jwt_secret, extra_env) as running:
        yield running


# Per module: Playwright's sync API keeps an event loop marked running while it is open, which async tests
# (pytest-asyncio) of later modules would trip over.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def open_page(browser: Any, stack: Stack) -> Iterator[Callable[..., Any]]:
    """`open_page(locale="pt-PT")` → a new page in a fresh context (its own cookies), closed after the test.
    Every page records the CSP violations the browser reports."""
    contexts: list[Any] = []

    def make(locale: str = "en") -> Any:
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.csp_violations = []
        page.stack_url = stack.url
        page.on(
            "console",
            lambda msg: page.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None,
        )
        return page

    yield make
    for context in contexts:
        context.close()

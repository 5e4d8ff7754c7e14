"""Browser tests of the console: the real cluster (services, gateway, console) with the seed plans, Debian's
chromium driven by Playwright, axe-core checking every page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from console_support import CHROMIUM, CHROMIUM_ARGS, Stack

from metas_dev.cluster import SERVICES, Cluster, ClusterConfig, free_port
from metas_dev.run import load_seeds


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("console-stack")
    config = ClusterConfig(
        ports={name: free_port() for name in (*SERVICES, "gateway", "console")},
        database_urls={s: f"sqlite+aiosqlite:///{tmp}/{s}.db" for s in SERVICES},
        jwt_secret=jwt_secret,
        log_dir=tmp / "logs",
        # argon2id at its production cost would make every sign-in of the suite take ~0.3 s of CPU.
        extra_env={
            "accounts": {"METAS_ACCOUNTS_ARGON2_TIME_COST": "1", "METAS_ACCOUNTS_ARGON2_MEMORY_KIB": "8192"},
            # The sign-in page then offers the gateway's OpenID Connect start (its flow is tested in tests/gateway).
            "console": {"METAS_CONSOLE_OIDC_PROVIDER_NAME": "Test IdP"},
            # Evidence files of at most 1 MiB, so the browser tests can send one too large (the default is 20 MiB).
            "execution": {"METAS_EXECUTION_EVIDENCE_MAX_BYTES": "1048576"},
        },
    )
    cluster = Cluster(config)
    cluster.start()
    running = Stack(cluster, tmp, jwt_secret)
    try:
        cluster.wait_ready(timeout=90)
        load_seeds(cluster)
        running.create_accounts()
        yield running
    finally:
        cluster.stop()


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

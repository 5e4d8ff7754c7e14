"""The four services in process, wired to each other over ASGI transports (no mocks), for the security tests.

``pg_stack`` (PostgreSQL) serves the role matrices and the audit tests; ``audit_stack`` runs the audit tests on
both backends (its PostgreSQL case is ``pg_stack``). Databases come from the kit's ``fresh_database`` (the helper
behind the root ``database_url_factory`` fixture), at session scope so each stack is built once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from security_support import Stack, running_stack


@pytest.fixture(scope="session")
async def pg_stack(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> AsyncIterator[Stack]:
    async with running_stack("postgresql", tmp_path_factory.mktemp("sec-pg"), jwt_secret) as stack:
        yield stack


@pytest.fixture(scope="session")
async def sqlite_stack(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> AsyncIterator[Stack]:
    async with running_stack("sqlite", tmp_path_factory.mktemp("sec-sqlite"), jwt_secret) as stack:
        yield stack


@pytest.fixture(scope="session", params=["postgresql", "sqlite"])
def audit_stack(request: pytest.FixtureRequest, pg_stack: Stack) -> Stack:
    """Both backends. pg_stack is a static dependency on purpose: a fixture fetched with getfixturevalue is torn
    down with the fixture that fetched it, i.e. when this one moves on to its next param."""
    if request.param == "postgresql":
        return pg_stack
    stack: Stack = request.getfixturevalue("sqlite_stack")
    return stack


@pytest.fixture(scope="session")
def bearer(token_for: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """``bearer("registrar", units=["DAS"], sub="ana")`` → request headers with that identity."""

    def make(*roles: str, units: tuple[str, ...] | list[str] = (), sub: str | None = None) -> dict[str, str]:
        return {"authorization": token_for(*roles, units=units, sub=sub)}

    return make


@pytest.fixture(scope="session")
def as_role(bearer: Callable[..., dict[str, str]]) -> Callable[[str], dict[str, str]]:
    """Headers of a caller holding exactly one role; the registrar's token lists the unit DAS (QUAR plan)."""

    def make(role: str) -> dict[str, str]:
        units = ["DAS"] if role == "registrar" else []
        return bearer(role, units=units, sub=f"sec-{role}")

    return make

"""Fixtures shared by every test package: database backends, tokens, and the real five-process cluster."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from harness.databases import BACKENDS, create_pg_database, drop_test_databases, fresh_database, made_pg_databases
from harness.tokens import TEST_JWT_SECRET, GrantSpec, principal_for

from metas_dev.cluster import SERVICES, Cluster, ClusterConfig, free_port
from metas_kit.auth import ANY_ORG, issue_token


@pytest.fixture(scope="session", autouse=True)
def _test_databases_cleaned_up() -> Iterator[None]:
    """Every PostgreSQL database this session makes is dropped at its end (those of killed earlier runs when it
    makes its first). A session that makes none never connects: pure unit suites run without PostgreSQL."""
    yield
    if made_pg_databases():
        drop_test_databases(only_pid=os.getpid())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over SQLite and PostgreSQL."""
    return str(request.param)


@pytest.fixture
def database_url_factory(backend: str, tmp_path: Path) -> Callable[..., str]:
    """`database_url_factory("planning", alembic_ini)` → a fresh database on the current backend, migrated."""

    def make(name: str, alembic_ini: Path | None = None) -> str:
        return fresh_database(backend, name, tmp_path, alembic_ini)

    return make


@pytest.fixture(scope="session")
def jwt_secret() -> str:
    return TEST_JWT_SECRET


@pytest.fixture(scope="session")
def token_for(jwt_secret: str) -> Callable[..., str]:
    """A bearer header value.

    - `token_for("registrar", units=["DAS"])`: installation-wide (org "*"), as tokens meant before grants;
    - `token_for("registrar", org="ipsm", units=["DS"])`: every role given, for that organisation (and units);
    - `token_for(grants=[("registrar", "ipsm", ["DS"]), ("viewer", "ii")])`: several grants at once.
    """

    def make(
        *roles: str,
        units: Iterable[str] = (),
        sub: str | None = None,
        org: str = ANY_ORG,
        grants: Iterable[GrantSpec] = (),
    ) -> str:
        principal = principal_for(*roles, units=units, sub=sub, org=org, grants=grants)
        return "Bearer " + issue_token(principal, jwt_secret)

    return make


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> Iterator[Cluster]:
    """The five real processes on ephemeral loopback ports, each service on its own PostgreSQL database."""
    tmp = tmp_path_factory.mktemp("cluster")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    config = ClusterConfig(
        ports={name: free_port() for name in (*SERVICES, "gateway")},
        database_urls={s: create_pg_database(f"metas_it_{os.getpid()}_{worker}_{s}") for s in SERVICES},
        jwt_secret=jwt_secret,
        log_dir=tmp / "logs",
        upstream_timeout_seconds=3.0,
    )
    running = Cluster(config)
    running.start()
    try:
        running.wait_ready(timeout=90)
        yield running
    finally:
        running.stop()

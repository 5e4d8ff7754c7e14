"""Builds the four services in process on fresh migrated databases, seeded, and wired to each other through
ASGI transports exactly as the services' own test suites do (planning ← execution ← scoring; budget → planning)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from harness.databases import drop_pg_database, fresh_database

from metas_kit.db import Database
from metas_kit.http import make_client

ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "data" / "plans"
BUDGET_DATA = ROOT / "data" / "budget"
QUAR = "ii-2024-quar"
IPSM = "ipsm-2014-acordo"
SERVICES = ("planning", "execution", "scoring", "budget")
# Every role the kit knows, plus a token with no role at all.
ROLES = ("admin", "planner", "registrar", "certifier", "budget", "viewer", "auditor", "service")
# Execution writes go to the QUAR plan (cycle 2024) at this instant: 2024-02 is open and owed.
EXECUTION_NOW = datetime(2024, 3, 11, 12, tzinfo=UTC)


@dataclass
class Stack:
    backend: str
    apps: dict[str, FastAPI] = field(default_factory=dict)
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    def __getitem__(self, service: str) -> httpx.AsyncClient:
        return self.clients[service]


def _asgi(app: FastAPI, name: str, secret: str, caller: str) -> httpx.AsyncClient:
    """A service-to-service client (mints its own `service` token) that reaches ``app`` in process."""
    return make_client(
        f"http://{name}.test", transport=httpx.ASGITransport(app=app), jwt_secret=secret, service_name=caller
    )


async def _database(backend: str, name: str, tmp: Path, ini: Path) -> str:
    # Alembic's env runs its own event loop: migrate in a thread.
    return await asyncio.to_thread(fresh_database, backend, name, tmp, ini)


def _db_name(service: str) -> str:
    # fresh_database adds the xdist worker; the pid keeps two runs at once (a person and `make test`) apart
    return f"sec_{os.getpid()}_{service}"


async def _seed_budget(url: str) -> None:
    from budget.seed import load_seed

    db = Database(url)
    try:
        async with db.sessionmaker() as session, session.begin():
            await load_seed(session, BUDGET_DATA)
    finally:
        await db.dispose()


@asynccontextmanager
async def running_stack(backend: str, tmp: Path, secret: str) -> AsyncIterator[Stack]:
    from budget.app import ALEMBIC_INI as BUDGET_INI
    from budget.app import create_app as create_budget
    from budget.settings import Settings as BudgetSettings
    from execution.app import ALEMBIC_INI as EXECUTION_INI
    from execution.app import create_app as create_execution
    from execution.settings import Settings as ExecutionSettings
    from metas_clients.planning import PlanningClient as BudgetPlanningClient
    from metas_clients.planning import PlanningClient as ExecutionPlanningClient
    from metas_clients.planning import PlanningClient as ScoringPlanningClient
    from planning.app import ALEMBIC_INI as PLANNING_INI
    from planning.app import create_app as create_planning
    from planning.seed import load as load_plans
    from planning.settings import Settings as PlanningSettings
    from scoring.app import ALEMBIC_INI as SCORING_INI
    from scoring.app import create_app as create_scoring
    from scoring.clients.upstreams import ExecutionClient as ScoringExecutionClient
    from scoring.settings import Settings as ScoringSettings

    inis = {"planning": PLANNING_INI, "execution": EXECUTION_INI, "scoring": SCORING_INI, "budget": BUDGET_INI}
    # One after the other: Alembic's `context` proxy is process-global, not thread-safe.
    urls = {s: await _database(backend, _db_name(s), tmp, inis[s]) for s in SERVICES}
    await load_plans(PLANS, urls["planning"])
    await _seed_budget(urls["budget"])
    common: dict[str, Any] = {"jwt_secret": secret, "migrate_on_start": False, "log_json": False, "log_level": "ERROR"}
    stack = Stack(backend)
    async with AsyncExitStack() as exits:
        planning = create_planning(PlanningSettings(database_url=urls["planning"], **common))
        await exits.enter_async_context(planning.router.lifespan_context(planning))
        execution = create_execution(
            ExecutionSettings(database_url=urls["execution"], metrics_refresh_seconds=0, **common),
            planning=ExecutionPlanningClient(_asgi(planning, "planning", secret, "execution")),
        )
        execution.state.clock = lambda: EXECUTION_NOW
        await exits.enter_async_context(execution.router.lifespan_context(execution))
        scoring = create_scoring(
            ScoringSettings(database_url=urls["scoring"], **common),
            planning=ScoringPlanningClient(_asgi(planning, "planning", secret, "scoring")),
            execution=ScoringExecutionClient(_asgi(execution, "execution", secret, "scoring")),
        )
        await exits.enter_async_context(scoring.router.lifespan_context(scoring))
        budget = create_budget(
            BudgetSettings(
                database_url=urls["budget"], metrics_refresh_seconds=3600, planning_url="http://planning.test", **common
            )
        )
        budget.state.planning_client = BudgetPlanningClient(_asgi(planning, "planning", secret, "budget"))
        await exits.enter_async_context(budget.router.lifespan_context(budget))
        stack.apps = {"planning": planning, "execution": execution, "scoring": scoring, "budget": budget}
        for name, app in stack.apps.items():
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}.test")
            stack.clients[name] = await exits.enter_async_context(client)
        yield stack
    if backend == "postgresql":
        names = [url.rsplit("/", 1)[-1] for url in urls.values()]
        await asyncio.gather(*(asyncio.to_thread(drop_pg_database, name) for name in names))


# ---- role matrices ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One operation of a service: the OpenAPI template it covers, a concrete call, and who may make it."""

    method: str
    template: str
    path: str
    allowed: frozenset[str]
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


EVERY_ROLE = frozenset(ROLES)


def op(
    method: str,
    template: str,
    allowed: tuple[str, ...] | frozenset[str],
    *,
    path: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Op:
    # admin is allowed everything; the tables name it anyway so a reader sees the whole row
    return Op(method, template, path or template, frozenset(allowed) | {"admin"}, body, tuple((headers or {}).items()))


def cases(ops: list[Op]) -> list[Any]:
    """pytest params: every operation with every role."""
    import pytest

    return [pytest.param(o, role, id=f"{o.name}-{role}") for o in ops for role in ROLES]


def operations_of(app: FastAPI) -> set[str]:
    spec = app.openapi()
    methods = {"get", "post", "put", "patch", "delete"}
    return {f"{m.upper()} {path}" for path, item in spec["paths"].items() for m in item if m in methods}


async def call(client: httpx.AsyncClient, o: Op, headers: dict[str, str]) -> httpx.Response:
    hdrs = {**dict(o.headers), **headers}
    if o.body is None:
        return await client.request(o.method, o.path, headers=hdrs)
    return await client.request(o.method, o.path, headers=hdrs, json=o.body)


def assert_forbidden(resp: httpx.Response, *why: str) -> None:
    """403 as problem+json whose detail says why (each of ``why`` appears in it)."""
    assert resp.status_code == 403, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    assert problem["status"] == 403
    assert problem["type"].endswith("/forbidden"), problem
    for text in why:
        assert text in problem["detail"], problem


def assert_authorised(resp: httpx.Response) -> None:
    """Past authentication and authorisation: whatever the dummy input earns (404/409/412/422/428), never 401/403,
    and never a crash."""
    assert resp.status_code not in (401, 403), (resp.status_code, resp.text[:300])
    assert resp.status_code < 500, (resp.status_code, resp.text[:300])


async def check_role(client: httpx.AsyncClient, o: Op, role: str, headers: dict[str, str]) -> None:
    resp = await call(client, o, headers)
    if role in o.allowed:
        assert_authorised(resp)
    else:
        # the detail names the roles the action needs
        needed = sorted(o.allowed - {"admin"})
        assert_forbidden(resp, *(repr(r) for r in needed))


async def check_read(client: httpx.AsyncClient, o: Op, headers: dict[str, str], expected: int = 200) -> None:
    """Reads are open to every role, and these calls name real records: each answers ``expected``."""
    resp = await call(client, o, headers)
    assert resp.status_code == expected, (o.name, resp.status_code, resp.text[:300])

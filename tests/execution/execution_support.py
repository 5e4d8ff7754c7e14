"""Shared constants and helpers of the execution tests (tokens, plan ids, a settable clock)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI
from harness.databases import fresh_database_async
from harness.tokens import TEST_JWT_SECRET, bearer

from execution.app import ALEMBIC_INI
from metas_clients.planning import PlanningClient
from metas_kit.http import make_client

ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "data" / "plans"
SECRET = TEST_JWT_SECRET

IPSM = "ipsm-2014-acordo"
QUAR = "ii-2024-quar"


def token(*roles: str, sub: str = "alice", units: tuple[str, ...] = ()) -> dict[str, str]:
    return bearer(*roles, sub=sub, units=units)


ADMIN = token("admin", sub="admin")
SERVICE = token("service", sub="service:scoring")
VIEWER = token("viewer", sub="vera")
CERTIFIER = token("certifier", sub="carla")
PLANNER = token("planner", sub="paulo")
REG_DS = token("registrar", sub="ana", units=("DS",))
REG_PROC = token("registrar", sub="pedro", units=("PROC",))

# A value off its target needs a justification (docs/domain.md §2.5): tests about other rules send one.
WHY = "Desvio explicado: dados do mês incompletos."


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def set(self, *args: int) -> None:
        self.now = datetime(*args, tzinfo=UTC)


@dataclass
class Service:
    app: FastAPI
    http: httpx.AsyncClient
    clock: Clock


def planning_client_for(planning_app: FastAPI, **kwargs: float) -> PlanningClient:
    """The execution service's planning client, talking to the real planning app over ASGI."""
    http = make_client(
        "http://planning.test",
        transport=httpx.ASGITransport(app=planning_app),
        jwt_secret=SECRET,
        service_name="execution",
    )
    return PlanningClient(http, revalidate_seconds=kwargs.get("revalidate_seconds", 60.0))


async def fresh_database(backend: str, tag: str, tmp: Path) -> str:
    """An empty execution database of the given backend, migrated by Alembic."""
    return await fresh_database_async(backend, f"execution_{tag}", tmp, ALEMBIC_INI)

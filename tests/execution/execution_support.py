"""Shared constants and helpers of the execution tests (tokens, plan ids, a settable clock)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI

from metas_kit.auth import Principal, issue_token

ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "data" / "plans"
SECRET = "test-secret-execution-0123456789abcdef"
PG_ADMIN = os.environ.get("METAS_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_HOST = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "")

IPSM = "ipsm-2014-acordo"
QUAR = "ii-2024-quar"


def token(*roles: str, sub: str = "alice", units: tuple[str, ...] = ()) -> dict[str, str]:
    principal = Principal(sub=sub, roles=frozenset(roles), units=frozenset(units))
    return {"authorization": "Bearer " + issue_token(principal, SECRET)}


ADMIN = token("admin", sub="admin")
SERVICE = token("service", sub="service:scoring")
VIEWER = token("viewer", sub="vera")
CERTIFIER = token("certifier", sub="carla")
PLANNER = token("planner", sub="paulo")
REG_DS = token("registrar", sub="ana", units=("DS",))
REG_PROC = token("registrar", sub="pedro", units=("PROC",))


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

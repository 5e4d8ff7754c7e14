"""All routers of the accounts service, in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

from accounts.api import accounts, directory, sessions
from metas_kit.audit import audit_router


def all_routers() -> list[APIRouter]:
    return [accounts.router, sessions.router, directory.router, audit_router()]

"""All routers of the planning service, in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

from metas_kit.audit import audit_router
from planning.db.base import AuditEvent


def all_routers() -> list[APIRouter]:
    return [audit_router(AuditEvent)]

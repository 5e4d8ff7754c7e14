"""All routers of the planning service, in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

from metas_kit.audit import audit_router
from planning.api import items, plans
from planning.db.base import AuditEvent


def all_routers() -> list[APIRouter]:
    # plans before items: "/v1/plans/{plan_id}/versions" must not be read as an item collection.
    return [plans.router, items.router, audit_router(AuditEvent)]

"""All routers of the budget service, in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

from budget.api import amounts, links, reports, structure
from budget.db.base import AuditEvent
from metas_kit.audit import audit_router


def all_routers() -> list[APIRouter]:
    return [
        structure.router,
        amounts.router,
        reports.router,
        reports.alias_router,
        links.router,
        audit_router(AuditEvent),
    ]

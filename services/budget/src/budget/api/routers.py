"""All routers of the budget service, in the order they are mounted (the audit trail's is added by the app)."""

from __future__ import annotations

from fastapi import APIRouter

from budget.api import amounts, links, reports, structure


def all_routers() -> list[APIRouter]:
    return [
        structure.router,
        amounts.router,
        reports.router,
        reports.alias_router,
        links.router,
    ]

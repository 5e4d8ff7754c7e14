"""All routers of the planning service, in the order they are mounted (the audit trail's is added by the app)."""

from __future__ import annotations

from fastapi import APIRouter

from planning.api import items, plans


def all_routers() -> list[APIRouter]:
    # plans before items: "/v1/plans/{plan_id}/versions" must not be read as an item collection.
    return [plans.router, items.router]

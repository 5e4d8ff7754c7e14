"""All routers of the scoring service, in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

from metas_kit.audit import audit_router
from scoring.api import evaluations, rules, simulations


def all_routers() -> list[APIRouter]:
    return [evaluations.router, simulations.router, rules.router, audit_router()]

"""Annotated dependency aliases of the planning service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from metas_kit.auth import Admin, CurrentPrincipal, Principal, Reader, require_roles
from metas_kit.db import SessionDep
from metas_kit.pagination import PageDep

# Plans are defined by planners (admins always pass).
Planner = Annotated[Principal, Depends(require_roles("planner"))]

__all__ = [
    "Admin",
    "Annotated",
    "CurrentPrincipal",
    "Depends",
    "PageDep",
    "Planner",
    "Principal",
    "Reader",
    "SessionDep",
    "require_roles",
]

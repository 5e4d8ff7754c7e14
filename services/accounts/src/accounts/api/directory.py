"""The directory: active people with their e-mail and grants, by organisation, unit and role — read by
services (reminders) and admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from accounts.api.accounts import out
from accounts.api.schemas import AccountPage, Code, Role
from accounts.application import accounts as app
from accounts.deps import CurrentPrincipal, PageDep, SessionDep
from metas_kit.errors import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/directory", tags=["directory"])


@router.get("", summary="People by organisation, unit and role", responses=PROBLEM_RESPONSES)
async def directory(
    session: SessionDep,
    who: CurrentPrincipal,
    page: PageDep,
    org: Annotated[Code | None, Query()] = None,
    unit: Annotated[Code | None, Query()] = None,
    role: Annotated[list[Role] | None, Query(max_length=8)] = None,
) -> AccountPage:
    found = await app.directory(session, who, roles=frozenset(role) if role else None, org=org, unit=unit, page=page)
    return AccountPage(items=[out(r) for r in found.items], next_cursor=found.next_cursor)

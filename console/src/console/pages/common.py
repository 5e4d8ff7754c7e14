"""Helpers shared by the pages: the organisation in view, form reading."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from console.gateway import ApiProblem
from console.web import ALL_ORGS, ORG_COOKIE, Page, page_context


async def signed_in_page(request: Request) -> Page:
    """A signed-in page with the person's organisations (for the switcher) and the one in view."""
    page = await page_context(request)
    await with_organisations(page)
    return page


async def with_organisations(page: Page) -> None:
    """The organisations the person's grants name (every one for an installation-wide grant); the one in view
    is the switcher's choice when it is still one of them, else the first."""
    assert page.account is not None
    named = page.account.orgs()
    try:
        known: list[dict[str, Any]] = await page.api.get("/api/planning/v1/organisations")
        if isinstance(known, dict):
            known = list(known.get("items") or [])
    except ApiProblem:
        known = []
    if ALL_ORGS in named:
        everything = {"code": ALL_ORGS, "name": page.gettext("All organisations")}
        page.organisations = [everything, *sorted(known, key=lambda o: str(o.get("code")))]
    else:
        by_code = {str(o.get("code")): o for o in known}
        page.organisations = [by_code.get(code, {"code": code, "name": code}) for code in named]
    codes = [str(o.get("code")) for o in page.organisations]
    chosen = page.request.cookies.get(ORG_COOKIE)
    page.org = chosen if chosen in codes else (codes[0] if codes else None)


def org_filter(page: Page) -> str | None:
    """The organisation to filter lists by; None = every organisation the person may see."""
    return None if page.org in (None, ALL_ORGS) else page.org


async def read_form(request: Request, page: Page) -> Any:
    form = await request.form()
    page.check_csrf(form)
    return form

"""Account administration (admins): list, create, change, disable or enable, reset a password, grants — through
the gateway's accounts API (`/api/accounts/v1/accounts`), every change audited there."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.gateway import ApiProblem, problem_of
from console.i18n import N_, SUPPORTED
from console.pages.common import read_form, signed_in_page
from console.problems import Told, tell
from console.web import Page

router = APIRouter(include_in_schema=False)
BASE = "/api/accounts/v1/accounts"


def grants_text(grants: list[dict[str, Any]]) -> str:
    """One grant a line: `role organisation [unit …]` — what the form shows and reads back."""
    return "\n".join(" ".join([g["role"], g["org"], *g.get("units", [])]) for g in grants)


def parse_grants(text: str) -> list[dict[str, Any]] | None:
    grants = []
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        if len(words) < 2:
            return None
        grants.append({"role": words[0], "org": words[1], "units": words[2:]})
    return grants


def forbid_unless_admin(page: Page) -> None:
    assert page.account is not None
    if not page.account.has("admin"):
        raise ApiProblem(403, {"title": "Forbidden"})


@router.get("/admin/accounts")
async def accounts(request: Request, cursor: str = "") -> Response:
    page = await signed_in_page(request)
    forbid_unless_admin(page)
    return await render_list(page, cursor)


async def render_list(
    page: Page, cursor: str = "", *, told: Told | None = None, values: dict[str, str] | None = None, status: int = 200
) -> Response:
    listing = await page.api.get(BASE, params={"limit": 100, "cursor": cursor or None})
    return page.render(
        "accounts.html",
        status=status,
        title=page.gettext("Accounts"),
        active="accounts",
        accounts=listing.get("items") or [],
        next_cursor=listing.get("next_cursor"),
        locales=SUPPORTED,
        told=told,
        values=values or {"locale": page.lang},
    )


@router.post("/admin/accounts")
async def create_account(request: Request) -> Response:
    page = await signed_in_page(request)
    forbid_unless_admin(page)
    form = await read_form(request, page)
    values = {k: str(form.get(k) or "").strip() for k in ("username", "display_name", "email", "locale", "grants")}
    grants = parse_grants(values["grants"])
    if grants is None:
        told = Told(page.gettext("Some values need fixing; nothing was saved."))
        told.fields["grants"] = [page.gettext("Write each grant as: role organisation [units…]")]
        return await render_list(page, told=told, values=values, status=422)
    body = {
        "username": values["username"],
        "display_name": values["display_name"],
        "email": values["email"],
        "locale": values["locale"] or "pt-PT",
        "grants": grants,
        "password": str(form.get("password") or "") or None,
    }
    response = await page.api.request("POST", BASE, json=body)
    if response.status_code < 300:
        return page.redirect(f"/admin/accounts/{quote(values['username'])}?done=created")
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    return await render_list(page, told=tell(problem, page.gettext), values=values, status=_status(problem))


def _status(problem: ApiProblem) -> int:
    return problem.status if problem.status in (403, 404, 409, 412, 422) else 503


DONE = {
    "created": N_("Account created."),
    "updated": N_("Changes saved."),
    "disabled": N_("Account disabled: its sessions have ended."),
    "enabled": N_("Account enabled."),
    "password": N_("Password changed: the account's sessions have ended."),
    "grants": N_("Grants saved."),
}


async def render_account(
    page: Page,
    username: str,
    *,
    told: Told | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    account = await page.api.get(f"{BASE}/{quote(username)}")
    shown = {
        "display_name": account["display_name"],
        "email": account["email"],
        "locale": account["locale"],
        "grants": grants_text(account["grants"]),
        **(values or {}),
    }
    return page.render(
        "account.html",
        status=status,
        title=account["username"],
        active="accounts",
        person=account,
        values=shown,
        locales=SUPPORTED,
        told=told,
        notice=notice,
    )


@router.get("/admin/accounts/{username}")
async def account(request: Request, username: str, done: str = "") -> Response:
    page = await signed_in_page(request)
    forbid_unless_admin(page)
    notice = page.gettext(DONE[done]) if done in DONE else None
    return await render_account(page, username, notice=notice)


@router.post("/admin/accounts/{username}")
async def change_account(request: Request, username: str) -> Response:
    page = await signed_in_page(request)
    forbid_unless_admin(page)
    form = await read_form(request, page)
    action = str(form.get("action") or "")
    values = {k: str(form.get(k) or "").strip() for k in ("display_name", "email", "locale", "grants")}
    target = f"{BASE}/{quote(username)}"
    if action == "update":
        body = {k: values[k] for k in ("display_name", "email", "locale")}
        response = await page.api.request("PATCH", target, json=body)
    elif action in ("disable", "enable"):
        response = await page.api.request("PATCH", target, json={"active": action == "enable"})
    elif action == "password":
        response = await page.api.request(
            "POST", target + "/password", json={"password": str(form.get("password") or "")}
        )
    elif action == "grants":
        grants = parse_grants(values["grants"])
        if grants is None:
            told = Told(page.gettext("Some values need fixing; nothing was saved."))
            told.fields["grants"] = [page.gettext("Write each grant as: role organisation [units…]")]
            return await render_account(page, username, told=told, values=values, status=422)
        response = await page.api.request("PUT", target + "/grants", json={"grants": grants})
    else:
        return await render_account(page, username, told=Told(page.gettext("Not understood.")), status=422)
    if response.status_code < 300:
        done = {"update": "updated", "disable": "disabled", "enable": "enabled"}.get(action, action)
        return page.redirect(f"/admin/accounts/{quote(username)}?done={done}")
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    return await render_account(
        page, username, told=tell(problem, page.gettext), values=values, status=_status(problem)
    )

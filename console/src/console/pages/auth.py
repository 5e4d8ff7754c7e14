"""Sign-in and sign-out (the gateway's session flow), the language switch and the organisation switcher."""

from __future__ import annotations

import math
from collections.abc import Callable
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.gateway import SESSION_COOKIE, ApiProblem
from console.i18n import coerce
from console.pages.common import read_form, signed_in_page
from console.problems import Told
from console.web import LANG_COOKIE, ORG_COOKIE, page_context, safe_next

router = APIRouter(include_in_schema=False)
YEAR = 365 * 24 * 3600


def wait_message(gettext: Callable[..., str], retry_after: str) -> str:
    """How long to wait, in the unit a person reads best (a throttled sign-in waits up to 15 minutes)."""
    seconds = int(retry_after) if retry_after.isdigit() else 60
    if seconds < 120:
        return gettext("Too many attempts. Wait %(seconds)s seconds and try again.", seconds=str(seconds))
    return gettext("Too many attempts. Wait %(minutes)s minutes and try again.", minutes=str(math.ceil(seconds / 60)))


@router.get("/sign-in")
async def sign_in_form(request: Request, next: str = "/") -> Response:
    page = await page_context(request, signed_in=False)
    return page.render(
        "sign_in.html",
        title=page.gettext("Sign in"),
        next=safe_next(next),
        username="",
        told=None,
        oidc=oidc_link(request, safe_next(next)),
    )


def oidc_link(request: Request, target: str) -> dict[str, str] | None:
    """The provider's name and the gateway's start URL (back to `target` afterwards), when OIDC is offered."""
    name = request.app.state.settings.oidc_provider_name
    if not name:
        return None
    return {"name": name, "url": "/api/auth/oidc/start?" + urlencode({"next": target})}


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    page = await page_context(request, signed_in=False)
    form = await read_form(request, page)
    username = str(form.get("username") or "")[:200]
    password = str(form.get("password") or "")[:1000]
    target = safe_next(str(form.get("next") or "/"))
    try:
        response = await page.api.request(
            "POST", "/api/auth/sign-in", json={"username": username, "password": password}
        )
    except ApiProblem:
        response = None
    if response is not None and response.status_code == 200:
        done = page.redirect(target)
        # The gateway's cookies (the session, its CSRF cookie) reach the browser as the gateway set them.
        for cookie in response.headers.get_list("set-cookie"):
            done.headers.append("set-cookie", cookie)
        return done
    if response is not None and response.status_code == 429:
        told = Told(wait_message(page.gettext, response.headers.get("retry-after", "60")))
        status = 429
    elif response is None or response.status_code >= 500:
        told = Told(page.gettext("Signing in is not possible right now. Try again shortly."))
        status = 503
    else:
        # One message whatever was wrong, so the page never tells whether an account exists.
        told = Told(page.gettext("The username or password is not right."))
        status = 401
    return page.render(
        "sign_in.html",
        status=status,
        title=page.gettext("Sign in"),
        next=target,
        username=username,
        told=told,
        oidc=oidc_link(request, target),
    )


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    page = await page_context(request, signed_in=False)
    await read_form(request, page)
    done = page.redirect("/sign-in")
    if request.cookies.get(SESSION_COOKIE):
        try:
            response = await page.api.request("POST", "/api/auth/sign-out")
            for cookie in response.headers.get_list("set-cookie"):
                done.headers.append("set-cookie", cookie)
        except ApiProblem:
            pass
    # Cleared here too, so the browser forgets the session even if the gateway could not be reached.
    done.delete_cookie(SESSION_COOKIE, path="/")
    return done


@router.post("/language")
async def language(request: Request) -> Response:
    page = await page_context(request, signed_in=False)
    form = await read_form(request, page)
    done = page.redirect(safe_next(str(form.get("next") or "/")))
    tag = coerce(str(form.get("lang") or ""))
    if tag:
        done.set_cookie(LANG_COOKIE, tag, max_age=YEAR, samesite="lax", secure=page.secure, path="/")
    return done


@router.post("/organisation")
async def organisation(request: Request) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    done = page.redirect(safe_next(str(form.get("next") or "/")))
    code = str(form.get("org") or "")
    if code in {str(o.get("code")) for o in page.organisations}:
        done.set_cookie(ORG_COOKIE, code, max_age=YEAR, samesite="lax", secure=page.secure, path="/")
    return done

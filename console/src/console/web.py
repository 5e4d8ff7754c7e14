"""Per-request context of a page: the person, their language, the API on their behalf, CSRF, rendering."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import jwt
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment

from console.gateway import SESSION_COOKIE, Api, ApiProblem
from console.i18n import DEFAULT, LANGUAGE_NAMES, SUPPORTED, Formats, coerce, gettext_for, negotiate

CSRF_COOKIE = "console_csrf"
CSRF_FIELD = "csrf_token"
LANG_COOKIE = "metas_lang"
ORG_COOKIE = "metas_org"
ALL_ORGS = "*"


class SignInRequired(Exception):
    """No session, or the gateway no longer accepts it: the person is sent to the sign-in page."""


class CsrfRejected(Exception):
    """A form came without the token this browser was given."""


@dataclass(frozen=True)
class Grant:
    role: str
    org: str
    units: tuple[str, ...]


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    locale: str | None
    grants: tuple[Grant, ...]
    email: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Account:
        grants = tuple(
            Grant(str(g.get("role", "")), str(g.get("org", ALL_ORGS)), tuple(map(str, g.get("units") or ())))
            for g in data.get("grants") or ()
            if isinstance(g, dict)
        )
        return cls(
            username=str(data.get("username", "")),
            display_name=str(data.get("display_name") or data.get("username", "")),
            locale=data.get("locale"),
            grants=grants,
            email=data.get("email"),
        )

    def roles(self) -> frozenset[str]:
        return frozenset(g.role for g in self.grants)

    def has(self, *roles: str) -> bool:
        return bool(self.roles() & {*roles, "admin"})

    def orgs(self) -> tuple[str, ...]:
        """The organisations the grants name, '*' when one is installation-wide."""
        return tuple(sorted({g.org for g in self.grants}))

    def units_for(self, role: str, org: str | None) -> tuple[str, ...] | None:
        """Unit codes `role` may act on in `org`; None = every unit (a grant without units, or admin)."""
        found: set[str] = set()
        for g in self.grants:
            if g.org not in (ALL_ORGS, org) and org is not None:
                continue
            if g.role == "admin":
                return None
            if g.role == role:
                if not g.units:
                    return None
                found.update(g.units)
        return tuple(sorted(found))


def dev_account(token: str) -> Account:
    """Development only (METAS_CONSOLE_DEV_TOKEN): the identity a minted JWT claims, read without verifying
    it — the gateway verifies it on every call the console makes."""
    claims = jwt.decode(token, options={"verify_signature": False})
    grants = claims.get("grants") or [
        {"role": role, "org": ALL_ORGS, "units": claims.get("units") or []} for role in claims.get("roles") or []
    ]
    return Account.from_api({"username": claims.get("sub"), "display_name": claims.get("name"), "grants": grants})


@dataclass
class Page:
    """What every handler works with."""

    request: Request
    env: Environment
    api: Api
    lang: str
    csrf: str
    new_csrf: bool
    account: Account | None = None
    org: str | None = None
    organisations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def fmt(self) -> Formats:
        return Formats(self.lang)

    def gettext(self, message: str, **params: Any) -> str:
        return gettext_for(self.request.app.state.catalogs, self.lang)[0](message, **params)

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        return gettext_for(self.request.app.state.catalogs, self.lang)[1](singular, plural, n, **params)

    def check_csrf(self, form: Any) -> None:
        sent = str(form.get(CSRF_FIELD) or "")
        if not sent or not self.request.cookies.get(CSRF_COOKIE) or not hmac.compare_digest(sent, self.csrf):
            raise CsrfRejected()

    def render(self, template: str, status: int = 200, headers: dict[str, str] | None = None, **values: Any) -> Any:
        gettext, ngettext = gettext_for(self.request.app.state.catalogs, self.lang)
        context = {
            "request": self.request,
            "_": gettext,
            "gettext": gettext,
            "ngettext": ngettext,
            "fmt": self.fmt,
            "lang": self.lang,
            "languages": [(tag, LANGUAGE_NAMES[tag]) for tag in SUPPORTED],
            "csrf_field": CSRF_FIELD,
            "csrf": self.csrf,
            "account": self.account,
            "org": self.org,
            "organisations": self.organisations,
            "here": self.request.url.path + (f"?{self.request.url.query}" if self.request.url.query else ""),
            **values,
        }
        html = self.env.get_template(template).render(context)
        response = HTMLResponse(html, status_code=status, headers=headers)
        self.keep_csrf(response)
        return response

    def keep_csrf(self, response: Any) -> None:
        if self.new_csrf:
            response.set_cookie(CSRF_COOKIE, self.csrf, httponly=True, samesite="strict", secure=self.secure, path="/")

    @property
    def secure(self) -> bool:
        proto = self.request.headers.get("x-forwarded-proto") or self.request.url.scheme
        return proto == "https"

    def redirect(self, url: str) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        self.keep_csrf(response)
        return response


def authorization(request: Request) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        return f"Session {token}"
    dev = request.app.state.settings.dev_token
    if dev is not None:
        return f"Bearer {dev.get_secret_value()}"
    return None


def choose_language(request: Request, account: Account | None) -> str:
    return (
        coerce(request.cookies.get(LANG_COOKIE))
        or coerce(account.locale if account else None)
        or negotiate(request.headers.get("accept-language"))
        or DEFAULT
    )


async def page_context(request: Request, *, signed_in: bool = True) -> Page:
    """The page's context; with `signed_in`, the person's account (from the gateway) or SignInRequired."""
    state = request.app.state
    auth = authorization(request)
    api = Api(state.gateway, auth, forwarded_for=client_address(request))
    request.state.api_clock = api.clock
    csrf = request.cookies.get(CSRF_COOKIE) or ""
    new_csrf = len(csrf) < 32
    if new_csrf:
        csrf = secrets.token_urlsafe(32)
    account: Account | None = None
    if signed_in:
        if auth is None:
            raise SignInRequired()
        dev = state.settings.dev_token
        if auth.startswith("Bearer ") and dev is not None:
            account = dev_account(dev.get_secret_value())
        else:
            try:
                account = Account.from_api(await api.get("/api/auth/me"))
            except ApiProblem as exc:
                if exc.status == 401:
                    raise SignInRequired() from exc
                raise
    page = Page(request, state.templates, api, choose_language(request, account), csrf, new_csrf, account)
    return page


def client_address(request: Request) -> str | None:
    """The browser's address as the gateway reported it (the console sits behind it), else the peer's."""
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded:
        return forwarded
    return request.client.host if request.client else None


def sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/sign-in" if target == "/" else f"/sign-in?next={quote(target, safe='')}"


def safe_next(value: str | None) -> str:
    """Only a path of this site (never //host or a scheme): an open redirect would make sign-in a phishing tool."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value

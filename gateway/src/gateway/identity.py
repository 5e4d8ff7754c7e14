"""Who is calling: a JWT bearer (verified, forwarded as is) or an API key of a system (hashed lookup,
exchanged for a short-lived JWT that the services verify)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request

from gateway.sessions import LiveSession, Sessions
from metas_kit.auth import ROLES, Principal, decode_token, issue_token, parse_grants
from metas_kit.errors import Forbidden, Unauthorized


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Caller:
    principal: Principal
    authorization: str


class ApiKeyStore:
    def __init__(self, entries: dict[str, dict[str, Any]]) -> None:
        self.entries: dict[str, Principal] = {}
        for digest, ident in entries.items():
            if "grants" in ident:
                # Grants as tokens carry them: [{"role", "org", "units"}] (checked by the same rules).
                try:
                    grants = parse_grants(ident["grants"])
                except Unauthorized as exc:
                    raise ValueError(f"API key {digest[:8]}…: {exc.detail}") from exc
                self.entries[digest.lower()] = Principal(sub=str(ident["sub"]), grants=grants)
                continue
            roles = frozenset(map(str, ident.get("roles", [])))
            if roles - ROLES:
                raise ValueError(f"API key {digest[:8]}… names unknown roles {sorted(roles - ROLES)}")
            self.entries[digest.lower()] = Principal(
                sub=str(ident["sub"]), roles=roles, units=frozenset(map(str, ident.get("units", [])))
            )

    @classmethod
    def load(cls, inline: dict[str, dict[str, Any]], file: str | None) -> ApiKeyStore:
        entries = dict(inline)
        if file:
            entries.update(json.loads(Path(file).read_text()))
        return cls(entries)

    def find(self, key: str) -> Principal | None:
        digest = hash_api_key(key)
        for known, principal in self.entries.items():
            if hmac.compare_digest(known, digest):
                return principal
        return None


SESSION_COOKIE = "metas_session"
CSRF_COOKIE = "metas_csrf"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A session token as accounts issues it (url-safe base64 of 32 bytes); anything else is refused unseen.
_SESSION_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class CsrfRefused(Forbidden):
    type_slug, title = "csrf-refused", "Cross-site request refused"


def session_token(request: Request) -> tuple[str | None, bool]:
    """(the session token of the request, whether it came from the cookie); no token: (None, False)."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "session":
            return token.strip(), False
        return None, False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else (None, False)


def check_csrf(request: Request) -> None:
    """A browser sends the session cookie with any request, whoever's page made it: an unsafe one must also
    carry the CSRF cookie's value in a header, which only a page of this origin can read."""
    if request.method not in UNSAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not header or not hmac.compare_digest(cookie.encode(), header.encode()):
        raise CsrfRefused(
            "A request with the session cookie must send the X-CSRF-Token header (the metas_csrf cookie)."
        )


async def resolve_session(sessions: Sessions, token: str) -> LiveSession:
    if not _SESSION_TOKEN.match(token):
        raise Unauthorized("The session is not valid; sign in again.", headers={"WWW-Authenticate": "Session"})
    return await sessions.resolve(token)


async def authenticate(
    request: Request, secret: str, issuer: str, keys: ApiKeyStore, sessions: Sessions | None = None
) -> Caller:
    header = request.headers.get("authorization")
    token, from_cookie = session_token(request)
    if token is not None and sessions is not None:
        if from_cookie:
            check_csrf(request)
        live = await resolve_session(sessions, token)
        return Caller(live.principal, live.authorization)
    if header:
        scheme, _, bearer = header.partition(" ")
        if scheme.lower() != "bearer" or not bearer.strip():
            raise Unauthorized("Use 'Authorization: Bearer <token>', 'Authorization: Session <token>' or an X-API-Key.")
        return Caller(decode_token(bearer.strip(), secret, issuer=issuer), header)
    key = request.headers.get("x-api-key")
    if key:
        principal = keys.find(key)
        if principal is None:
            raise Unauthorized("Unknown API key.")
        return Caller(principal, "Bearer " + issue_token(principal, secret, issuer=issuer, ttl_seconds=300))
    raise Unauthorized("Authentication required: a bearer token, a session or an X-API-Key.")

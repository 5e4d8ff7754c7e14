"""Who is calling: a JWT bearer (verified, forwarded as is) or an API key of a system (hashed lookup,
exchanged for a short-lived JWT that the services verify)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
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


class VerifiedTokens:
    """Bearer tokens already verified, with the principal they name, until they expire.

    A caller sends the same token with every request; checking its HMAC signature, its claims and its grants
    again each time is most of the gateway's own work per call. A token is looked up by its exact text (only a
    token that passed `decode_token` is stored, and the text includes the signature), and used only while the
    clock is before its `exp` — when PyJWT would refuse it as expired, the cache does too. Bounded: at most
    ``max_entries`` tokens of at most ``max_token_chars`` characters, the oldest dropped first."""

    def __init__(
        self, max_entries: int = 10_000, max_token_chars: int = 4096, clock: Callable[[], float] = time.time
    ) -> None:
        self.max_entries = max_entries
        self.max_token_chars = max_token_chars
        self.clock = clock
        self.entries: dict[str, tuple[float, Principal]] = {}

    def principal(self, token: str, secret: str, issuer: str) -> Principal:
        hit = self.entries.get(token)
        if hit is not None:
            if self.clock() < hit[0]:
                return hit[1]
            del self.entries[token]
        principal = decode_token(token, secret, issuer=issuer)
        if len(token) <= self.max_token_chars:
            # decode_token required exp and checked it is a number; read it back without a second signature check.
            exp = float(jwt.decode(token, options={"verify_signature": False})["exp"])
            if len(self.entries) >= self.max_entries:
                del self.entries[next(iter(self.entries))]
            self.entries[token] = (exp, principal)
        return principal


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
    request: Request,
    secret: str,
    issuer: str,
    keys: ApiKeyStore,
    sessions: Sessions | None = None,
    tokens: VerifiedTokens | None = None,
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
        bearer = bearer.strip()
        if tokens is not None:
            return Caller(tokens.principal(bearer, secret, issuer), header)
        return Caller(decode_token(bearer, secret, issuer=issuer), header)
    key = request.headers.get("x-api-key")
    if key:
        principal = keys.find(key)
        if principal is None:
            raise Unauthorized("Unknown API key.")
        return Caller(principal, "Bearer " + issue_token(principal, secret, issuer=issuer, ttl_seconds=300))
    raise Unauthorized("Authentication required: a bearer token, a session or an X-API-Key.")

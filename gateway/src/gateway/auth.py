"""/api/auth: sign-in, sign-out and the signed-in person, for browsers (cookies) and the console (tokens).

Failed authentications of any kind (a wrong password, an unknown API key, a bad or ended token) are counted per
client address in a token bucket; an address whose bucket is empty gets 429 with Retry-After for every
authenticated call until it refills. Requests from a trusted proxy that do not name the client behind it are not
counted (they would lock out everybody behind the console)."""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.responses import JSONResponse, RedirectResponse, Response

from gateway.addresses import Networks, client_address, is_https, is_trusted
from gateway.identity import CSRF_COOKIE, SESSION_COOKIE, check_csrf, resolve_session, session_token
from gateway.metrics import RATE_LIMITED
from gateway.oidc import FLOW_COOKIE, FLOW_PATH, FLOW_SECONDS, Oidc, OidcFlowInvalid, OidcRefused
from gateway.ratelimit import RateLimiter
from gateway.sessions import Relayed, Sessions, public_account
from metas_kit.auth import decode_token
from metas_kit.errors import AppError, Forbidden, NotFound, TooManyRequests, Unauthorized, ValidationFailed

MAX_SIGN_IN_BYTES = 4096


class SignInBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Annotated[str, Field(min_length=1, max_length=200)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class AuthGuard:
    """Per-address throttling of failed authentications (see the module's doc)."""

    def __init__(self, limiter: RateLimiter, trusted: Networks) -> None:
        self.limiter = limiter
        self.trusted = trusted

    def key(self, request: Request) -> str | None:
        address = client_address(request, self.trusted)
        return None if is_trusted(address, self.trusted) else address

    def check(self, request: Request) -> str | None:
        key = self.key(request)
        if key is not None:
            wait = self.limiter.wait(key)
            if wait > 0:
                RATE_LIMITED.inc()
                raise TooManyRequests(
                    "Too many failed authentications from this address; try again later.",
                    headers={"Retry-After": str(max(1, round(wait + 0.5)))},
                )
        return key

    def failed(self, key: str | None) -> None:
        if key is not None:
            self.limiter.take(key)


def session_cookies(response: Response, token: str, *, max_age: int, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, path="/", httponly=True, samesite="lax", secure=secure)
    # Readable by the page (not HttpOnly): it sends it back in X-CSRF-Token with every unsafe request.
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(24),
        max_age=max_age,
        path="/",
        httponly=False,
        samesite="lax",
        secure=secure,
    )


def clear_cookies(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="lax", secure=secure)


async def read_sign_in(request: Request) -> SignInBody:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_SIGN_IN_BYTES:
            raise AppError(f"The sign-in body exceeds {MAX_SIGN_IN_BYTES} bytes.")
    try:
        return SignInBody.model_validate(json.loads(raw))
    except (ValueError, UnicodeDecodeError) as exc:
        errors: list[dict[str, Any]] = []
        if isinstance(exc, ValidationError):
            errors = [{"path": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
        raise ValidationFailed(
            errors or [{"path": "", "message": 'Send JSON {"username": …, "password": …}.'}]
        ) from exc


def auth_router(*, absolute_seconds: int) -> APIRouter:
    router = APIRouter(prefix="/api/auth", include_in_schema=False)

    def state(request: Request) -> tuple[Sessions, AuthGuard, Networks]:
        sessions = request.app.state.sessions
        if sessions is None:
            raise AppError("Sign-in is not configured on this gateway.")
        guard: AuthGuard = request.app.state.auth_guard
        return sessions, guard, guard.trusted

    @router.post("/sign-in")
    async def sign_in(request: Request) -> JSONResponse:
        sessions, guard, trusted = state(request)
        key = guard.check(request)
        body = await read_sign_in(request)
        try:
            opened = await sessions.sign_in(body.username, body.password, client_address(request, trusted))
        except Relayed as exc:
            if exc.status == 401:
                guard.failed(key)
            raise
        out = {
            "token": opened["token"],
            "expires_at": opened["expires_at"],
            "account": public_account(opened["account"]),
        }
        response = JSONResponse(out, headers={"Cache-Control": "no-store"})
        session_cookies(response, opened["token"], max_age=absolute_seconds, secure=is_https(request, trusted))
        return response

    @router.post("/sign-out", status_code=204)
    async def sign_out(request: Request) -> Response:
        sessions, _guard, trusted = state(request)
        token, from_cookie = session_token(request)
        if from_cookie:
            check_csrf(request)
        if token:
            await sessions.revoke(token)
        response = Response(status_code=204)
        clear_cookies(response, secure=is_https(request, trusted))
        return response

    @router.get("/me")
    async def me(request: Request) -> JSONResponse:
        sessions, guard, _trusted = state(request)
        key = guard.check(request)
        token, _from_cookie = session_token(request)
        try:
            if token is not None:
                live = await resolve_session(sessions, token)
                return JSONResponse(
                    {**live.account, "session_expires_at": live.expires_at}, headers={"Cache-Control": "no-store"}
                )
            header = request.headers.get("authorization", "")
            scheme, _, bearer = header.partition(" ")
            if scheme.lower() != "bearer" or not bearer.strip():
                raise Unauthorized("Sign in first (a session, or a bearer token).")
            who = decode_token(bearer.strip(), request.app.state.jwt_secret or "", issuer=request.app.state.jwt_issuer)
        except (Unauthorized, Relayed) as exc:
            if exc.status == 401:
                guard.failed(key)
            raise
        # A token holder (a system, a script) has no account: who the token says, and its grants.
        return JSONResponse(
            {
                "username": who.sub,
                "display_name": who.name or who.sub,
                "email": None,
                "locale": None,
                "grants": [g.claim() for g in who.grants],
            },
            headers={"Cache-Control": "no-store"},
        )

    def oidc_of(request: Request) -> Oidc:
        oidc: Oidc | None = request.app.state.oidc
        if oidc is None:
            raise NotFound("OpenID Connect sign-in is not configured on this gateway.")
        return oidc

    @router.get("/oidc/start")
    async def oidc_start(request: Request, next: Annotated[str, Query(max_length=2000)] = "/") -> Response:
        _sessions, _guard, trusted = state(request)
        url, flow = await oidc_of(request).start(next)
        response = RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
        # Lax: the provider sends the browser back with a top-level GET, which carries Lax cookies.
        response.set_cookie(
            FLOW_COOKIE,
            flow,
            max_age=FLOW_SECONDS,
            path=FLOW_PATH,
            httponly=True,
            samesite="lax",
            secure=is_https(request, trusted),
        )
        return response

    @router.get("/oidc/callback")
    async def oidc_callback(
        request: Request,
        code: Annotated[str | None, Query(max_length=2048)] = None,
        state_: Annotated[str | None, Query(alias="state", max_length=200)] = None,
        error: Annotated[str | None, Query(max_length=200)] = None,
    ) -> Response:
        sessions, guard, trusted = state(request)
        oidc = oidc_of(request)
        key = guard.check(request)
        try:
            flow = oidc.read_flow(request.cookies.get(FLOW_COOKIE), state_)
            if error:
                raise OidcRefused(f"The sign-in provider refused the sign-in ({error[:60]}).")
            if not code:
                raise OidcFlowInvalid("The provider's answer carries no authorization code.")
            tokens = await oidc.exchange(code, str(flow["verifier"]))
            claims = await oidc.verify_id_token(tokens["id_token"], str(flow["nonce"]))
            claims = {**claims, **await oidc.userinfo(tokens["access_token"], str(claims["sub"]))}
            person = oidc.person(claims)
        except (OidcFlowInvalid, Unauthorized, Forbidden):
            guard.failed(key)
            raise
        opened = await sessions.sign_in_external(person)
        secure = is_https(request, trusted)
        response = RedirectResponse(str(flow["next"]), status_code=303, headers={"Cache-Control": "no-store"})
        session_cookies(response, opened["token"], max_age=absolute_seconds, secure=secure)
        response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH, httponly=True, samesite="lax", secure=secure)
        return response

    return router

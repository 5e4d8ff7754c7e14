"""JWT identities: issued by the gateway (or by a service for its own outbound calls), verified everywhere,
so a service reached directly is not an open door."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request

from metas_kit.errors import Forbidden, Unauthorized

ROLES = frozenset({"admin", "planner", "registrar", "certifier", "budget", "viewer", "auditor", "service"})
ALGORITHM = "HS256"
# A stolen token is useful at most this long: longer-lived tokens are refused even when correctly signed.
MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600
READ_ROLES = frozenset(ROLES)


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[str]
    units: frozenset[str] = field(default_factory=frozenset)
    name: str | None = None

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.roles & set(roles)) or "admin" in self.roles

    def may_write_unit(self, unit: str) -> bool:
        """Registrars write only for the units listed in their token; admins everywhere."""
        if "admin" in self.roles:
            return True
        return unit in self.units

    def claims(self) -> dict[str, Any]:
        return {"sub": self.sub, "roles": sorted(self.roles), "units": sorted(self.units), "name": self.name}


def issue_token(principal: Principal, secret: str, *, issuer: str = "metas", ttl_seconds: int = 3600) -> str:
    now = int(time.time())
    payload = {**principal.claims(), "iss": issuer, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def decode_token(token: str, secret: str, *, issuer: str = "metas") -> Principal:
    try:
        data = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=issuer, options={"require": ["exp", "iat", "sub", "iss"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The token is not valid.") from exc
    try:
        lifetime = int(data["exp"]) - int(data["iat"])
    except (TypeError, ValueError) as exc:
        raise Unauthorized("The token's exp and iat must be numbers.") from exc
    if lifetime > MAX_TOKEN_LIFETIME_SECONDS:
        raise Unauthorized(
            f"The token lives longer than {MAX_TOKEN_LIFETIME_SECONDS // 3600} hours; ask for a shorter one."
        )
    roles = data.get("roles") or []
    units = data.get("units") or []
    if not isinstance(roles, list) or not isinstance(units, list):
        raise Unauthorized("The token's roles and units must be lists.")
    unknown = set(roles) - ROLES
    if unknown:
        raise Unauthorized(f"The token names unknown roles: {sorted(unknown)}.")
    return Principal(
        sub=str(data["sub"]), roles=frozenset(roles), units=frozenset(map(str, units)), name=data.get("name")
    )


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("A bearer token is required.")
    return token.strip()


# async on purpose: FastAPI runs sync dependencies in a thread pool, a hop per request for no I/O at all.
async def current_principal(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    secret = request.app.state.jwt_secret
    if not secret:
        raise Unauthorized("This service has no JWT secret configured; it refuses every request.")
    principal = decode_token(bearer_token(request), secret, issuer=request.app.state.jwt_issuer)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """Dependency: the caller must hold one of ``roles`` (admin always passes)."""
    wanted = frozenset(roles)

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(wanted):
            raise Forbidden(f"This action needs one of the roles {sorted(wanted)}.")
        return principal

    check.__name__ = "require_" + "_or_".join(sorted(wanted))
    return check


# Aliases are module-level Annotated types (FastAPI resolves string annotations from module globals).
# Services declare their own the same way: Planner = Annotated[Principal, Depends(require_roles("planner"))]
Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]

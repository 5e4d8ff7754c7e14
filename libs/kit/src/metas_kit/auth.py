"""JWT identities: issued by the gateway (or by a service for its own outbound calls), verified everywhere,
so a service reached directly is not an open door.

A permission is a *grant*: (role, organisation, units of that organisation). The organisation is an
organisation code or ``"*"`` (installation-wide); empty units mean every unit of the organisation. Tokens carry
them in the claim ``grants``. Tokens of earlier releases carry ``roles`` and ``units`` instead; they read as
installation-wide grants with exactly the rights they had (see ``legacy_grants``), so nothing widens or narrows
on upgrade.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request

from metas_kit.errors import Forbidden, Unauthorized
from metas_kit.grants import (
    ALL,
    ANY_ORG,
    AUDIT_READERS,
    INSTALLATION_ONLY_ROLES,
    READ_ROLES,
    ROLES,
    Everywhere,
    Grant,
    Principal,
    Scope,
    legacy_grants,
)

__all__ = [
    "ALGORITHM",
    "ALL",
    "ANY_ORG",
    "AUDIT_READERS",
    "INSTALLATION_ONLY_ROLES",
    "READ_ROLES",
    "ROLES",
    "Admin",
    "Auditor",
    "BudgetOfficer",
    "Certifier",
    "CurrentPrincipal",
    "Everywhere",
    "Grant",
    "Planner",
    "PlannerCertifierOrService",
    "PlannerOrCertifier",
    "Principal",
    "Reader",
    "Registrar",
    "Scope",
    "ServiceCaller",
    "current_principal",
    "decode_token",
    "issue_token",
    "legacy_grants",
    "parse_grants",
    "require_roles",
    "verified_principal",
]

ALGORITHM = "HS256"
# A stolen token is useful at most this long: longer-lived tokens are refused even when correctly signed.
MAX_TOKEN_LIFETIME_SECONDS = 24 * 3600
# Organisation and unit codes as planning accepts them (planning.domain.document: CODE_PATTERN, 64 characters).
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# A token is a header on every request: bounded so a signed-but-silly token cannot cost much per request.
MAX_GRANTS = 64
MAX_UNITS_PER_GRANT = 256


def issue_token(principal: Principal, secret: str, *, issuer: str = "metas", ttl_seconds: int = 3600) -> str:
    now = int(time.time())
    payload = {**principal.claims(), "iss": issuer, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def _code(value: object, what: str) -> str:
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise Unauthorized(f"The token's {what} must be a code (letters, digits, '.', '_', '-'; at most 64).")
    return value


def parse_grants(raw: object) -> tuple[Grant, ...]:
    """Validates the ``grants`` claim: a list of {"role", "org", "units"} objects naming known roles and codes."""
    if not isinstance(raw, list):
        raise Unauthorized("The token's grants must be a list.")
    if len(raw) > MAX_GRANTS:
        raise Unauthorized(f"The token carries more than {MAX_GRANTS} grants.")
    grants: list[Grant] = []
    for item in raw:
        if not isinstance(item, Mapping) or not {"role", "org"} <= item.keys() <= {"role", "org", "units"}:
            raise Unauthorized('Each grant must be an object {"role", "org", "units"}.')
        role = item["role"]
        if not isinstance(role, str) or role not in ROLES:
            raise Unauthorized(f"The token names an unknown role: {str(role)[:40]!r}.")
        org = item["org"]
        if org != ANY_ORG:
            org = _code(org, "grant organisation")
        if role in INSTALLATION_ONLY_ROLES and org != ANY_ORG:
            raise Unauthorized(f"The role {role!r} is installation-wide: its org must be '*'.")
        units = item.get("units", [])
        if not isinstance(units, list) or len(units) > MAX_UNITS_PER_GRANT:
            raise Unauthorized(f"A grant's units must be a list of at most {MAX_UNITS_PER_GRANT} codes.")
        if units and (role == "admin" or role in INSTALLATION_ONLY_ROLES):
            raise Unauthorized(f"A {role!r} grant covers the whole organisation: it names no units.")
        grants.append(Grant(role, str(org), frozenset(_code(u, "grant unit") for u in units)))
    return tuple(dict.fromkeys(grants))


def _legacy(data: Mapping[str, Any]) -> tuple[Grant, ...]:
    roles = data.get("roles") or []
    units = data.get("units") or []
    if not isinstance(roles, list) or not isinstance(units, list):
        raise Unauthorized("The token's roles and units must be lists.")
    if not all(isinstance(r, str) for r in roles):
        raise Unauthorized("The token's roles must be strings.")
    unknown = set(roles) - ROLES
    if unknown:
        raise Unauthorized(f"The token names unknown roles: {sorted(unknown)}.")
    if len(units) > MAX_UNITS_PER_GRANT:
        raise Unauthorized(f"The token names more than {MAX_UNITS_PER_GRANT} units.")
    return legacy_grants(roles, (_code(u, "unit") for u in units))


def decode_token(token: str, secret: str, *, issuer: str = "metas") -> Principal:
    return _decode(token, secret, issuer)[0]


def _decode(token: str, secret: str, issuer: str) -> tuple[Principal, float]:
    """The token's principal and its expiry (seconds since the epoch), or ``Unauthorized``."""
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
    if "grants" in data:
        if "roles" in data or "units" in data:
            raise Unauthorized("The token carries both grants and the legacy roles/units claims; use grants only.")
        grants = parse_grants(data["grants"])
    else:
        grants = _legacy(data)
    name = data.get("name")
    principal = Principal(sub=str(data["sub"]), grants=grants, name=name if isinstance(name, str) else None)
    return principal, float(data["exp"])


# Tokens already verified, with their expiry: a caller sends the same token with every request, and checking its
# signature and claims again each time is most of the cost of authentication. Only a token that passed every check
# is kept, keyed by its exact text and the secret and issuer it was checked against; it is refused again from the
# instant it expires, as PyJWT refuses it (valid while now < exp). Bounded: the oldest entry goes first.
MAX_VERIFIED_TOKENS = 1024
_verified: dict[tuple[str, str, str], tuple[Principal, float]] = {}


def verified_principal(token: str, secret: str, *, issuer: str = "metas") -> Principal:
    """``decode_token`` with the cache of verified tokens."""
    key = (token, secret, issuer)
    hit = _verified.get(key)
    if hit is not None:
        if time.time() < hit[1]:
            return hit[0]
        _verified.pop(key, None)
    principal, expires = _decode(token, secret, issuer)
    while len(_verified) >= MAX_VERIFIED_TOKENS:
        _verified.pop(next(iter(_verified)), None)
    _verified[key] = (principal, expires)
    return principal


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
    principal = verified_principal(bearer_token(request), secret, issuer=request.app.state.jwt_issuer)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str) -> Callable[[Request], Awaitable[Principal]]:
    """Dependency: the caller must hold one of ``roles`` for some organisation (admin always passes). Which
    organisation the resource belongs to is the service's to check next, with ``principal.can``."""
    wanted = frozenset(roles)

    # The principal is read here, not through a nested CurrentPrincipal dependency: one level less for FastAPI to
    # solve on every request (the principal is still computed once per request, kept on request.state).
    async def check(request: Request) -> Principal:
        principal = await current_principal(request)
        if not principal.has_any(wanted):
            raise Forbidden(f"This action needs one of the roles {sorted(wanted)}.")
        return principal

    check.__name__ = "require_" + "_or_".join(sorted(wanted))
    return check


async def authorize(request: Request, roles: frozenset[str]) -> Principal:
    """The role gate of ``require_roles`` called directly, for the hottest reads that take no dependencies: the
    same principal (kept on request.state), the same 401 and 403."""
    principal = await current_principal(request)
    if not principal.has_any(roles):
        raise Forbidden(f"This action needs one of the roles {sorted(roles)}.")
    return principal


# The route-level gates, declared once for every service (module-level Annotated types: FastAPI resolves string
# annotations from module globals). Each passes admin too.
Reader = Annotated[Principal, Depends(require_roles(*READ_ROLES))]
Planner = Annotated[Principal, Depends(require_roles("planner"))]
Registrar = Annotated[Principal, Depends(require_roles("registrar"))]
Certifier = Annotated[Principal, Depends(require_roles("certifier"))]
BudgetOfficer = Annotated[Principal, Depends(require_roles("budget"))]
Auditor = Annotated[Principal, Depends(require_roles(*AUDIT_READERS))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]
ServiceCaller = Annotated[Principal, Depends(require_roles("service"))]
# Combinations in use: scoring's evaluation runs; execution's locks (scoring's service identity locks too).
PlannerOrCertifier = Annotated[Principal, Depends(require_roles("planner", "certifier"))]
PlannerCertifierOrService = Annotated[Principal, Depends(require_roles("planner", "certifier", "service"))]

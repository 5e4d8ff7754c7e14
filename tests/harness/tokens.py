"""Identities for tests: the principal behind the root ``token_for`` fixture, importable by any suite."""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from metas_kit.auth import ANY_ORG, Grant, Principal, issue_token

# One secret for every suite's services and tokens (per test session, so nothing guessable is ever in use).
TEST_JWT_SECRET = "test-secret-" + secrets.token_hex(16)

# A grant as tests write it: a Grant, (role, org) or (role, org, units).
GrantSpec = Grant | tuple[str, str] | tuple[str, str, Iterable[str]]


def _grant(spec: GrantSpec) -> Grant:
    if isinstance(spec, Grant):
        return spec
    return Grant(spec[0], spec[1], frozenset(spec[2]) if len(spec) > 2 else frozenset())


def principal_for(
    *roles: str,
    units: Iterable[str] = (),
    sub: str | None = None,
    org: str = ANY_ORG,
    grants: Iterable[GrantSpec] = (),
) -> Principal:
    """The principal behind `token_for` (same arguments)."""
    made = [_grant(g) for g in grants]
    name = sub or "-".join(roles or [g.role for g in made]) or "nobody"
    if org == ANY_ORG and not made:
        return Principal(name, roles, units)
    # admin and service grants cover a whole organisation (service: the installation): they name no units.
    made += [Grant(role, org, frozenset(units) if role not in ("admin", "service") else frozenset()) for role in roles]
    return Principal(name, grants=made)


def bearer(
    *roles: str,
    units: Iterable[str] = (),
    sub: str | None = None,
    org: str = ANY_ORG,
    grants: Iterable[GrantSpec] = (),
    secret: str = TEST_JWT_SECRET,
) -> dict[str, str]:
    """Request headers with a bearer token for that identity (same arguments as `principal_for`)."""
    principal = principal_for(*roles, units=units, sub=sub, org=org, grants=grants)
    return {"authorization": "Bearer " + issue_token(principal, secret)}

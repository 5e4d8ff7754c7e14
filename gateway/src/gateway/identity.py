"""Who is calling: a JWT bearer (verified, forwarded as is) or an API key of a system (hashed lookup,
exchanged for a short-lived JWT that the services verify)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request

from metas_kit.auth import ROLES, Principal, decode_token, issue_token
from metas_kit.errors import Unauthorized


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


def authenticate(request: Request, secret: str, issuer: str, keys: ApiKeyStore) -> Caller:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Use 'Authorization: Bearer <token>' or an X-API-Key header.")
        return Caller(decode_token(token.strip(), secret, issuer=issuer), header)
    key = request.headers.get("x-api-key")
    if key:
        principal = keys.find(key)
        if principal is None:
            raise Unauthorized("Unknown API key.")
        return Caller(principal, "Bearer " + issue_token(principal, secret, issuer=issuer, ttl_seconds=300))
    raise Unauthorized("Authentication required: a bearer token or an X-API-Key.")

"""Session tokens and lifetimes. The token is 256 random bits handed to the person once; only its SHA-256 is
stored, so a copy of the database opens no session."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

TOKEN_BYTES = 32
# Token text as issued: url-safe base64 of 32 bytes is 43 characters; anything longer is not ours.
MAX_TOKEN_LENGTH = 64


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Lifetime:
    idle: timedelta
    absolute: timedelta


def expires_at(created_at: datetime, last_seen_at: datetime, lifetime: Lifetime) -> datetime:
    """When the session ends if nothing else happens: idle expiry, capped by the absolute one."""
    return min(last_seen_at + lifetime.idle, created_at + lifetime.absolute)


def is_live(
    created_at: datetime, last_seen_at: datetime, revoked_at: datetime | None, now: datetime, lifetime: Lifetime
) -> bool:
    return revoked_at is None and now < expires_at(created_at, last_seen_at, lifetime)

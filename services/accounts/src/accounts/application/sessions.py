"""Sign-in, session checks and sign-out. Called by the gateway (the `service` role) on a person's behalf.

Sign-in runs in three steps so that neither the slow hash nor a refusal loses anything: a read (throttle
state, the account), the argon2 verification outside any transaction (SQLite's write lock is not held while
hashing), and a write of its own (the new session, or the failure, which must be kept although the request
fails)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.application.context import AccountsContext
from accounts.db import repositories as repo
from accounts.db.models import Account, AccountSession, AuditEvent
from accounts.domain.accounts import normalise_username
from accounts.domain.sessions import expires_at, is_live, new_token, token_digest
from accounts.domain.throttle import retry_after
from metas_kit.audit import record_audit
from metas_kit.auth import Principal
from metas_kit.db import Database, utcnow
from metas_kit.errors import Forbidden, TooManyRequests, Unauthorized

log = logging.getLogger("accounts.sessions")
# The one answer to every failed sign-in: which of name or password was wrong, or whether the account exists
# or is disabled, is not told.
GENERIC_FAILURE = "The username or password is not correct."
SESSION_ENDED = "The session has ended; sign in again."
# last_seen_at is written at most this often per session: a busy page costs one write, not one per request.
TOUCH_EVERY = timedelta(seconds=15)


class SignInFailed(Unauthorized):
    type_slug, title = "sign-in-failed", "Sign-in failed"

    def __init__(self) -> None:
        super().__init__(GENERIC_FAILURE, headers={"WWW-Authenticate": 'Session realm="metas"'})


class SessionEnded(Unauthorized):
    type_slug, title = "session-ended", "Session ended"

    def __init__(self) -> None:
        super().__init__(SESSION_ENDED, headers={"WWW-Authenticate": 'Session realm="metas"'})


class SignInThrottled(TooManyRequests):
    type_slug, title = "sign-in-throttled", "Too many failed sign-ins"


def require_service(who: Principal) -> None:
    # Not even an admin: a session is opened for a person whose password the gateway has just been given.
    if "service" not in who.roles:
        raise Forbidden("Sessions are opened and checked by the gateway only.")


@dataclass(frozen=True)
class Opened:
    token: str
    expires_at: datetime
    account: Account


@dataclass(frozen=True)
class Resolved:
    account: Account
    expires_at: datetime
    absolute_expires_at: datetime


async def _throttled(session: AsyncSession, ctx: AccountsContext, keys: list[tuple[str, str]], now: datetime) -> int:
    wait = 0
    for kind, key in keys:
        limit = ctx.max_failures_per_account if kind == "account" else ctx.max_failures_per_address
        seen = await repo.failures(session, kind=kind, key=key, since=now - ctx.window)
        wait = max(wait, retry_after(seen, now, limit=limit, window=ctx.window))
    return wait


async def sign_in(
    db: Database, who: Principal, ctx: AccountsContext, *, username: str, password: str, address: str | None
) -> Opened:
    require_service(who)
    name = normalise_username(username)
    keys = [("account", name[:200])]
    if address:
        keys.append(("address", address[:200]))
    now = utcnow()
    async with db.read_sessionmaker() as session:
        wait = await _throttled(session, ctx, keys, now)
        account = await repo.get_account(session, name) if wait == 0 else None
        stored = account.password_hash if account is not None and account.active else None
    if wait:
        log.info("sign-in throttled", extra={"username": name, "address": address, "retry_after": wait})
        raise SignInThrottled(
            "Too many failed sign-ins; try again later.",
            headers={"Retry-After": str(wait)},
            extra={"retry_after": wait},
        )
    # Unknown, disabled and OIDC-only accounts verify against a dummy hash: the same work, the same answer.
    ok = await asyncio.to_thread(ctx.passwords.verify, stored, password)
    if not ok or account is None:
        async with db.sessionmaker() as session, session.begin():
            await repo.add_failures(session, keys, at=now)
            await repo.prune_failures(session, before=now - ctx.window)
        # Raised once the failure is committed (raising inside the transaction would roll it back).
        log.info("sign-in refused", extra={"username": name, "address": address})
        raise SignInFailed()
    async with db.sessionmaker() as session, session.begin():
        await repo.clear_failures(session, kind="account", key=name)
        if stored is not None and ctx.passwords.needs_rehash(stored):
            fresh = await repo.get_account(session, name)
            if fresh is not None:
                fresh.password_hash = await asyncio.to_thread(ctx.passwords.hash, password)
        return await _open(session, ctx, account, now, method="password")


async def _open(session: AsyncSession, ctx: AccountsContext, account: Account, now: datetime, *, method: str) -> Opened:
    token = new_token()
    await repo.add_session(
        session,
        AccountSession(
            token_digest=token_digest(token), account_id=account.id, created_at=now, last_seen_at=now, method=method
        ),
    )
    await repo.prune_sessions(session, older_than=now - ctx.lifetime.absolute - timedelta(days=1))
    person = Principal(account.username, grants=repo.grants_of(account), name=account.display_name)
    await record_audit(
        session,
        AuditEvent,
        person,
        action="session.create",
        entity_type="account",
        entity_id=account.username,
        changes={"method": method},
    )
    return Opened(token=token, expires_at=now + ctx.lifetime.absolute, account=account)


async def open_external(
    session: AsyncSession, who: Principal, ctx: AccountsContext, account: Account, *, method: str
) -> Opened:
    """A session for a person the gateway has authenticated elsewhere (OpenID Connect)."""
    require_service(who)
    if not account.active:
        raise SignInFailed()
    return await _open(session, ctx, account, utcnow(), method=method)


async def resolve(session: AsyncSession, who: Principal, ctx: AccountsContext, token: str) -> Resolved:
    """The live session of ``token`` and its account; touching it pushes back the idle expiry."""
    require_service(who)
    row = await repo.get_session(session, token_digest(token))
    if row is None:
        raise SessionEnded()
    now = utcnow()
    created, seen = repo.as_utc(row.created_at), repo.as_utc(row.last_seen_at)
    revoked = repo.as_utc(row.revoked_at) if row.revoked_at else None
    account = await repo.get_account_by_id(session, row.account_id)
    if account is None or not account.active or not is_live(created, seen, revoked, now, ctx.lifetime):
        raise SessionEnded()
    if now - seen >= TOUCH_EVERY:
        row.last_seen_at = seen = now
        await session.flush()
    return Resolved(
        account=account,
        expires_at=expires_at(created, seen, ctx.lifetime),
        absolute_expires_at=created + ctx.lifetime.absolute,
    )


async def revoke(session: AsyncSession, who: Principal, token: str) -> None:
    """Ends the session of ``token``; an unknown or ended one is not an error (sign-out is idempotent)."""
    require_service(who)
    row = await repo.get_session(session, token_digest(token))
    if row is None or row.revoked_at is not None:
        return
    row.revoked_at = utcnow()
    account = await repo.get_account_by_id(session, row.account_id)
    if account is not None:
        person = Principal(account.username, grants=repo.grants_of(account), name=account.display_name)
        await record_audit(
            session,
            AuditEvent,
            person,
            action="session.revoke",
            entity_type="account",
            entity_id=account.username,
            changes={},
        )
    await session.flush()

"""Repositories of the accounts service: they add, flush and query; the request's session commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.db.models import Account, AccountGrant, AccountSession, SignInFailure
from metas_kit.auth import Grant
from metas_kit.pagination import PageParams, PageResult, paginate


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# --- accounts --------------------------------------------------------------------------------


async def get_account(session: AsyncSession, username: str, *, for_update: bool = False) -> Account | None:
    stmt = select(Account).where(Account.username == username)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def get_account_by_id(session: AsyncSession, account_id: int) -> Account | None:
    return await session.get(Account, account_id)


async def list_accounts(session: AsyncSession, *, page: PageParams, active: bool | None = None) -> PageResult[Account]:
    stmt = select(Account)
    if active is not None:
        stmt = stmt.where(Account.active.is_(active))
    return await paginate(session, stmt, [Account.username], page)


async def add_account(session: AsyncSession, account: Account) -> Account:
    session.add(account)
    await session.flush()
    return account


def replace_grants(account: Account, grants: Iterable[Grant]) -> None:
    account.grants[:] = [AccountGrant(role=g.role, org=g.org, units=sorted(g.units)) for g in grants]


def grants_of(account: Account) -> tuple[Grant, ...]:
    return tuple(Grant(g.role, g.org, frozenset(g.units)) for g in account.grants)


async def directory_candidates(
    session: AsyncSession, *, roles: frozenset[str] | None, org: str | None, page: PageParams
) -> PageResult[Account]:
    """Active accounts holding a grant of one of ``roles`` for ``org`` (or installation-wide); units are
    filtered by the caller (they sit in a JSON list)."""
    stmt = select(Account).where(Account.active.is_(True))
    if roles is not None or org is not None:
        grant = select(AccountGrant.account_id)
        if roles is not None:
            grant = grant.where(AccountGrant.role.in_(sorted(roles)))
        if org is not None:
            grant = grant.where(AccountGrant.org.in_(["*", org]))
        stmt = stmt.where(Account.id.in_(grant))
    return await paginate(session, stmt, [Account.username], page)


# --- sessions --------------------------------------------------------------------------------


async def add_session(session: AsyncSession, row: AccountSession) -> None:
    session.add(row)
    await session.flush()


async def get_session(session: AsyncSession, digest: str) -> AccountSession | None:
    return await session.get(AccountSession, digest)


async def revoke_sessions(session: AsyncSession, *, account_id: int, now: datetime) -> int:
    result = await session.execute(
        update(AccountSession)
        .where(AccountSession.account_id == account_id, AccountSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def prune_sessions(session: AsyncSession, *, older_than: datetime) -> None:
    """Sessions that ended long ago carry nothing anybody needs; the audit trail keeps the sign-ins."""
    await session.execute(delete(AccountSession).where(AccountSession.last_seen_at < older_than))


# --- sign-in failures ------------------------------------------------------------------------


async def failures(session: AsyncSession, *, kind: str, key: str, since: datetime) -> list[datetime]:
    rows = await session.scalars(
        select(SignInFailure.at).where(SignInFailure.kind == kind, SignInFailure.key == key, SignInFailure.at > since)
    )
    return [as_utc(at) for at in rows.all()]


async def add_failures(session: AsyncSession, keys: Sequence[tuple[str, str]], *, at: datetime) -> None:
    session.add_all(SignInFailure(kind=kind, key=key, at=at) for kind, key in keys)
    await session.flush()


async def clear_failures(session: AsyncSession, *, kind: str, key: str) -> None:
    await session.execute(delete(SignInFailure).where(SignInFailure.kind == kind, SignInFailure.key == key))


async def prune_failures(session: AsyncSession, *, before: datetime) -> None:
    await session.execute(delete(SignInFailure).where(SignInFailure.at < before))

"""Account administration (installation-wide admins) and the directory read by services."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.application.context import AccountsContext
from accounts.db import repositories as repo
from accounts.db.models import Account, AuditEvent
from accounts.domain.accounts import covers, grant_problems
from accounts.domain.passwords import password_problems
from metas_kit.audit import record_audit
from metas_kit.db import utcnow
from metas_kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from metas_kit.grants import ANY_ORG, Grant, Principal
from metas_kit.pagination import PageParams, PageResult, encode_cursor
from metas_kit.writes import WriteContext


def require_installation_admin(who: Principal) -> None:
    # An organisation's admin may not create installation-wide accounts or grant other organisations: until
    # accounts are scoped by organisation, only installation-wide admins manage them.
    if not who.can({"admin"}, ANY_ORG):
        raise Forbidden("Managing accounts needs an installation-wide admin grant.")


def account_view(account: Account) -> dict[str, Any]:
    return {
        "username": account.username,
        "display_name": account.display_name,
        "email": account.email,
        "locale": account.locale,
        "active": account.active,
        "grants": [g.claim() for g in repo.grants_of(account)],
    }


def check_grants(grants: Iterable[Grant]) -> tuple[Grant, ...]:
    unique = tuple(dict.fromkeys(grants))
    problems = grant_problems(unique)
    if problems:
        raise ValidationFailed([{"path": "grants", "message": p} for p in problems])
    return unique


def check_password(password: str, username: str) -> None:
    problems = password_problems(password, username)
    if problems:
        raise ValidationFailed([{"path": "password", "message": "The password needs " + ", ".join(problems) + "."}])


@dataclass(frozen=True)
class NewAccount:
    username: str
    display_name: str
    email: str
    locale: str
    password: str | None
    grants: tuple[Grant, ...]
    active: bool = True


async def _get(session: AsyncSession, username: str, *, for_update: bool = False) -> Account:
    account = await repo.get_account(session, username, for_update=for_update)
    if account is None:
        raise NotFound(f"No account '{username}'.")
    return account


async def create_account(write: WriteContext, ctx: AccountsContext, new: NewAccount) -> Account:
    session = write.session
    require_installation_admin(write.principal)
    grants = check_grants(new.grants)
    if new.password is not None:
        check_password(new.password, new.username)
    if await repo.get_account(session, new.username) is not None:
        raise Conflict(f"An account '{new.username}' already exists.")
    digest = await asyncio.to_thread(ctx.passwords.hash, new.password) if new.password is not None else None
    account = Account(
        username=new.username,
        display_name=new.display_name,
        email=new.email,
        locale=new.locale,
        active=new.active,
        password_hash=digest,
        grants=[],
    )
    repo.replace_grants(account, grants)
    await repo.add_account(session, account)
    await write.audit("account", account.username, "create", after=account_view(account))
    write.headers["Location"] = f"/v1/accounts/{account.username}"
    return account


async def get_account(session: AsyncSession, who: Principal, username: str) -> Account:
    require_installation_admin(who)
    return await _get(session, username)


async def list_accounts(
    session: AsyncSession, who: Principal, *, page: PageParams, active: bool | None
) -> PageResult[Account]:
    require_installation_admin(who)
    return await repo.list_accounts(session, page=page, active=active)


async def update_account(write: WriteContext, username: str, changes: dict[str, Any]) -> Account:
    """Display name, e-mail, locale, active. Disabling ends every open session of the account."""
    session = write.session
    require_installation_admin(write.principal)
    account = await _get(session, username, for_update=True)
    before = account_view(account)
    for field in ("display_name", "email", "locale", "active"):
        if field in changes and changes[field] is not None:
            setattr(account, field, changes[field])
    after = account_view(account)
    if after == before:
        write.unchanged()  # nothing changed: nothing written, nothing audited
        return account
    now = utcnow()
    account.updated_at = now
    if before["active"] and not after["active"]:
        await repo.revoke_sessions(session, account_id=account.id, now=now)
    verb = "update"
    if before["active"] != after["active"]:
        verb = "enable" if after["active"] else "disable"
    await session.flush()
    await write.audit("account", username, verb, before=before, after=after)
    return account


async def set_grants(write: WriteContext, username: str, grants: Iterable[Grant]) -> Account:
    session = write.session
    require_installation_admin(write.principal)
    wanted = check_grants(grants)
    account = await _get(session, username, for_update=True)
    before = account_view(account)["grants"]
    if set(repo.grants_of(account)) == set(wanted):
        write.unchanged()
        return account
    repo.replace_grants(account, wanted)
    account.updated_at = utcnow()
    await session.flush()
    await write.audit("account", username, "set_grants", changes={"grants": [before, [g.claim() for g in wanted]]})
    return account


async def reset_password(write: WriteContext, ctx: AccountsContext, username: str, password: str) -> Account:
    """A new password set by an admin; every open session of the account ends (whoever held one must sign in
    again). The audit row says that it changed, never what to."""
    session = write.session
    require_installation_admin(write.principal)
    check_password(password, username)
    account = await _get(session, username, for_update=True)
    account.password_hash = await asyncio.to_thread(ctx.passwords.hash, password)
    now = utcnow()
    account.updated_at = now
    ended = await repo.revoke_sessions(session, account_id=account.id, now=now)
    await write.audit("account", username, "reset_password", changes={"password": "changed", "sessions_ended": ended})
    return account


async def directory(
    session: AsyncSession,
    who: Principal,
    *,
    roles: frozenset[str] | None,
    org: str | None,
    unit: str | None,
    page: PageParams,
) -> PageResult[Account]:
    """Active people matching the filters, for services (reminders) and admins."""
    if not who.has_any({"service"}):
        raise Forbidden("The directory is read by services and admins.")
    out: list[Account] = []
    batch_page = page
    # Unit filtering happens here (units are a JSON list), so read candidate pages until this page is full; a
    # page filled mid-batch ends at the last account taken.
    while True:
        batch = await repo.directory_candidates(session, roles=roles, org=org, page=batch_page)
        for i, account in enumerate(batch.items):
            if covers(repo.grants_of(account), roles=roles, org=org, unit=unit):
                out.append(account)
                if len(out) == page.limit:
                    more = i + 1 < len(batch.items) or batch.next_cursor is not None
                    return PageResult(out, encode_cursor({"username": account.username}) if more else None)
        if batch.next_cursor is None:
            return PageResult(out, None)
        batch_page = PageParams(limit=page.limit, cursor={"username": batch.items[-1].username})


async def upsert_external(
    session: AsyncSession,
    who: Principal,
    *,
    username: str,
    display_name: str,
    email: str,
    locale: str | None,
    grants: Iterable[Grant],
) -> Account:
    """The account of a person signed in through OpenID Connect: made on first sign-in, and its name, e-mail
    and grants kept as the provider's claims say (the provider is the source of truth for them)."""
    if "service" not in who.roles:
        raise Forbidden("Only the gateway signs people in.")
    wanted = check_grants(grants)
    account = await repo.get_account(session, username, for_update=True)
    if account is None:
        account = Account(
            username=username,
            display_name=display_name,
            email=email,
            locale=locale or "pt-PT",
            active=True,
            password_hash=None,
            grants=[],
        )
        repo.replace_grants(account, wanted)
        await repo.add_account(session, account)
        await record_audit(
            session,
            AuditEvent,
            who,
            action="account.create",
            entity_type="account",
            entity_id=username,
            after=account_view(account),
        )
        return account
    before = account_view(account)
    account.display_name, account.email = display_name, email
    if locale is not None:
        account.locale = locale
    if set(repo.grants_of(account)) != set(wanted):
        repo.replace_grants(account, wanted)
    after = account_view(account)
    if after != before:
        account.updated_at = utcnow()
        await session.flush()
        await record_audit(
            session,
            AuditEvent,
            who,
            action="account.update",
            entity_type="account",
            entity_id=username,
            before=before,
            after=after,
        )
    return account

"""Account administration: /v1/accounts (installation-wide admins); every change audited."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Query

from accounts.api.schemas import AccountCreate, AccountOut, AccountPage, AccountPatch, GrantsPut, PasswordReset
from accounts.application import accounts as app
from accounts.deps import Admin, ContextDep, PageDep, SessionDep
from accounts.domain.accounts import USERNAME_PATTERN
from metas_kit.errors import PROBLEM_RESPONSES
from metas_kit.writes import Write, WriteContext

if TYPE_CHECKING:
    from accounts.db.models import Account

router = APIRouter(prefix="/v1/accounts", tags=["accounts"])
UsernamePath = Annotated[str, Path(pattern=USERNAME_PATTERN, max_length=64)]


def out(account: Account) -> AccountOut:
    return AccountOut.model_validate(app.account_view(account))


@router.get("", summary="List accounts", responses=PROBLEM_RESPONSES)
async def list_accounts(
    session: SessionDep, who: Admin, page: PageDep, active: Annotated[bool | None, Query()] = None
) -> AccountPage:
    found = await app.list_accounts(session, who, page=page, active=active)
    return AccountPage(items=[out(r) for r in found.items], next_cursor=found.next_cursor)


@router.post("", status_code=201, summary="Create an account", response_model=AccountOut, responses=PROBLEM_RESPONSES)
async def create_account(body: AccountCreate, write: Write, who: Admin, ctx: ContextDep) -> Any:
    new = app.NewAccount(
        username=body.username,
        display_name=body.display_name,
        email=body.email,
        locale=body.locale,
        password=body.password,
        grants=tuple(g.to_grant() for g in body.grants),
        active=body.active,
    )

    async def run(c: WriteContext) -> AccountOut:
        return out(await app.create_account(c, ctx, new))

    return await write(run, payload=body, status_code=201)


@router.get("/{username}", summary="One account", responses=PROBLEM_RESPONSES)
async def get_account(username: UsernamePath, session: SessionDep, who: Admin) -> AccountOut:
    return out(await app.get_account(session, who, username))


@router.patch(
    "/{username}",
    summary="Change name, e-mail, locale; disable or enable (disabling ends its sessions)",
    response_model=AccountOut,
    responses=PROBLEM_RESPONSES,
)
async def update_account(username: UsernamePath, body: AccountPatch, write: Write, who: Admin) -> Any:
    changes = body.model_dump(exclude_unset=True)

    async def run(c: WriteContext) -> AccountOut:
        return out(await app.update_account(c, username, changes))

    return await write(run, payload=body)


@router.put(
    "/{username}/grants",
    summary="Replace the account's grants (roles, organisations, units)",
    response_model=AccountOut,
    responses=PROBLEM_RESPONSES,
)
async def set_grants(username: UsernamePath, body: GrantsPut, write: Write, who: Admin) -> Any:
    async def run(c: WriteContext) -> AccountOut:
        return out(await app.set_grants(c, username, [g.to_grant() for g in body.grants]))

    return await write(run, payload=body)


@router.post(
    "/{username}/password",
    summary="Set a new password (ends the account's sessions)",
    response_model=AccountOut,
    responses=PROBLEM_RESPONSES,
)
async def reset_password(username: UsernamePath, body: PasswordReset, write: Write, who: Admin, ctx: ContextDep) -> Any:
    async def run(c: WriteContext) -> AccountOut:
        return out(await app.reset_password(c, ctx, username, body.password))

    # The password is the payload that identifies a retry; only its hash is kept with the replay record.
    return await write(run, payload={"password_sha256": hashlib.sha256(body.password.encode()).hexdigest()})

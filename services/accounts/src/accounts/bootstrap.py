"""The first administrator of an installation: `python -m accounts.bootstrap admin --email it@example.org`
(in the image: `metas create-admin admin --email …`). Makes an account with an installation-wide admin grant
and a random password printed once; refuses if the account exists. Uses METAS_ACCOUNTS_DATABASE_URL."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from typing import cast

from starlette.requests import Request

from accounts.application.accounts import NewAccount, create_account
from accounts.application.context import AccountsContext
from accounts.db.base import AuditEvent, IdempotencyRecord
from accounts.settings import Settings
from metas_kit.auth import Grant, Principal
from metas_kit.db import Database
from metas_kit.errors import AppError
from metas_kit.writes import WriteContext, WriteModels


async def bootstrap(settings: Settings, username: str, email: str, display_name: str) -> str:
    password = secrets.token_urlsafe(15)
    db = Database(settings.database_url)
    # The audit trail names who made the account: this command, not a person.
    who = Principal("bootstrap", grants=[Grant("admin")])
    try:
        async with db.sessionmaker() as session, session.begin():
            # No HTTP request here: the write context is only the transaction, the caller and the audit table.
            write = WriteContext(session, who, cast(Request, None), WriteModels(AuditEvent, IdempotencyRecord))
            await create_account(
                write,
                AccountsContext.from_settings(settings),
                NewAccount(username, display_name, email, "en", password, (Grant("admin"),)),
            )
    finally:
        await db.dispose()
    return password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("username")
    parser.add_argument("--email", required=True)
    parser.add_argument("--display-name", default="Administrator")
    args = parser.parse_args(argv)
    try:
        password = asyncio.run(bootstrap(Settings(), args.username.lower(), args.email, args.display_name))
    except AppError as exc:
        print(f"accounts: {exc.detail}", file=sys.stderr)  # noqa: T201
        return 1
    print(f"Administrator {args.username.lower()} created. Password (shown this once): {password}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())

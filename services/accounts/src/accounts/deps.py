"""Annotated dependency aliases of the accounts service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from accounts.application.context import AccountsContext
from metas_kit.auth import Admin, CurrentPrincipal, ServiceCaller
from metas_kit.db import Database, SessionDep
from metas_kit.pagination import PageDep


def _context(request: Request) -> AccountsContext:
    ctx: AccountsContext = request.app.state.accounts
    return ctx


def _database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


ContextDep = Annotated[AccountsContext, Depends(_context)]
# Sign-in opens its own transactions (a refusal must still be recorded): it takes the database, not a session.
DatabaseDep = Annotated[Database, Depends(_database)]

__all__ = ["Admin", "ContextDep", "CurrentPrincipal", "DatabaseDep", "PageDep", "ServiceCaller", "SessionDep"]

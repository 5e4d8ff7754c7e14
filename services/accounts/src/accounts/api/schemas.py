"""Request and response bodies of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from accounts.domain.accounts import CODE_PATTERN, MAX_GRANTS, MAX_UNITS_PER_GRANT, USERNAME_PATTERN
from accounts.domain.passwords import MAX_PASSWORD_LENGTH
from accounts.domain.sessions import MAX_TOKEN_LENGTH
from metas_kit.auth import Grant

Locale = Literal["pt-PT", "pt-BR", "en"]
Role = Literal["admin", "planner", "registrar", "certifier", "budget", "viewer", "auditor", "service"]
Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN, max_length=64)]
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN, max_length=64)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Enough to catch a typo and to deliver mail; whether the mailbox exists is the mail server's to say.
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]+$", max_length=254)]
Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
Token = Annotated[str, Field(min_length=1, max_length=MAX_TOKEN_LENGTH)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GrantIn(Strict):
    role: Role
    org: Code | Literal["*"] = "*"
    units: list[Code] = Field(default_factory=list, max_length=MAX_UNITS_PER_GRANT)

    def to_grant(self) -> Grant:
        return Grant(self.role, self.org, frozenset(self.units))


class GrantOut(BaseModel):
    role: str
    org: str
    units: list[str]


class AccountOut(BaseModel):
    username: str
    display_name: str
    email: str
    locale: str
    active: bool
    grants: list[GrantOut]


class AccountPage(BaseModel):
    items: list[AccountOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null at the end.")


class AccountCreate(Strict):
    username: Username
    display_name: DisplayName
    email: Email
    locale: Locale = "pt-PT"
    # Omitted for people who sign in only through OpenID Connect.
    password: Password | None = None
    grants: list[GrantIn] = Field(default_factory=list, max_length=MAX_GRANTS)
    active: bool = True


class AccountPatch(Strict):
    display_name: DisplayName | None = None
    email: Email | None = None
    locale: Locale | None = None
    active: bool | None = None


class GrantsPut(Strict):
    grants: list[GrantIn] = Field(max_length=MAX_GRANTS)


class PasswordReset(Strict):
    password: Password


class SignIn(Strict):
    username: Annotated[str, Field(min_length=1, max_length=200)]
    password: Password
    # The person's address as the gateway saw it: failures are counted against it too.
    client_address: Annotated[str | None, Field(max_length=200)] = None


class SessionToken(Strict):
    token: Token


class ExternalSignIn(Strict):
    """A person authenticated by an OpenID Connect provider, with the grants its claims map to."""

    username: Username
    display_name: DisplayName
    email: Email
    locale: Locale | None = None
    grants: list[GrantIn] = Field(default_factory=list, max_length=MAX_GRANTS)
    method: Literal["oidc"] = "oidc"


class SessionOut(BaseModel):
    token: str
    expires_at: datetime
    account: AccountOut


class ResolvedOut(BaseModel):
    account: AccountOut
    expires_at: datetime = Field(description="When the session ends without further use (idle expiry).")
    absolute_expires_at: datetime

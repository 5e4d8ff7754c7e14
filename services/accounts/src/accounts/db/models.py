"""Every ORM model of the accounts service; Alembic imports this module to see the metadata."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.db.base import AuditEvent, Base, IdempotencyRecord
from metas_kit.db import utcnow

__all__ = ["Account", "AccountGrant", "AccountSession", "AuditEvent", "Base", "IdempotencyRecord", "SignInFailure"]

BigId = BigInteger().with_variant(Integer, "sqlite")


class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # argon2id encoded hash; NULL for people who sign in only through OpenID Connect.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    grants: Mapped[list[AccountGrant]] = relationship(
        back_populates="account", cascade="all, delete-orphan", lazy="selectin", order_by="AccountGrant.id"
    )


class AccountGrant(Base):
    __tablename__ = "account_grant"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    org: Mapped[str] = mapped_column(String(64))
    units: Mapped[list[str]] = mapped_column(JSON)

    account: Mapped[Account] = relationship(back_populates="grants")

    __table_args__ = (Index("ix_account_grant_role_org", "role", "org"),)


class AccountSession(Base):
    """One sign-in. Only the SHA-256 of the token is kept."""

    __tablename__ = "account_session"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # How the person signed in: "password" or "oidc".
    method: Mapped[str] = mapped_column(String(20), default="password")


class SignInFailure(Base):
    """A failed sign-in, counted against the account name and against the client address."""

    __tablename__ = "sign_in_failure"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    __table_args__ = (Index("ix_sign_in_failure_kind_key_at", "kind", "key", "at"),)

"""Every ORM model of the execution service; Alembic imports this module to see the metadata.

A registration row holds the *current* state of (plan, item, period) and its version counter; every
change appends an immutable ``registration_version`` row (who, when, why, request id). The counter
is SQLAlchemy's ``version_id_col``: an UPDATE carries ``WHERE version = <read version>``, so of two
concurrent writers holding the same ETag only one can succeed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from execution.db.base import AuditEvent, Base, IdempotencyRecord
from execution.db.types import BigId, UTCDateTime

__all__ = [
    "AuditEvent",
    "Base",
    "IdempotencyRecord",
    "LockException",
    "OrganisationClosure",
    "PeriodLock",
    "PlanRegistrationSettings",
    "Registration",
    "RegistrationVersion",
]


class Registration(Base):
    __tablename__ = "registration"
    __table_args__ = (
        UniqueConstraint("plan_id", "item_code", "period"),
        Index("ix_registration_plan_period", "plan_id", "period"),
        Index("ix_registration_plan_unit", "plan_id", "unit_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(String(100))
    item_code: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(7))
    item_kind: Mapped[str] = mapped_column(String(20))
    unit_code: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    certification: Mapped[str] = mapped_column(String(20))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    certified_by: Mapped[str | None] = mapped_column(String(200))
    certified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_registered_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))
    # Of the current value: why it deviates from the target (domain/justifications.py) and the warnings it got.
    justification: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=list)
    # The number of the last certify version, kept through a later reject; a value submitted after it is
    # flagged until a certifier certifies again.
    certified_version: Mapped[int | None] = mapped_column(Integer)
    changed_since_certified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    versions: Mapped[list[RegistrationVersion]] = relationship(
        back_populates="registration",
        order_by="RegistrationVersion.number",
        lazy="raise",
        cascade="all, delete-orphan",
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declared name


class RegistrationVersion(Base):
    __tablename__ = "registration_version"
    __table_args__ = (UniqueConstraint("registration_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))  # submit | certify | reject
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    certification: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(128))
    justification: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=list)

    registration: Mapped[Registration] = relationship(back_populates="versions", lazy="raise")


class PeriodLock(Base):
    __tablename__ = "period_lock"
    __table_args__ = (UniqueConstraint("plan_id", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(7))
    reason: Mapped[str] = mapped_column(Text)
    locked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_by: Mapped[str] = mapped_column(String(200))


class LockException(Base):
    """Allows writes to one item, one unit or a whole locked/expired period until ``until``."""

    __tablename__ = "lock_exception"
    __table_args__ = (Index("ix_lock_exception_plan_period", "plan_id", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(7))
    item_code: Mapped[str | None] = mapped_column(String(100))
    unit_code: Mapped[str | None] = mapped_column(String(100))
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OrganisationClosure(Base):
    """A day an organisation is closed (municipal holiday, ponto facultativo, tolerância de ponto)."""

    __tablename__ = "organisation_closure"
    __table_args__ = (UniqueConstraint("organisation_code", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organisation_code: Mapped[str] = mapped_column(String(100), index=True)
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class PlanRegistrationSettings(Base):
    """Registration rules a plan document cannot express yet, kept by execution per plan.

    Only keys planning does not own: the catch-up period (seed 004: January–May registered once
    the agreement is signed), the write-window closing month, and calendar refinements.
    """

    __tablename__ = "plan_registration_settings"

    plan_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    catch_up_through: Mapped[str | None] = mapped_column(String(7))
    closing_month: Mapped[int | None] = mapped_column(Integer)
    holiday_categories: Mapped[list[str] | None] = mapped_column(JSON)
    openings: Mapped[list[str] | None] = mapped_column(JSON)
    timezone: Mapped[str | None] = mapped_column(String(64))
    # "version" (NULL: the default) or "registration": see domain/certification.py, CertifierIndependence.
    certifier_independence: Mapped[str | None] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's declared name

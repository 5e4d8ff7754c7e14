"""Every ORM model of the planning service; Alembic imports this module to see the metadata.

Storage design: each plan version stores its whole validated plan document as JSON
(``plan_version.document``) — the document is the unit of validation, hashing (ETag), approval and
export, so it is kept exactly as validated. Beside it, ``plan_item`` is a normalised index of the
items others list and filter (unit, objective, indicator codes), rebuilt from the document in the
same transaction whenever a version's document changes; it is never edited on its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from metas_kit.db import utcnow
from planning.db.base import AuditEvent, Base, IdempotencyRecord


class Organisation(Base):
    __tablename__ = "organisation"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    acronym: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Plan(Base):
    __tablename__ = "plan"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_code: Mapped[str] = mapped_column(ForeignKey("organisation.code"), index=True)
    framework: Mapped[str] = mapped_column(String(30), index=True)
    cycle_year: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(500))
    current_version: Mapped[int | None] = mapped_column(Integer)  # the approved version, if any
    latest_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class PlanVersion(Base):
    __tablename__ = "plan_version"

    plan_id: Mapped[str] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # draft | approved | superseded
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    etag: Mapped[str] = mapped_column(String(120))
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    based_on: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(200))


class PlanItem(Base):
    """Index row of one item of one version's document (see the module docstring)."""

    __tablename__ = "plan_item"
    __table_args__ = (
        ForeignKeyConstraint(
            ["plan_id", "version"],
            ["plan_version.plan_id", "plan_version.number"],
            ondelete="CASCADE",
        ),
        Index("ix_plan_item_listing", "plan_id", "version", "kind", "position"),
        Index("ix_plan_item_unit", "plan_id", "version", "unit_code"),
    )

    plan_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(Text)
    unit_code: Mapped[str | None] = mapped_column(String(64))
    objective_code: Mapped[str | None] = mapped_column(String(64))
    indicator_code: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


__all__ = ["AuditEvent", "Base", "IdempotencyRecord", "Organisation", "Plan", "PlanItem", "PlanVersion"]

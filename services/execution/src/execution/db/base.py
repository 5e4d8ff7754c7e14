"""Declarative base of the execution database, with the kit's audit and idempotency tables."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from metas_kit.audit import AuditEventMixin
from metas_kit.db import new_metadata
from metas_kit.idempotency import IdempotencyRecordMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class AuditEvent(AuditEventMixin, Base):
    # The plan's organisation, so that organisation's auditors see the event (NULL: installation-level).
    organisation_code: Mapped[str | None] = mapped_column(String(64), index=True)


class IdempotencyRecord(IdempotencyRecordMixin, Base):
    pass

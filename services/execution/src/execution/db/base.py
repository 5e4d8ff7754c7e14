"""Declarative base of the execution database, with the kit's audit and idempotency tables."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from metas_kit.audit import OrganisationAuditEventMixin
from metas_kit.db import new_metadata
from metas_kit.idempotency import IdempotencyRecordMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class AuditEvent(OrganisationAuditEventMixin, Base):
    pass


class IdempotencyRecord(IdempotencyRecordMixin, Base):
    pass

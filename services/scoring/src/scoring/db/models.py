"""Every ORM model of the scoring service; Alembic imports this module to see the metadata."""

from __future__ import annotations

from scoring.db.base import AuditEvent, Base, IdempotencyRecord

__all__ = ["AuditEvent", "Base", "IdempotencyRecord"]

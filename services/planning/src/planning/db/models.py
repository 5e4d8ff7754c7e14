"""Every ORM model of the planning service; Alembic imports this module to see the metadata."""

from __future__ import annotations

from planning.db.base import AuditEvent, Base, IdempotencyRecord

__all__ = ["AuditEvent", "Base", "IdempotencyRecord"]

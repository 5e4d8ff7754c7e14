"""Every ORM model of the budget service; Alembic imports this module to see the metadata."""

from __future__ import annotations

from budget.db.base import AuditEvent, Base, IdempotencyRecord

__all__ = ["AuditEvent", "Base", "IdempotencyRecord"]

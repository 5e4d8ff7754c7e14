"""audit events carry the organisation of what was written

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 16:10:00

Events written before are left without one (NULL): they are shown to installation-wide auditors only, which
every auditor was before grants named organisations, so nobody loses sight of anything on upgrade.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_code", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_event_organisation_code"), ["organisation_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_organisation_code"))
        batch_op.drop_column("organisation_code")

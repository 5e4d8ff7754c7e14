"""audit events carry the organisation of the evaluated plan

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 16:20:00

Existing evaluation events take the organisation of their evaluation; anything else stays NULL, visible to
installation-wide auditors only (which every auditor was before grants named organisations).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_code", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_event_organisation_code"), ["organisation_code"], unique=False)
    op.execute(
        "UPDATE audit_event SET organisation_code = (SELECT evaluation_run.organisation_code FROM evaluation_run "
        "WHERE evaluation_run.id = audit_event.entity_id) WHERE entity_type = 'evaluation'"
    )


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_organisation_code"))
        batch_op.drop_column("organisation_code")

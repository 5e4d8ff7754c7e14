"""audit events carry the organisation of what was written; plans choose how independent a certifier must be

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 16:40:00

Existing events stay without an organisation (execution's tables do not record plans' organisations), visible to
installation-wide auditors only — which every auditor was before grants named organisations. Existing plans get
no independence setting, i.e. the default rule: the author of the current value may not certify or reject it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_code", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_audit_event_organisation_code"), ["organisation_code"], unique=False)
    with op.batch_alter_table("plan_registration_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("certifier_independence", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_registration_settings", schema=None) as batch_op:
        batch_op.drop_column("certifier_independence")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_organisation_code"))
        batch_op.drop_column("organisation_code")

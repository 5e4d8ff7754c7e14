"""audit events carry the organisation of what was written

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 16:10:00

Existing events get the organisation of their plan (plan_version events) or their own code (organisation
events); what cannot be attributed stays NULL, visible to installation-wide auditors only — which every auditor
was before grants named organisations, so nobody loses sight of anything on upgrade.
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
    conn = op.get_bind()
    plans = dict(conn.execute(sa.text("SELECT id, organisation_code FROM plan")).all())
    events = conn.execute(sa.text("SELECT id, entity_type, entity_id FROM audit_event")).all()
    for event_id, entity_type, entity_id in events:
        if entity_type == "organisation":
            org = entity_id
        elif entity_type == "plan_version":
            org = plans.get(entity_id.rsplit("/v", 1)[0])
        else:
            continue
        if org is not None:
            conn.execute(
                sa.text("UPDATE audit_event SET organisation_code = :org WHERE id = :id"), {"org": org, "id": event_id}
            )


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_organisation_code"))
        batch_op.drop_column("organisation_code")

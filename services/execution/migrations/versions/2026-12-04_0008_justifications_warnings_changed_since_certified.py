"""registrations keep the justification of a deviation, the value's warnings and whether it changed since
certified; planners set items' expected value bounds

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 18:50:00

Existing rows: no justification, no warnings; a registration certified before this revision gets its last certify
version number back from its history, and a later submit marks it changed since certified.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("justification", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("warnings", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("certified_version", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("changed_since_certified", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("registration_version", schema=None) as batch_op:
        batch_op.add_column(sa.Column("justification", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("warnings", sa.JSON(), nullable=True))
    op.create_table(
        "item_value_bounds",
        sa.Column("plan_id", sa.String(length=100), nullable=False),
        sa.Column("item_code", sa.String(length=100), nullable=False),
        sa.Column("min_value", sa.String(length=40), nullable=True),
        sa.Column("max_value", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "item_code"),
    )
    op.execute(
        "UPDATE registration SET certified_version = (SELECT max(v.number) FROM registration_version v "
        "WHERE v.registration_id = registration.id AND v.action = 'certify')"
    )
    op.execute(
        "UPDATE registration SET changed_since_certified = EXISTS (SELECT 1 FROM registration_version v "
        "WHERE v.registration_id = registration.id AND v.action = 'submit' "
        "AND v.number > registration.certified_version)"
        " WHERE certified_version IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("item_value_bounds")
    with op.batch_alter_table("registration_version", schema=None) as batch_op:
        batch_op.drop_column("warnings")
        batch_op.drop_column("justification")
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_column("changed_since_certified")
        batch_op.drop_column("certified_version")
        batch_op.drop_column("warnings")
        batch_op.drop_column("justification")

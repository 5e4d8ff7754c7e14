"""unlock requests

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 16:05:15
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unlock_request",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.String(length=100), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("item_code", sa.String(length=100), nullable=True),
        sa.Column("unit_code", sa.String(length=100), nullable=False),
        sa.Column("scope_key", sa.String(length=110), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("open_mark", sa.String(length=10), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("lock_exception_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lock_exception_id"],
            ["lock_exception.id"],
            name=op.f("fk_unlock_request_lock_exception_id_lock_exception"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unlock_request")),
        sa.UniqueConstraint(
            "plan_id",
            "period",
            "scope_key",
            "open_mark",
            name=op.f("uq_unlock_request_plan_id_period_scope_key_open_mark"),
        ),
    )
    with op.batch_alter_table("unlock_request", schema=None) as batch_op:
        batch_op.create_index("ix_unlock_request_plan_status", ["plan_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unlock_request", schema=None) as batch_op:
        batch_op.drop_index("ix_unlock_request_plan_status")

    op.drop_table("unlock_request")

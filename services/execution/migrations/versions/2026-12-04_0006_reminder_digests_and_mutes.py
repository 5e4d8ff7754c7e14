"""reminder digests and mutes

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 16:28:47
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reminder_digest",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("digest_key", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("plan_id", sa.String(length=100), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_digest")),
        sa.UniqueConstraint("digest_key", name=op.f("uq_reminder_digest_digest_key")),
    )
    with op.batch_alter_table("reminder_digest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_digest_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reminder_digest_username"), ["username"], unique=False)

    op.create_table(
        "reminder_mute",
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("plan_id", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("username", "plan_id", name=op.f("pk_reminder_mute")),
    )


def downgrade() -> None:
    op.drop_table("reminder_mute")
    with op.batch_alter_table("reminder_digest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_digest_username"))
        batch_op.drop_index(batch_op.f("ix_reminder_digest_plan_id"))

    op.drop_table("reminder_digest")

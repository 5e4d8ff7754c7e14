"""final evaluations (kind, revision, reason, one current final per plan version) and the plan's organisation

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 16:00:00

Existing runs are provisional; their organisation is read from the plan document in their snapshot.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("evaluation_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_code", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("kind", sa.String(length=12), nullable=False, server_default="provisional"))
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("revises", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.String(length=2000), nullable=True))
        batch_op.create_index(batch_op.f("ix_evaluation_run_organisation_code"), ["organisation_code"], unique=False)
    op.create_table(
        "final_evaluation",
        sa.Column("plan_id", sa.String(length=100), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.String(length=36), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "plan_version", name=op.f("pk_final_evaluation")),
    )
    runs = sa.table(
        "evaluation_run", sa.column("id", sa.String), sa.column("inputs", sa.JSON), sa.column("organisation_code")
    )
    conn = op.get_bind()
    for run_id, inputs in conn.execute(sa.select(runs.c.id, runs.c.inputs)).all():
        document = json.loads(inputs) if isinstance(inputs, str) else inputs
        code = ((document or {}).get("plan") or {}).get("organisation", {}).get("code")
        if isinstance(code, str):
            conn.execute(sa.update(runs).where(runs.c.id == run_id).values(organisation_code=code[:64]))


def downgrade() -> None:
    op.drop_table("final_evaluation")
    with op.batch_alter_table("evaluation_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_run_organisation_code"))
        for column in ("reason", "revises", "revision", "kind", "organisation_code"):
            batch_op.drop_column(column)

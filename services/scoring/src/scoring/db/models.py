"""Every ORM model of the scoring service; Alembic imports this module to see the metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from metas_kit.db import utcnow
from scoring.db.base import AuditEvent, Base, IdempotencyRecord


class EvaluationRun(Base):
    """An evaluation and its immutable snapshot: the inputs it read, the rule versions, the results.

    Never updated: `evaluate(inputs)` on the stored inputs reproduces `results` exactly.
    """

    __tablename__ = "evaluation_run"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)  # creation order, for keyset pagination
    plan_id: Mapped[str] = mapped_column(String(100), index=True)
    plan_version: Mapped[int | None] = mapped_column(Integer)
    framework: Mapped[str] = mapped_column(String(40))
    period_to: Mapped[str | None] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    rules_version: Mapped[str] = mapped_column(String(40))
    engine_version: Mapped[str] = mapped_column(String(80))
    duration_seconds: Mapped[float] = mapped_column(Float)
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    results_sha256: Mapped[str] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    results: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The organisation of the plan: only its grants see the run.
    organisation_code: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(12), default="provisional", server_default="provisional")
    revision: Mapped[int | None] = mapped_column(Integer)  # finals: 1, then 2, 3… for each explicit revision
    revises: Mapped[str | None] = mapped_column(String(36))  # the final evaluation this one replaces
    reason: Mapped[str | None] = mapped_column(String(2000))  # why it replaces it


class FinalEvaluation(Base):
    """The published final evaluation of a plan version: one row per version, moved only by a revision."""

    __tablename__ = "final_evaluation"

    plan_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    plan_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    evaluation_id: Mapped[str] = mapped_column(String(36))
    revision: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@event.listens_for(EvaluationRun, "before_update")
def _immutable(*_: Any) -> None:
    raise RuntimeError("evaluation runs are immutable snapshots")


__all__ = ["AuditEvent", "Base", "EvaluationRun", "FinalEvaluation", "IdempotencyRecord"]

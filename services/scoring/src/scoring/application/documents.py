"""The official documents of a stored evaluation (QUAR table or Acordo report) as PDF, XLSX or CSV.

Built from the evaluation's snapshot only, never from the current plan or registrations: a second download
gives the same figures (and the same bytes).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from metas_kit.auth import Principal
from metas_kit.timestamps import as_utc, rfc3339
from scoring.application.evaluations import get
from scoring.db.models import EvaluationRun
from scoring.documents.render import to_csv, to_pdf, to_xlsx
from scoring.domain.report import Report, build_report

Format = Literal["pdf", "xlsx", "csv"]
MEDIA_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class Document:
    content: bytes
    media_type: str
    filename: str


# What the documents' header shows of the run (`scoring.domain.report`).
HEADER_FIELDS = (
    "id",
    "kind",
    "revision",
    "plan_version",
    "created_by",
    "period_to",
    "rules_version",
    "engine_version",
    "results_sha256",
)


def run_header(run: EvaluationRun) -> dict[str, Any]:
    return {**{name: getattr(run, name) for name in HEADER_FIELDS}, "created_at": rfc3339(run.created_at)}


def render_report(report: Report, fmt: Format, created: datetime) -> bytes:
    if fmt == "pdf":
        return to_pdf(report)
    if fmt == "xlsx":
        return to_xlsx(report, created)
    return to_csv(report)


async def report(session: AsyncSession, who: Principal, evaluation_id: str, fmt: Format) -> Document:
    run = await get(session, who, evaluation_id)
    built = build_report(run_header(run), run.inputs, run.results)
    content = await asyncio.to_thread(render_report, built, fmt, as_utc(run.created_at))
    kind = "quar" if run.framework == "quar" else "acordo"
    return Document(content, MEDIA_TYPES[fmt], f"{run.plan_id}-{kind}-{run.id[:8]}.{fmt}")

"""The registrar's inbox ("To register"): what the caller's units owe, most urgent first."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from execution.api.registrations import CodeQuery, PeriodQuery
from execution.api.schemas import PLAN_ID_MAX_LENGTH, PLAN_ID_PATTERN, JustificationBandOut, ValueWarning
from execution.application import obligations as obligations_app
from metas_kit.auth import Reader
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES
from metas_kit.pagination import PageDep
from metas_kit.timestamps import UtcDateTime

router = APIRouter(prefix="/v1/obligations", tags=["obligations"])

StatusFilter = Literal["pending", "on_time", "late", "missing", "rejected"]


class RegisteredSoFar(BaseModel):
    version: int
    payload: dict[str, Any]
    certification: str
    rejection_reason: str | None
    justification: str | None
    warnings: list[ValueWarning]
    changed_since_certified: bool = Field(description="A value was submitted after the last certification.")
    certified_version: int | None = Field(description="The number of the last certify version (null: never).")
    updated_at: UtcDateTime
    updated_by: str
    etag: str = Field(description="The registration's strong ETag, for If-Match on the next PUT.")


class ObligationOut(BaseModel):
    item_code: str
    item_kind: str
    unit_code: str
    period: str
    due_date: str
    deadline: UtcDateTime
    business_days_left: int | None = Field(
        description="Business days after today up to the due date (0 on the due date); null once the deadline passed."
    )
    status: str = Field(description="pending, on_time, late or missing (deadline status).")
    needs_action: bool = Field(description="Nothing registered yet, or the registration was rejected.")
    writable: bool = Field(
        description=(
            "A value may be registered now (window open, or locked/expired under a lock exception); a new value "
            "of a certified registration sends it back for certification."
        )
    )
    justification_band: JustificationBandOut | None = Field(
        description="A value outside it needs a justification (docs/domain.md §2.5); null: never."
    )
    registration: RegisteredSoFar | None


class ObligationPage(BaseModel):
    plan_id: str
    organisation_code: str | None
    as_of: UtcDateTime
    items: list[ObligationOut]
    next_cursor: str | None


@router.get(
    "",
    summary="What the caller's units owe in a plan (the registrar's inbox), most urgent first",
    response_model=ObligationPage,
    responses=PROBLEM_RESPONSES,
)
async def list_obligations(
    request: Request,
    session: SessionDep,
    who: Reader,
    page: PageDep,
    plan_id: Annotated[str, Query(max_length=PLAN_ID_MAX_LENGTH, pattern=PLAN_ID_PATTERN)],
    unit_code: CodeQuery = None,
    period: PeriodQuery = None,
    status: Annotated[list[StatusFilter], Query(max_length=5)] = [],  # noqa: B006 - FastAPI copies query defaults
) -> ObligationPage:
    plan, now, rows, nxt = await obligations_app.obligations(
        request.app, session, who, plan_id, page, unit_code=unit_code, period=period, statuses=frozenset(status)
    )
    return ObligationPage(
        plan_id=plan_id,
        organisation_code=plan.organisation_code,
        as_of=now,
        items=[
            ObligationOut(
                item_code=o.item.code,
                item_kind=o.item.kind.value,
                unit_code=o.item.unit_code,
                period=str(o.period),
                due_date=o.dates.due_date.isoformat(),
                deadline=o.dates.deadline,
                business_days_left=o.business_days_left,
                status=o.status.value,
                needs_action=o.needs_action,
                writable=o.writable,
                justification_band=JustificationBandOut(**band.as_json())
                if (band := o.item.justification_band)
                else None,
                registration=RegisteredSoFar(
                    version=o.registration.version,
                    payload=o.registration.payload,
                    certification=o.registration.certification,
                    rejection_reason=o.registration.rejection_reason,
                    justification=o.registration.justification,
                    warnings=[ValueWarning.model_validate(w) for w in o.registration.warnings or []],
                    changed_since_certified=bool(o.registration.changed_since_certified),
                    certified_version=o.registration.certified_version,
                    updated_at=o.registration.updated_at,
                    updated_by=o.registration.updated_by,
                    etag=o.etag or "",
                )
                if o.registration
                else None,
            )
            for o in rows
        ],
        next_cursor=nxt,
    )

"""The registration template: download an XLSX of what a unit owes for a period, upload it filled in for a dry run
(every bad cell named) or an all-or-nothing import."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from execution.api.registrations import PlanId
from execution.api.schemas import CODE_PATTERN, PERIOD_PATTERN
from execution.application import registration_template as template_app
from execution.application.template_workbook import MAX_UPLOAD_BYTES, XLSX_TYPE, NotAnXlsx
from metas_kit.auth import Registrar
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES, PayloadTooLarge
from metas_kit.writes import Write

# A file that is not an XLSX workbook (or one that cannot be read) is a 415 problem.
_UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    415: {**PROBLEM_RESPONSES[422], "description": "Not an XLSX workbook"},
}

router = APIRouter(prefix="/v1/plans/{plan_id}/registration-template", tags=["registration template"])

UnitQuery = Annotated[str, Query(min_length=1, max_length=100, pattern=CODE_PATTERN, examples=["DS"])]
PeriodQuery = Annotated[str, Query(pattern=PERIOD_PATTERN, examples=["2014-02"])]
ReasonQuery = Annotated[str | None, Query(max_length=2000, description="Why (kept in every version's history).")]

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            },
        },
    }
}


class TemplateProblem(BaseModel):
    sheet: str = Field(description="The sheet's title as in the file.")
    cell: str = Field(description="A1 reference of the bad cell, e.g. H7.", examples=["H7"])
    row: int
    column: str = Field(description="Column letter.")
    path: str = Field(description="Sheet!Cell.", examples=["Indicators!H7"])
    type: str = Field(description="Why, as a stable code (number_grammar, unknown_item, not_owed, ...).")
    item_code: str | None
    period: str | None
    message: str = Field(description="Why, in the caller's language (Accept-Language).")


class TemplateCheck(BaseModel):
    plan_id: str
    unit_code: str
    period: str
    filled_rows: int = Field(description="Rows with at least one input cell filled in.")
    ok: bool = Field(description="At least one row is filled in and no cell is bad: the import would write them.")
    problems: list[TemplateProblem]


class TemplateImported(TemplateCheck):
    created: int
    updated: int


async def _upload(request: Request) -> bytes:
    """The file: the request body itself, or the ``file`` part of a multipart form; at most MAX_UPLOAD_BYTES."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + 64 * 1024:
        raise PayloadTooLarge(f"A registration template is at most {MAX_UPLOAD_BYTES} bytes.")
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=4)
        part = form.get("file")
        if not isinstance(part, UploadFile):
            raise NotAnXlsx("Send the workbook in the form's 'file' field.")
        data = await part.read(MAX_UPLOAD_BYTES + 1)
    else:
        received = bytearray()
        async for chunk in request.stream():
            received += chunk
            if len(received) > MAX_UPLOAD_BYTES:
                break
        data = bytes(received)
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"A registration template is at most {MAX_UPLOAD_BYTES} bytes.")
    return data


def _language(request: Request) -> str:
    return template_app.negotiate(request.headers.get("accept-language"))


@router.get(
    "",
    summary="The registration template of a unit for a period (XLSX, in the caller's language)",
    response_class=Response,
    responses={**PROBLEM_RESPONSES, 200: {"content": {XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def download(
    plan_id: PlanId, unit_code: UnitQuery, period: PeriodQuery, request: Request, session: SessionDep, who: Registrar
) -> Response:
    found = await template_app.template(
        request.app, session, who, plan_id, unit_code=unit_code, period_text=period, language=_language(request)
    )
    return Response(
        found.content,
        media_type=XLSX_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "Content-Language": _language(request),
            "Cache-Control": "no-store",
        },
    )


@router.post(
    ":dry-run",
    summary="Check a filled-in template: every bad cell by sheet and cell, nothing written",
    response_model=TemplateCheck,
    responses=_UPLOAD_RESPONSES,
    openapi_extra=_UPLOAD_BODY,
)
async def dry_run(plan_id: PlanId, request: Request, session: SessionDep, who: Registrar) -> Any:
    data = await _upload(request)
    return await template_app.dry_run(request.app, session, who, plan_id, data, _language(request))


@router.post(
    ":import",
    summary="Import a filled-in template: every row in one transaction, or a 422 naming every bad cell",
    response_model=TemplateImported,
    responses=_UPLOAD_RESPONSES,
    openapi_extra=_UPLOAD_BODY,
)
async def import_template(
    plan_id: PlanId, request: Request, write: Write, _who: Registrar, reason: ReasonQuery = None
) -> Any:
    data = await _upload(request)
    language = _language(request)
    # The file's bytes identify the request for Idempotency-Key (the same key with another file is a 422).
    identity = {"sha256": template_app.digest(data), "reason": reason}
    return await write(
        lambda ctx: template_app.import_template(ctx, request.app, plan_id, data, language, reason=reason),
        payload=identity,
    )

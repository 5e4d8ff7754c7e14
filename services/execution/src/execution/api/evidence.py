"""Evidence files of a registration, and the items of a plan that require evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from execution.api.registrations import ItemCode, PeriodPath, PlanId
from execution.api.schemas import CODE_PATTERN
from execution.application.evidence import (
    BodyReader,
    add_evidence,
    current_requirement_etag,
    delete_evidence,
    delete_requirement,
    evidence_content,
    evidence_file,
    list_evidence,
    list_requirements,
    put_requirement,
    requirement_etag,
)
from execution.domain.evidence import ALLOWED_TYPES, MAX_NAME_CHARACTERS, content_disposition
from metas_kit.auth import Planner, Reader, Registrar
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES, PayloadTooLarge
from metas_kit.writes import Write

EvidenceId = Annotated[int, Path(ge=1, le=2**63 - 1)]  # a BIGINT key
# Long enough for any name a person types and a little abuse; the stored name is checked by the domain.
FileName = Annotated[str, Query(min_length=1, max_length=4 * MAX_NAME_CHARACTERS, description="The file's name.")]

router = APIRouter(tags=["evidence"])
EVIDENCE = "/v1/plans/{plan_id}/registrations/{item_code}/{period}/evidence"


class EvidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    content_type: str
    size: int = Field(description="Bytes.")
    sha256: str = Field(description="Hex SHA-256 of the content.")
    version_number: int = Field(description="The registration's version the file was added to.")
    created_at: datetime
    created_by: str


class EvidenceRequirementBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field(
        min_length=1, max_length=2000, description='What must be shown: the item\'s "fonte de comprovação".'
    )


class EvidenceRequirementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    item_code: str
    source: str
    updated_at: datetime
    updated_by: str
    etag: str = Field(description="the requirement's ETag: send it in If-Match to change or remove it")


_BINARY = {"schema": {"type": "string", "format": "binary"}}


def _body_reader(request: Request) -> BodyReader:
    async def read(limit: int) -> bytes:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise PayloadTooLarge(f"Evidence files are at most {limit} bytes; this one has {declared}.")
        received = bytearray()
        async for chunk in request.stream():
            received += chunk
            if len(received) > limit:
                raise PayloadTooLarge(f"Evidence files are at most {limit} bytes.")
        return bytes(received)

    return read


@router.post(
    EVIDENCE,
    summary="Add an evidence file to the registration's current version (the body is the file)",
    description="Send the file as the request body with its `Content-Type` and its name in `name`. The type is "
    "checked against the content; accepted: " + ", ".join(sorted(ALLOWED_TYPES)) + ".",
    response_model=EvidenceOut,
    status_code=201,
    responses={**PROBLEM_RESPONSES, 415: {**PROBLEM_RESPONSES[422], "description": "Type not accepted as evidence"}},
    openapi_extra={"requestBody": {"required": True, "content": dict.fromkeys(sorted(ALLOWED_TYPES), _BINARY)}},
)
async def upload(
    plan_id: PlanId,
    item_code: ItemCode,
    period: PeriodPath,
    name: FileName,
    request: Request,
    write: Write,
    _who: Registrar,
) -> Any:
    declared = request.headers.get("content-type")
    # What identifies the upload for Idempotency-Key: the body is read (within the limit) only past the checks.
    payload = {"name": name, "content_type": declared, "content_length": request.headers.get("content-length")}
    return await write(
        lambda ctx: add_evidence(
            ctx, plan_id, item_code, period, name=name, declared_type=declared, read_body=_body_reader(request)
        ),
        payload=payload,
        status_code=201,
    )


@router.get(
    EVIDENCE, summary="Evidence files of a registration", response_model=list[EvidenceOut], responses=PROBLEM_RESPONSES
)
async def list_files(
    plan_id: PlanId, item_code: ItemCode, period: PeriodPath, request: Request, session: SessionDep, who: Reader
) -> list[EvidenceOut]:
    rows = await list_evidence(request.app, session, who, plan_id, item_code, period)
    return [EvidenceOut.model_validate(r) for r in rows]


@router.get(
    EVIDENCE + "/{evidence_id}",
    summary="One evidence file's record",
    response_model=EvidenceOut,
    responses=PROBLEM_RESPONSES,
)
async def describe(
    plan_id: PlanId,
    item_code: ItemCode,
    period: PeriodPath,
    evidence_id: EvidenceId,
    request: Request,
    session: SessionDep,
    who: Reader,
) -> EvidenceOut:
    row = await evidence_file(request.app, session, who, plan_id, item_code, period, evidence_id)
    return EvidenceOut.model_validate(row)


@router.get(
    EVIDENCE + "/{evidence_id}/content",
    summary="Download an evidence file",
    response_class=Response,
    responses={**PROBLEM_RESPONSES, 200: {"content": dict.fromkeys(sorted(ALLOWED_TYPES), _BINARY)}},
)
async def download(
    plan_id: PlanId,
    item_code: ItemCode,
    period: PeriodPath,
    evidence_id: EvidenceId,
    request: Request,
    session: SessionDep,
    who: Reader,
) -> Response:
    row, content = await evidence_content(request.app, session, who, plan_id, item_code, period, evidence_id)
    headers = {
        "Content-Disposition": content_disposition(row.name),
        "ETag": f'"{row.sha256}"',
        # Served as a download, never rendered by the browser as if it came from this origin.
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "private, no-cache",
    }
    return Response(content, media_type=row.content_type, headers=headers)


@router.delete(
    EVIDENCE + "/{evidence_id}",
    summary="Remove an evidence file no certification has covered yet",
    status_code=204,
    responses=PROBLEM_RESPONSES,
)
async def remove(
    plan_id: PlanId,
    item_code: ItemCode,
    period: PeriodPath,
    evidence_id: EvidenceId,
    write: Write,
    _who: Registrar,
) -> None:
    await write(
        lambda ctx: delete_evidence(ctx, plan_id, item_code, period, evidence_id), payload=None, status_code=204
    )


REQUIREMENTS = "/v1/plans/{plan_id}/evidence-requirements"
RequirementItem = Annotated[str, Path(max_length=100, pattern=CODE_PATTERN)]


@router.get(
    REQUIREMENTS,
    summary="Items of the plan that cannot be certified without evidence",
    response_model=list[EvidenceRequirementOut],
    responses=PROBLEM_RESPONSES,
)
async def requirements(
    plan_id: PlanId, request: Request, session: SessionDep, who: Reader
) -> list[EvidenceRequirementOut]:
    rows = await list_requirements(request.app, session, who, plan_id)
    return [_requirement_out(r) for r in rows]


def _requirement_out(row: Any) -> EvidenceRequirementOut:
    fields = {k: getattr(row, k) for k in ("item_code", "source", "updated_at", "updated_by")}
    return EvidenceRequirementOut.model_validate({**fields, "etag": requirement_etag(row)})


@router.put(
    REQUIREMENTS + "/{item_code}",
    summary='Require evidence for an item (its "fonte de comprovação")',
    response_model=EvidenceRequirementOut,
    responses=PROBLEM_RESPONSES,
)
async def require(
    plan_id: PlanId,
    item_code: RequirementItem,
    body: EvidenceRequirementBody,
    write: Write,
    _who: Planner,
) -> Any:
    async def apply(ctx: Any) -> EvidenceRequirementOut:
        return _requirement_out(await put_requirement(ctx, plan_id, item_code, source=body.source))

    async def etag_now() -> str | None:
        return await current_requirement_etag(write.session, plan_id, item_code)

    return await write(apply, payload=body, current_etag=etag_now, etag=lambda out: out.etag)


@router.delete(
    REQUIREMENTS + "/{item_code}",
    summary="No longer require evidence for an item",
    status_code=204,
    responses=PROBLEM_RESPONSES,
)
async def unrequire(plan_id: PlanId, item_code: RequirementItem, write: Write, _who: Planner) -> None:
    async def etag_now() -> str | None:
        return await current_requirement_etag(write.session, plan_id, item_code)

    await write(
        lambda ctx: delete_requirement(ctx, plan_id, item_code), payload=None, status_code=204, current_etag=etag_now
    )

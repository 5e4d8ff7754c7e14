"""Plans, versions, whole-document import/export and the cached plan tree."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Protocol

import yaml
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from metas_kit.auth import Planner, Reader, authorize
from metas_kit.db import SessionDep, request_connection
from metas_kit.errors import PROBLEM_RESPONSES, AppError
from metas_kit.etag import not_modified
from metas_kit.grants import READ_ROLES
from metas_kit.numbers import load_yaml
from metas_kit.pagination import PageDep
from metas_kit.writes import Write, WriteContext
from planning.api.params import OrganisationCode, PlanId, VersionNumber, VersionQuery
from planning.api.schemas import (
    ImportOut,
    OrganisationOut,
    OrganisationPage,
    PlanOut,
    PlanPage,
    VersionOut,
    VersionPage,
)
from planning.application import reads, versions
from planning.domain.document import PlanDocument

router = APIRouter(prefix="/v1", tags=["plans"])
READERS = frozenset(READ_ROLES)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
DOCUMENT_BODY = {
    "requestBody": {
        "required": True,
        "description": "A plan document (docs/api/planning.md) as JSON, or YAML with Content-Type application/yaml.",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/yaml": {"schema": {"type": "string"}},
        },
    }
}


class BadDocument(AppError):
    status, type_slug, title = 400, "bad-document", "Unreadable document"


async def read_document(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise BadDocument(f"The document is larger than {MAX_DOCUMENT_BYTES} bytes.")
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    try:
        if content_type in YAML_TYPES:
            # unquoted decimals (meta: 2.30) stay the text written, for the number grammar to check
            return load_yaml(raw.decode("utf-8"))
        return json.loads(raw)
    except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadDocument(f"The body is not valid {'YAML' if content_type in YAML_TYPES else 'JSON'}.") from exc


class Versioned(Protocol):
    """What the version headers are made of (a stored version, or its response model)."""

    @property
    def etag(self) -> str: ...
    @property
    def number(self) -> int: ...
    @property
    def status(self) -> str: ...


def version_headers(version: Versioned) -> dict[str, str]:
    return {
        "ETag": version.etag,
        "X-Plan-Version": str(version.number),
        "X-Plan-Version-Status": version.status,
    }


def with_version_headers(response: Response, version: Versioned) -> None:
    response.headers.update(version_headers(version))


# The hottest reads first: a request is matched against the routes in order (a few µs each).
@router.get("/plans/{plan_id}", responses=PROBLEM_RESPONSES)
async def get_plan(plan_id: PlanId, request: Request) -> PlanOut:
    # A hot read: the Reader gate and a Core connection without dependency injection (metas_kit.db).
    who = await authorize(request, READERS)
    async with request_connection(request) as db:
        return PlanOut.model_validate(await reads.get_plan(db, who, plan_id))


@router.get(
    "/plans/{plan_id}/tree",
    responses={
        **PROBLEM_RESPONSES,
        200: {"model": PlanDocument, "description": "The plan document (docs/api/planning.md)"},
        304: {"description": "Not modified (If-None-Match)"},
    },
    summary="The plan document of the approved version (else the latest draft), with a strong ETag",
)
async def get_tree(plan_id: PlanId, request: Request, version: VersionQuery = None) -> Response:
    # A hot read (every caller revalidates it): the Reader gate and a Core connection without dependency injection.
    who = await authorize(request, READERS)
    # A revalidation reads the head only; a read without If-None-Match gets the document in the same query.
    conditional = "if-none-match" in request.headers
    async with request_connection(request) as db:
        found = await reads.served_tree(db, who, plan_id, version, document=not conditional)
        if not_modified(request, found.head.etag):
            return Response(status_code=304, headers=version_headers(found.head))
        if found.document is None:  # a stale If-None-Match: now the document
            found = await reads.served_tree(db, who, plan_id, version, document=True)
    document, headers = found.document, version_headers(found.head)
    # The stored document was validated as a PlanDocument when written and is served as stored: validating the
    # whole tree again per read would cost ~17 ms for the QUAR tree against ~3 ms to serialise it (measured on the
    # 141 KB seed); tests/planning/test_api.py checks every served tree against the schema instead.
    return JSONResponse(document, headers=headers)


# --- organisations -----------------------------------------------------------------------------


@router.get("/organisations", responses=PROBLEM_RESPONSES, tags=["organisations"])
async def list_organisations(session: SessionDep, who: Reader, page: PageDep) -> OrganisationPage:
    result = await reads.list_organisations(session, who, page)
    return OrganisationPage(
        items=[OrganisationOut.model_validate(r) for r in result.items], next_cursor=result.next_cursor
    )


@router.get("/organisations/{code}", responses=PROBLEM_RESPONSES, tags=["organisations"])
async def get_organisation(code: OrganisationCode, session: SessionDep, who: Reader) -> OrganisationOut:
    return OrganisationOut.model_validate(await reads.get_organisation(session, who, code))


# --- plans -------------------------------------------------------------------------------------


@router.get("/plans", responses=PROBLEM_RESPONSES)
async def list_plans(
    session: SessionDep,
    who: Reader,
    page: PageDep,
    framework: Annotated[Literal["quar", "acordo_resultados"] | None, Query()] = None,
    cycle_year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
    organisation: Annotated[str | None, Query(max_length=64)] = None,
) -> PlanPage:
    result = await reads.list_plans(
        session,
        who,
        page,
        framework=framework,
        cycle_year=cycle_year,
        organisation=organisation,
    )
    return PlanPage(items=[PlanOut.model_validate(r) for r in result.items], next_cursor=result.next_cursor)


@router.post(
    "/plans:import",
    status_code=200,
    response_model=ImportOut,
    responses={**PROBLEM_RESPONSES, 201: {"model": ImportOut, "description": "A plan or a version was created"}},
    openapi_extra=DOCUMENT_BODY,
    summary="Import a whole plan document (idempotent; dry_run validates and summarises only)",
)
async def import_plan(request: Request, write: Write, who: Planner, dry_run: Annotated[bool, Query()] = False) -> Any:
    data = await read_document(request)

    async def apply(ctx: WriteContext) -> ImportOut:
        result = await versions.import_document(ctx, data, dry_run=dry_run)
        ctx.headers["X-Plan-Version"] = str(result.version)
        return ImportOut(**result.as_dict())

    return await write(
        apply,
        payload={"document": data, "dry_run": dry_run},
        current_etag=lambda: reads.import_etag(write.session, who, data),
        status_code=lambda out: 201 if out.action in ("create", "new_version") else 200,
        etag=lambda out: out.etag,
    )


@router.get(
    "/plans/{plan_id}/export",
    responses={
        **PROBLEM_RESPONSES,
        200: {
            "model": PlanDocument,
            "description": "The plan document as a file: JSON, or YAML with format=yaml (the same document)",
            "content": {"application/yaml": {"schema": {"$ref": "#/components/schemas/PlanDocument"}}},
        },
    },
    summary="Download a version's plan document (JSON or YAML)",
)
async def export_plan(
    plan_id: PlanId,
    session: SessionDep,
    who: Reader,
    format: Annotated[Literal["json", "yaml"], Query()] = "json",
    version: VersionQuery = None,
) -> Response:
    row = await reads.read_version(session, who, plan_id, version)
    headers = version_headers(row)
    headers["Content-Disposition"] = f'attachment; filename="{plan_id}-v{row.number}.{format}"'
    if format == "yaml":
        text = yaml.safe_dump(row.document, allow_unicode=True, sort_keys=False, width=110)
        return Response(text, media_type="application/yaml", headers=headers)
    return JSONResponse(row.document, headers=headers)  # served as stored, like the tree


# --- versions ----------------------------------------------------------------------------------


@router.get("/plans/{plan_id}/versions", responses=PROBLEM_RESPONSES)
async def list_versions(plan_id: PlanId, session: SessionDep, who: Reader) -> VersionPage:
    rows = await reads.list_versions(session, who, plan_id)
    return VersionPage(items=[VersionOut.model_validate(r) for r in rows], next_cursor=None)


@router.get("/plans/{plan_id}/versions/{number}", responses=PROBLEM_RESPONSES)
async def get_version(
    plan_id: PlanId, number: VersionNumber, response: Response, session: SessionDep, who: Reader
) -> VersionOut:
    row = await reads.get_version(session, who, plan_id, number)
    with_version_headers(response, row)
    return VersionOut.model_validate(row)


def version_out(ctx: WriteContext, row: Versioned) -> VersionOut:
    ctx.headers.update({"X-Plan-Version": str(row.number), "X-Plan-Version-Status": row.status})
    return VersionOut.model_validate(row)


@router.put(
    "/plans/{plan_id}/versions/{number}/document",
    response_model=VersionOut,
    responses=PROBLEM_RESPONSES,
    openapi_extra=DOCUMENT_BODY,
    summary="Replace a draft version's whole document (If-Match required)",
)
async def put_document(plan_id: PlanId, number: VersionNumber, request: Request, write: Write, who: Planner) -> Any:
    data = await read_document(request)

    async def apply(ctx: WriteContext) -> VersionOut:
        return version_out(ctx, await versions.replace_document(ctx, plan_id, number, data))

    return await write(
        apply,
        payload=data,
        current_etag=lambda: reads.draft_etag(write.session, who, plan_id, number),
        if_match="required",
        etag=lambda out: out.etag,
    )


@router.post("/plans/{plan_id}/versions/{number}:approve", response_model=VersionOut, responses=PROBLEM_RESPONSES)
async def approve_version(plan_id: PlanId, number: VersionNumber, write: Write, who: Planner) -> Any:
    async def apply(ctx: WriteContext) -> VersionOut:
        return version_out(ctx, await versions.approve(ctx, plan_id, number))

    return await write(
        apply,
        payload={"plan_id": plan_id, "number": number},
        current_etag=lambda: reads.version_etag_of(write.session, who, plan_id, number),
        if_match="required",
        etag=lambda out: out.etag,
    )


@router.post(
    "/plans/{plan_id}/versions/{number}:revise",
    status_code=201,
    response_model=VersionOut,
    responses=PROBLEM_RESPONSES,
)
async def revise_version(plan_id: PlanId, number: VersionNumber, write: Write, who: Planner) -> Any:
    async def apply(ctx: WriteContext) -> VersionOut:
        return version_out(ctx, await versions.revise(ctx, plan_id, number))

    return await write(
        apply,
        payload={"plan_id": plan_id, "number": number},
        current_etag=lambda: reads.version_etag_of(write.session, who, plan_id, number),
        status_code=201,
        etag=lambda out: out.etag,
    )

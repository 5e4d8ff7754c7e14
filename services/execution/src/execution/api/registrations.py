"""Registrations: read, write (versions), certify/reject, history, bulk import, scoring snapshot."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from execution.api.schemas import (
    CODE_PATTERN,
    PERIOD_PATTERN,
    PLAN_ID_MAX_LENGTH,
    PLAN_ID_PATTERN,
    CheckOut,
    CurrentSnapshot,
    ImportBody,
    ImportResult,
    RegistrationOut,
    RegistrationPage,
    RegistrationWrite,
    RejectBody,
    VersionList,
    VersionOut,
)
from execution.application import registrations as registrations_app
from execution.application.registrations import ImportRow, Written
from execution.domain.certification import CertificationAction, CertificationState
from metas_kit.auth import Certifier, Principal, Reader, Registrar, require_roles
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES
from metas_kit.etag import not_modified
from metas_kit.pagination import PageDep
from metas_kit.writes import WRITE_HEADERS_OPENAPI, Write, direct_write

# Single writes are the registrars' (for the units of their grants; admin anywhere). Systems with the `service`
# role feed registrations through :import, which registrars may use for their own units too.
Importer = Annotated[Principal, Depends(require_roles("registrar", "service"))]

PlanId = Annotated[str, Path(max_length=PLAN_ID_MAX_LENGTH, pattern=PLAN_ID_PATTERN, examples=["ii-2024-quar"])]
ItemCode = Annotated[str, Path(max_length=100, pattern=CODE_PATTERN)]
PeriodPath = Annotated[str, Path(pattern=PERIOD_PATTERN, examples=["2014-03"])]
PeriodQuery = Annotated[str | None, Query(pattern=PERIOD_PATTERN)]
CodeQuery = Annotated[str | None, Query(max_length=100)]

router = APIRouter(prefix="/v1/plans/{plan_id}/registrations", tags=["registrations"])


def _out(written: Written) -> RegistrationOut:
    return RegistrationOut(**written.body)


# First among the routes: the hottest one is matched before the others are tried (a few µs each).
@router.put(
    "/{item_code}/{period}",
    summary="Register a value (creates, or appends a new version with If-Match)",
    response_model=RegistrationOut,
    responses={**PROBLEM_RESPONSES, 201: {"model": RegistrationOut}},
    openapi_extra=WRITE_HEADERS_OPENAPI,
)
async def put_registration(
    plan_id: PlanId,
    item_code: ItemCode,
    period: PeriodPath,
    body: RegistrationWrite,
    request: Request,
    response: Response,
    _who: Registrar,  # a dependency, so a caller without the role is refused before the body is validated
) -> Any:
    # The hottest write: the write envelope called directly, not solved as a dependency (metas_kit.writes.
    # direct_write; the same principal, session, commit before the answer and headers).
    async with direct_write(request, response) as write:
        # Read before the envelope: an update needs If-Match (428 without), a create answers 201.
        now = await registrations_app.submit_etag(
            request.app, write.session, write.principal, plan_id, item_code, period
        )

        async def apply(ctx: Any) -> RegistrationOut:
            return _out(
                await registrations_app.submit(
                    ctx,
                    request.app,
                    plan_id,
                    item_code,
                    period,
                    body.payload,
                    reason=body.reason,
                    expected_etag=now,
                    justification=body.justification,
                )
            )

        async def etag_now() -> str | None:
            return now

        # If-None-Match: * (create only) needs no If-Match: an existing registration then answers 412.
        update = now is not None and "if-none-match" not in request.headers
        return await write(
            apply,
            payload=body,
            current_etag=etag_now,
            if_match="required" if update else "optional",
            status_code=200 if now is not None else 201,
            etag=lambda out: out.etag,
        )


@router.get(
    "/current",
    summary="Current value of every owed (item, period) up to a period (for scoring)",
    response_model=CurrentSnapshot,
    responses=PROBLEM_RESPONSES,
)
async def current_snapshot(
    plan_id: PlanId,
    request: Request,
    session: SessionDep,
    who: Reader,
    period_to: PeriodQuery = None,
    unit_code: CodeQuery = None,
    item_code: CodeQuery = None,
) -> CurrentSnapshot:
    body = await registrations_app.current_snapshot(
        request.app, session, who, plan_id, period_to=period_to, unit_code=unit_code, item_code=item_code
    )
    return CurrentSnapshot.model_validate(body)


@router.post(
    ":import",
    summary="Bulk import of registrations (one transaction, all or nothing)",
    response_model=ImportResult,
    status_code=200,
    responses=PROBLEM_RESPONSES,
)
async def import_registrations(
    plan_id: PlanId, body: ImportBody, request: Request, write: Write, _who: Importer
) -> Any:
    rows = [
        ImportRow(r.item_code, r.period, r.payload, r.registered_at, r.reason, r.justification)
        for r in body.registrations
    ]

    async def apply(ctx: Any) -> ImportResult:
        created, updated = await registrations_app.import_registrations(
            ctx, request.app, plan_id, rows, reason=body.reason
        )
        return ImportResult(plan_id=plan_id, created=created, updated=updated)

    return await write(apply, payload=body)


@router.get(
    "",
    summary="Current registrations of a plan (paginated)",
    response_model=RegistrationPage,
    responses=PROBLEM_RESPONSES,
)
async def list_registrations(
    plan_id: PlanId,
    request: Request,
    session: SessionDep,
    who: Reader,
    page: PageDep,
    unit_code: CodeQuery = None,
    item_code: CodeQuery = None,
    period: PeriodQuery = None,
    period_from: PeriodQuery = None,
    period_to: PeriodQuery = None,
    certification: Annotated[CertificationState | None, Query()] = None,
) -> RegistrationPage:
    flt = registrations_app.RegistrationFilter(
        unit_code=unit_code,
        item_code=item_code,
        period=period,
        period_from=period_from,
        period_to=period_to,
        certification=certification.value if certification else None,
    )
    found = await registrations_app.list_registrations(request.app, session, who, plan_id, flt, page)
    return RegistrationPage(items=[RegistrationOut(**r) for r in found.items], next_cursor=found.next_cursor)


async def _decide(
    write: Write,
    request: Request,
    plan_id: str,
    item_code: str,
    period: str,
    action: CertificationAction,
    reason: str | None,
) -> Any:
    async def apply(ctx: Any) -> RegistrationOut:
        return _out(await registrations_app.decide(ctx, request.app, plan_id, item_code, period, action, reason=reason))

    async def etag_now() -> str | None:
        return await registrations_app.current_etag(
            request.app, write.session, write.principal, plan_id, item_code, period
        )

    # A decision is on the exact version the certifier read: If-Match is required, strong, and never '*'.
    return await write(
        apply,
        payload={"action": action.value, "reason": reason},
        current_etag=etag_now,
        if_match="required",
        etag=lambda out: out.etag,
    )


@router.post(
    "/{item_code}/{period}:certify",
    summary="Certify a submitted registration (If-Match: its strong ETag)",
    response_model=RegistrationOut,
    responses=PROBLEM_RESPONSES,
)
async def certify(
    plan_id: PlanId, item_code: ItemCode, period: PeriodPath, request: Request, write: Write, _who: Certifier
) -> Any:
    return await _decide(write, request, plan_id, item_code, period, CertificationAction.CERTIFY, None)


@router.post(
    "/{item_code}/{period}:reject",
    summary="Reject a registration with a reason (If-Match: its strong ETag; the registrar then resubmits)",
    response_model=RegistrationOut,
    responses=PROBLEM_RESPONSES,
)
async def reject(
    plan_id: PlanId,
    item_code: ItemCode,
    period: PeriodPath,
    body: RejectBody,
    request: Request,
    write: Write,
    _who: Certifier,
) -> Any:
    return await _decide(write, request, plan_id, item_code, period, CertificationAction.REJECT, body.reason)


@router.post(
    "/{item_code}/{period}:check",
    summary="Dry run of a new value: does it need a justification, which warnings would it get (writes nothing)",
    response_model=CheckOut,
    responses=PROBLEM_RESPONSES,
)
async def check(
    plan_id: PlanId,
    item_code: ItemCode,
    period: PeriodPath,
    body: RegistrationWrite,
    request: Request,
    session: SessionDep,
    who: Reader,
) -> CheckOut:
    found = await registrations_app.check(
        request.app, session, who, plan_id, item_code, period, body.payload, body.justification
    )
    return CheckOut.model_validate(found)


@router.get(
    "/{item_code}/{period}/versions",
    summary="Full history of a registration",
    response_model=VersionList,
    responses=PROBLEM_RESPONSES,
)
async def list_versions(
    plan_id: PlanId, item_code: ItemCode, period: PeriodPath, request: Request, session: SessionDep, who: Reader
) -> VersionList:
    found = await registrations_app.history(request.app, session, who, plan_id, item_code, period)
    return VersionList(
        plan_id=plan_id,
        item_code=item_code,
        period=period,
        current_version=found.current_version,
        versions=[VersionOut.model_validate(v) for v in found.versions],
    )


@router.get(
    "/{item_code}/{period}",
    summary="One registration (current version) with its ETag",
    response_model=RegistrationOut,
    responses={**PROBLEM_RESPONSES, 304: {"description": "Not modified (If-None-Match)"}},
)
async def get_one(
    plan_id: PlanId,
    item_code: ItemCode,
    period: PeriodPath,
    request: Request,
    response: Response,
    session: SessionDep,
    who: Reader,
) -> Any:
    found = await registrations_app.read_registration(request.app, session, who, plan_id, item_code, period)
    if not_modified(request, found.etag):
        return Response(status_code=304, headers={"ETag": found.etag})
    response.headers["ETag"] = found.etag
    return RegistrationOut(**found.body)

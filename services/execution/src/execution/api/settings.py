"""Per-plan registration settings kept by execution (keys the plan document does not carry)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from execution.api.registrations import PlanId
from execution.api.schemas import RegistrationSettingsBody, RegistrationSettingsOut
from execution.application import settings as settings_app
from metas_kit.auth import Planner, Reader
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES
from metas_kit.etag import not_modified
from metas_kit.writes import Write

router = APIRouter(prefix="/v1/plans/{plan_id}/registration-settings", tags=["settings"])


@router.get(
    "",
    summary="Registration settings of a plan",
    response_model=RegistrationSettingsOut,
    responses={**PROBLEM_RESPONSES, 304: {"description": "Not modified (If-None-Match)"}},
)
async def get_settings(plan_id: PlanId, request: Request, response: Response, session: SessionDep, who: Reader) -> Any:
    body, etag = await settings_app.read_settings(request.app, session, who, plan_id)
    if not_modified(request, etag):
        return Response(status_code=304, headers={"ETag": etag})
    response.headers["ETag"] = etag
    return RegistrationSettingsOut(**body)


@router.put(
    "",
    summary="Set the registration settings of a plan (If-Match once they exist)",
    response_model=RegistrationSettingsOut,
    responses=PROBLEM_RESPONSES,
)
async def put_settings(
    plan_id: PlanId, body: RegistrationSettingsBody, request: Request, write: Write, _who: Planner
) -> Any:
    data = settings_app.SettingsInput(
        catch_up_through=body.catch_up_through,
        closing_month=body.closing_month,
        holiday_categories=body.holiday_categories,
        openings=body.openings,
        timezone=body.timezone,
        certifier_independence=body.certifier_independence,
    )

    async def apply(ctx: Any) -> RegistrationSettingsOut:
        out, etag = await settings_app.put_settings(ctx, request.app, plan_id, data)
        ctx.headers["ETag"] = etag
        return RegistrationSettingsOut(**out)

    etag, exists = await settings_app.current_etag(request.app, write.session, write.principal, plan_id)

    async def etag_now() -> str:
        return etag

    return await write(apply, payload=body, current_etag=etag_now, if_match="required" if exists else "optional")

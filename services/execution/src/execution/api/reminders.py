"""Reminder digests: a person mutes or unmutes a plan's digests; planners and auditors read the digest log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from execution.api.registrations import PlanId
from execution.application.reminders import digest_log, mute, my_mutes, unmute
from metas_kit.auth import Reader
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES
from metas_kit.pagination import PageDep
from metas_kit.writes import Write

router = APIRouter(tags=["reminders"])


class MuteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    plan_id: str
    created_at: datetime


class DigestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    plan_id: str
    due_date: date
    username: str
    email: str
    locale: str
    items: list[dict[str, Any]]
    status: str
    attempts: int
    claimed_at: datetime
    sent_at: datetime | None
    error: str | None


class DigestPage(BaseModel):
    items: list[DigestOut]
    next_cursor: str | None


@router.get(
    "/v1/reminder-mutes",
    summary="The plans whose digests the caller muted",
    response_model=list[MuteOut],
    responses=PROBLEM_RESPONSES,
)
async def list_mutes(session: SessionDep, who: Reader) -> list[MuteOut]:
    return [MuteOut.model_validate(m) for m in await my_mutes(session, who)]


@router.put(
    "/v1/plans/{plan_id}/reminder-mute",
    summary="Stop receiving this plan's digests (idempotent)",
    response_model=MuteOut,
    responses=PROBLEM_RESPONSES,
)
async def put_mute(plan_id: PlanId, write: Write, _who: Reader) -> Any:
    return await write(lambda ctx: mute(ctx, plan_id), payload={"plan_id": plan_id})


@router.delete(
    "/v1/plans/{plan_id}/reminder-mute",
    summary="Receive this plan's digests again",
    status_code=204,
    responses=PROBLEM_RESPONSES,
)
async def delete_mute(plan_id: PlanId, write: Write, _who: Reader) -> None:
    await write(lambda ctx: unmute(ctx, plan_id), payload={"plan_id": plan_id}, status_code=204)


@router.get(
    "/v1/plans/{plan_id}/reminder-digests",
    summary="Digests sent (or failed) for a plan: who, when, which items, kind and due date",
    response_model=DigestPage,
    responses=PROBLEM_RESPONSES,
)
async def list_digests(
    plan_id: PlanId, request: Request, session: SessionDep, who: Reader, page: PageDep
) -> DigestPage:
    found = await digest_log(request.app, session, who, plan_id, page=page)
    return DigestPage(items=[DigestOut.model_validate(r) for r in found.items], next_cursor=found.next_cursor)

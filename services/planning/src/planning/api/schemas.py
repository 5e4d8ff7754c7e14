"""Response schemas of the planning API (the plan document itself is planning.domain.document)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from metas_kit.timestamps import UtcDateTime


class OrganisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    acronym: str | None
    country: str


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    organisation_code: str
    framework: str
    cycle_year: int
    title: str
    current_version: int | None
    latest_version: int


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    plan_id: str
    number: int
    status: str
    etag: str
    content_hash: str
    based_on: int | None
    created_at: UtcDateTime
    created_by: str
    approved_at: UtcDateTime | None
    approved_by: str | None
    warnings: list[dict[str, Any]]


class ImportOut(BaseModel):
    plan_id: str
    version: int
    status: str
    action: str
    changed: bool
    created: bool
    dry_run: bool
    etag: str
    summary: dict[str, int]
    warnings: list[dict[str, str]]


class OrganisationPage(BaseModel):
    items: list[OrganisationOut]
    next_cursor: str | None


class PlanPage(BaseModel):
    items: list[PlanOut]
    next_cursor: str | None


class VersionPage(BaseModel):
    items: list[VersionOut]
    next_cursor: str | None


class ItemPage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None

"""Response schemas of the planning API (the plan document itself is planning.domain.document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from planning.db.models import Organisation, Plan, PlanVersion


class OrganisationOut(BaseModel):
    code: str
    name: str
    acronym: str | None
    country: str

    @classmethod
    def of(cls, row: Organisation) -> OrganisationOut:
        return cls(code=row.code, name=row.name, acronym=row.acronym, country=row.country)


class PlanOut(BaseModel):
    id: str
    organisation_code: str
    framework: str
    cycle_year: int
    title: str
    current_version: int | None
    latest_version: int

    @classmethod
    def of(cls, row: Plan) -> PlanOut:
        return cls(
            id=row.id,
            organisation_code=row.organisation_code,
            framework=row.framework,
            cycle_year=row.cycle_year,
            title=row.title,
            current_version=row.current_version,
            latest_version=row.latest_version,
        )


class VersionOut(BaseModel):
    plan_id: str
    number: int
    status: str
    etag: str
    content_hash: str
    based_on: int | None
    created_at: datetime
    created_by: str
    approved_at: datetime | None
    approved_by: str | None
    warnings: list[dict[str, Any]]

    @classmethod
    def of(cls, row: PlanVersion) -> VersionOut:
        return cls(
            plan_id=row.plan_id,
            number=row.number,
            status=row.status,
            etag=row.etag,
            content_hash=row.content_hash,
            based_on=row.based_on,
            created_at=row.created_at,
            created_by=row.created_by,
            approved_at=row.approved_at,
            approved_by=row.approved_by,
            warnings=row.warnings,
        )


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


class ItemPage(BaseModel):
    items: list[dict[str, Any]]
    next_cursor: str | None

"""Request and response bodies of the execution API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# Years 1900-9999: the range of the domain's Period, so a well-formed period always parses (else a 422 here).
PERIOD_PATTERN = r"^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])$"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
# Plan ids are planning's slugs (docs/api/planning.md): planning refuses any other id.
PLAN_ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
PLAN_ID_MAX_LENGTH = 64


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegistrationWrite(_Closed):
    payload: dict[str, Any] = Field(description="Kind-specific value; see docs/api/execution.md.")
    reason: str | None = Field(None, max_length=2000, description="Why this value (kept in the version).")


class RejectBody(_Closed):
    reason: str = Field(min_length=1, max_length=2000)


class CertifyBody(_Closed):
    note: str | None = Field(None, max_length=2000)


class RegistrationOut(BaseModel):
    plan_id: str
    item_code: str
    item_kind: str
    unit_code: str
    period: str
    version: int
    payload: dict[str, Any]
    certification: str
    rejection_reason: str | None
    certified_by: str | None
    certified_at: str | None
    first_registered_at: str | None
    updated_at: str | None
    updated_by: str
    due_date: str
    deadline: str | None
    status: str


class RegistrationPage(BaseModel):
    items: list[RegistrationOut]
    next_cursor: str | None


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    number: int
    action: str
    payload: dict[str, Any]
    certification: str
    reason: str | None
    created_at: datetime
    created_by: str
    request_id: str | None


class VersionList(BaseModel):
    plan_id: str
    item_code: str
    period: str
    current_version: int
    versions: list[VersionOut]


class CurrentItem(BaseModel):
    item_code: str
    item_kind: str
    unit_code: str
    period: str
    registered: bool
    version: int | None
    payload: dict[str, Any] | None
    certification: str | None
    certified: bool
    due_date: str
    status: str
    first_registered_at: str | None
    updated_at: str | None


class CurrentSnapshot(BaseModel):
    plan_id: str
    plan_version: int | None
    period_to: str
    as_of: str
    items: list[CurrentItem]


class ImportRow(_Closed):
    item_code: str = Field(max_length=100)
    period: str
    payload: dict[str, Any]
    registered_at: AwareDatetime | None = None
    reason: str | None = Field(None, max_length=2000)


class ImportBody(_Closed):
    reason: str | None = Field(None, max_length=2000)
    registrations: list[ImportRow] = Field(max_length=20000)


class ImportResult(BaseModel):
    plan_id: str
    created: int
    updated: int


class NonBusinessDay(BaseModel):
    date: date
    reason: str


class PeriodDeadline(BaseModel):
    period: str
    due_date: date
    deadline: str
    closing_date: date
    non_business_days: list[NonBusinessDay]


class DeadlineTable(BaseModel):
    plan_id: str
    calendar: dict[str, Any]
    rule: dict[str, Any]
    periods: list[PeriodDeadline]


class StatusRow(BaseModel):
    item_code: str
    item_kind: str
    unit_code: str
    period: str
    due_date: str
    status: str
    certification: str | None


class StatusPage(BaseModel):
    items: list[StatusRow]
    next_cursor: str | None


class TallyOut(BaseModel):
    period: str
    due: int
    on_time: int
    late: int
    missing: int
    pending: int
    index: str | None = Field(description="on time / due × 100, 2 places half up; null when nothing is due")


class UnitCompliance(BaseModel):
    unit_code: str
    months: list[TallyOut]
    year_to_date: TallyOut


class ComplianceReportOut(BaseModel):
    plan_id: str
    through: str
    as_of: str
    units: list[UnitCompliance]
    plan: UnitCompliance


class LockBody(_Closed):
    reason: str = Field(min_length=1, max_length=2000)


class LockOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    plan_id: str
    period: str
    reason: str
    locked_at: datetime
    locked_by: str


class LockExceptionBody(_Closed):
    item_code: str | None = Field(None, max_length=100)
    unit_code: str | None = Field(None, max_length=100)
    until: AwareDatetime
    reason: str = Field(min_length=1, max_length=2000)


class LockExceptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    plan_id: str
    period: str
    item_code: str | None
    unit_code: str | None
    until: datetime
    reason: str
    created_at: datetime
    created_by: str
    revoked_at: datetime | None


class ClosureBody(_Closed):
    name: str = Field(min_length=1, max_length=200)


class ClosureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    organisation_code: str
    day: date
    name: str
    created_at: datetime
    created_by: str


class RegistrationSettingsBody(_Closed):
    catch_up_through: str | None = Field(None, pattern=PERIOD_PATTERN)
    closing_month: int | None = Field(None, ge=1, le=12)
    holiday_categories: list[str] | None = Field(None, max_length=5)
    openings: list[date] = Field(default_factory=list, max_length=366)
    timezone: str | None = Field(None, max_length=64)


class RegistrationSettingsOut(BaseModel):
    plan_id: str
    catch_up_through: str | None
    closing_month: int | None
    holiday_categories: list[str] | None
    openings: list[str]
    timezone: str | None
    version: int


class ProceduralDuration(BaseModel):
    start: date
    end: date
    suspensions: list[str]
    business_days: int = Field(description="start excluded, end included, both moved off non-business days")


class ProceduralTerm(BaseModel):
    start: date
    days: int
    suspensions: list[str]
    end: date = Field(description="last day of the term")

"""Request and response bodies of the execution API."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from execution.domain.certification import CertifierIndependence
from metas_kit.bounds import JsonObject, Name, Note, Reason
from metas_kit.timestamps import Instant, UtcDateTime

# Years 1900-9999: the range of the domain's Period, so a well-formed period always parses (else a 422 here).
PERIOD_PATTERN = r"^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])$"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
# Plan ids are planning's slugs (docs/api/planning.md): planning refuses any other id.
PLAN_ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
PLAN_ID_MAX_LENGTH = 64


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegistrationWrite(_Closed):
    payload: JsonObject = Field(description="Kind-specific value; see docs/api/execution.md.")
    reason: Reason | None = Field(None, description="Why this value (kept in the version).")
    justification: Note | None = Field(
        None,
        description="Why the value deviates from the target: required when it lies outside the item's "
        "justification_band (docs/domain.md §2.5); kept in the version.",
    )


class JustificationBandOut(BaseModel):
    rule: str = Field(description="tolerance_band (QUAR: meta ± tolerance) or meta (short of the meta)")
    meta: str
    min: str | None = Field(description="a value below it needs a justification; null: no lower side")
    max: str | None = Field(description="a value above it needs a justification; null: no upper side")


class WarningBounds(BaseModel):
    min: str | None
    max: str | None


class ValueWarning(BaseModel):
    code: str = Field(description="outside_configured_bounds or outside_history_band (the message key)")
    message: str = Field(description="English text; clients translate by code and args")
    args: dict[str, Any]
    bounds: WarningBounds


class CheckOut(BaseModel):
    justification_required: bool
    justification_band: JustificationBandOut | None
    warnings: list[ValueWarning]
    errors: list[dict[str, Any]] = Field(description="what a PUT of this body would refuse (same shape as the 422)")


class ValueBoundsBody(_Closed):
    min: str | None = Field(None, max_length=40, description="decimal text; null: no lower bound")
    max: str | None = Field(None, max_length=40, description="decimal text; null: no upper bound")


class ValueBoundsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    item_code: str
    min: str | None = Field(validation_alias="min_value")
    max: str | None = Field(validation_alias="max_value")
    updated_at: UtcDateTime
    updated_by: str
    etag: str = Field(description="the bounds' ETag: send it in If-Match to change or remove them")


class RejectBody(_Closed):
    reason: Reason


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
    certified_at: UtcDateTime | None
    first_registered_at: UtcDateTime | None
    updated_at: UtcDateTime | None
    updated_by: str
    due_date: str
    deadline: UtcDateTime | None
    status: str
    justification: str | None
    justification_band: JustificationBandOut | None
    justification_required: bool = Field(description="whether the current value needs a justification")
    warnings: list[ValueWarning]
    changed_since_certified: bool = Field(
        description="a value was submitted after the last certification (certified_version)"
    )
    certified_version: int | None = Field(description="the number of the last certify version")
    etag: str = Field(description="The strong ETag of this version (as in the ETag header), for If-Match.")


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
    justification: str | None
    warnings: list[ValueWarning] | None
    created_at: UtcDateTime
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
    first_registered_at: UtcDateTime | None
    updated_at: UtcDateTime | None


class CurrentSnapshot(BaseModel):
    plan_id: str
    plan_version: int | None
    period_to: str
    as_of: UtcDateTime
    items: list[CurrentItem]


class ImportRow(_Closed):
    item_code: str = Field(max_length=100)
    period: str = Field(max_length=7)
    payload: JsonObject
    registered_at: Instant | None = None
    reason: Reason | None = None
    justification: Note | None = None


class ImportBody(_Closed):
    reason: Reason | None = None
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
    deadline: UtcDateTime
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
    as_of: UtcDateTime
    units: list[UnitCompliance]
    plan: UnitCompliance


class LockBody(_Closed):
    reason: Reason


class LockOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    plan_id: str
    period: str
    reason: str
    locked_at: UtcDateTime
    locked_by: str


class LockExceptionBody(_Closed):
    item_code: str | None = Field(None, max_length=100)
    unit_code: str | None = Field(None, max_length=100)
    until: Instant = Field(
        description="When the exception ends: in the future, and no later than the end of the closing month after "
        "the plan's cycle (or the configured maximum)."
    )
    reason: Reason


class LockExceptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    plan_id: str
    period: str
    item_code: str | None
    unit_code: str | None
    until: UtcDateTime
    reason: str
    created_at: UtcDateTime
    created_by: str
    revoked_at: UtcDateTime | None


class ClosureBody(_Closed):
    name: Name = Field(max_length=200)


class ClosureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    organisation_code: str
    day: date
    name: str
    created_at: UtcDateTime
    created_by: str


class RegistrationSettingsBody(_Closed):
    catch_up_through: str | None = Field(None, pattern=PERIOD_PATTERN)
    closing_month: int | None = Field(None, ge=1, le=12)
    holiday_categories: list[str] | None = Field(None, max_length=5)
    openings: list[date] = Field(default_factory=list, max_length=366)
    timezone: str | None = Field(None, max_length=64)
    certifier_independence: CertifierIndependence | None = Field(
        None,
        description="Who may not certify or reject a value: 'version' (its author; the default) or 'registration' "
        "(anyone who submitted any version). Only towards the stricter rule once set.",
    )


class RegistrationSettingsOut(BaseModel):
    plan_id: str
    catch_up_through: str | None
    closing_month: int | None
    holiday_categories: list[str] | None
    openings: list[str]
    timezone: str | None
    certifier_independence: CertifierIndependence
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

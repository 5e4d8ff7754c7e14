"""Request and response bodies of the scoring API (decimals travel as strings)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from metas_kit.timestamps import UtcDateTime

# The formats of planning's and execution's identifiers (docs/api/planning.md): a value outside them is a 422
# here instead of a request upstream that planning or execution would refuse (and we would report as 502).
PERIOD = r"^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])$"  # execution's periods: years 1900-9999
PLAN_ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
ITEM_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
ID_MAX_LENGTH = 64
INT32_MAX = 2**31 - 1

PlanId = Annotated[str, StringConstraints(pattern=PLAN_ID_PATTERN, max_length=ID_MAX_LENGTH)]
ItemCode = Annotated[str, StringConstraints(pattern=ITEM_CODE_PATTERN, max_length=ID_MAX_LENGTH)]
PlanVersion = Annotated[int, Field(ge=1, le=INT32_MAX)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartialScore(_In):
    score: Decimal = Field(ge=0, le=100, description="Committee score of a partial delivery (0–50 by default).")
    justification: str = Field(min_length=1, max_length=4000)


class ItemInputs(_In):
    components: dict[str, Decimal] | None = Field(None, description="Component values of a weighted composite.")
    reference_index: Decimal | None = Field(None, description="Reference index of a threshold meta table.")
    quantity: Decimal | None = Field(None, ge=0, description="Quantity delivered of a quantity-target product.")


class CommitteeDecisions(_In):
    """Decisions of the evaluation committee, stored in the snapshot with the evaluation."""

    set_aside: list[str] = Field(default_factory=list, description="Goals set aside: their weight is redistributed.")
    partial_scores: dict[str, PartialScore] = Field(default_factory=dict)
    inputs: dict[str, ItemInputs] = Field(default_factory=dict)
    causes: dict[str, str] = Field(
        default_factory=dict, description="Free-text cause of an indicator's deviation (QUAR art. 10)."
    )
    reasons: dict[ItemCode, Annotated[str, StringConstraints(min_length=1, max_length=4000)]] = Field(
        default_factory=dict, description="Why the committee decided about an item (required per set-aside at a final)."
    )


class EvaluationCreate(_In):
    plan_id: PlanId = Field(examples=["ii-2024-quar"])
    version: PlanVersion | None = Field(None, description="Plan version; default: the current one.")
    period_to: str | None = Field(None, pattern=PERIOD, description="Last period read (default: December).")
    as_of: date | None = Field(None, description="Evaluation date: products not yet due are pending.")
    n1: Decimal | None = Field(None, ge=0, le=100, description="Acordo first-stage grade N1 (productivity).")
    certified_only: bool = Field(False, description="Read certified registrations only.")
    committee: CommitteeDecisions = Field(default_factory=CommitteeDecisions)


class FinalEvaluationCreate(_In):
    plan_id: PlanId = Field(examples=["ipsm-2014-acordo"])
    version: PlanVersion | None = Field(None, description="Plan version; default: the current one.")
    n1: Decimal | None = Field(None, ge=0, le=100, description="Acordo first-stage grade N1 (productivity).")
    committee: CommitteeDecisions = Field(default_factory=CommitteeDecisions)
    revision_reason: str | None = Field(
        None, min_length=1, max_length=2000, description="Required to replace the version's final evaluation."
    )


class EvaluationSummary(BaseModel):
    id: str
    plan_id: str
    plan_version: int | None
    framework: str
    period_to: str | None
    created_at: UtcDateTime
    created_by: str
    rules_version: str
    engine_version: str
    duration_seconds: float
    inputs_sha256: str
    results_sha256: str
    summary: dict[str, Any]
    kind: Literal["provisional", "final"]
    revision: int | None = Field(description="Final evaluations: 1, then one more per revision.")
    revises: str | None = Field(description="The final evaluation this revision replaces.")
    reason: str | None = Field(description="Why this revision replaces it.")


class EvaluationDetail(EvaluationSummary):
    results: dict[str, Any]


class EvaluationPage(BaseModel):
    items: list[EvaluationSummary]
    next_cursor: str | None


class EvaluationInputs(BaseModel):
    id: str
    inputs_sha256: str
    inputs: dict[str, Any]


class Step(BaseModel):
    description: str
    formula: str | None
    values: dict[str, str]
    result: str | None
    table_row: str | None


class ItemScore(BaseModel):
    """One indicator or product score of an evaluation, with its step-by-step explanation."""

    model_config = ConfigDict(extra="allow")  # rule-specific keys (stages, delay…) travel as stored
    evaluation_id: str
    kind: Literal["indicator", "product"]
    code: str
    status: str
    value: str | None
    steps: list[Step]


class ReproduceResult(BaseModel):
    id: str
    identical: bool
    results_sha256: str
    recomputed_sha256: str


class HypotheticalResult(_In):
    """A hypothetical registration of one item (indicator, product, stage or initiative)."""

    value: Decimal | None = None
    components: dict[str, Decimal] | None = None
    reference_index: Decimal | None = None
    completeness: Literal["none", "partial", "full"] | None = None
    delivered_on: date | None = None
    quantity: Decimal | None = None
    execution_rate: Decimal | None = None
    partial_score: Decimal | None = Field(None, ge=0, le=100)
    justification: str | None = Field(None, max_length=4000)
    set_aside: bool = False


class SimulationCreate(_In):
    plan_id: PlanId | None = Field(None, description="Read the plan from planning…")
    version: PlanVersion | None = None
    plan: dict[str, Any] | None = Field(None, description="…or give a plan document inline.")
    use_registrations: bool = Field(False, description="Start from the current registrations (plan_id only).")
    period_to: str | None = Field(None, pattern=PERIOD)
    as_of: date | None = None
    n1: Decimal | None = Field(None, ge=0, le=100)
    results: dict[str, HypotheticalResult] = Field(default_factory=dict)

    @field_validator("plan")
    @classmethod
    def _plan_has_core(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and not isinstance(value.get("plan"), dict):
            raise ValueError("an inline plan document needs its `plan` section")
        return value


class SimulationResult(BaseModel):
    stored: Literal[False] = False
    cutoff: str | None
    results: dict[str, Any]


class InverseAnswer(BaseModel):
    status: Literal["solved", "always", "impossible", "not_supported"]
    target: str
    value: str | None
    direction: Literal["at_least", "at_most"] | None
    quantity: str
    achieved: str | None
    reason: str | None
    steps: list[Step]


class InverseTargetOut(BaseModel):
    kind: str
    value: str


class InverseResult(BaseModel):
    item_code: str
    target: InverseTargetOut
    required_score: InverseAnswer | None = None
    required_result: InverseAnswer | None = None


class InverseTarget(_In):
    kind: Literal["score", "team_grade", "objective_rate"] = "score"
    value: Decimal = Field(ge=0, le=1000)


class InverseCreate(SimulationCreate):
    item_code: ItemCode
    target: InverseTarget

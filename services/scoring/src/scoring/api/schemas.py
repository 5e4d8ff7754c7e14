"""Request and response bodies of the scoring API.

Every decimal follows the kit's number grammar (plain ASCII decimal text, bounded digits, no exponent, kept as
sent): anything else is a 422 naming the field. Texts, lists and maps are bounded.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator

from metas_kit.bounds import NOTE_MAX, Note, Reason, check_json
from metas_kit.numbers import MEASURE, Measure, Score, decimal_text, to_decimal
from metas_kit.timestamps import BoundedDate, UtcDateTime

# The formats of planning's and execution's identifiers (docs/api/planning.md): a value outside them is a 422
# here instead of a request upstream that planning or execution would refuse (and we would report as 502).
PERIOD = r"^(19[0-9]{2}|[2-9][0-9]{3})-(0[1-9]|1[0-2])$"  # execution's periods: years 1900-9999
PLAN_ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
ITEM_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
ID_MAX_LENGTH = 64
INT32_MAX = 2**31 - 1
# A plan has a few hundred items at most; a map or list of items is bounded well above that.
MAX_ITEMS = 2000
MAX_COMPONENTS = 50

PlanId = Annotated[str, StringConstraints(pattern=PLAN_ID_PATTERN, max_length=ID_MAX_LENGTH)]
ItemCode = Annotated[str, StringConstraints(pattern=ITEM_CODE_PATTERN, max_length=ID_MAX_LENGTH)]
PlanVersion = Annotated[int, Field(ge=1, le=INT32_MAX)]
Justification = Annotated[str, StringConstraints(min_length=1, max_length=NOTE_MAX, pattern=r"^[^\x00]*$")]


def _at_most(limit: int) -> AfterValidator:
    def check(text: str) -> str:
        if to_decimal(text) > limit:
            raise ValueError(f"at most {limit}")
        return text

    return AfterValidator(check)


def _not_negative(text: str) -> str:
    if to_decimal(text) < 0:
        raise ValueError("must not be negative")
    return text


Percent = Annotated[Score, _at_most(100)]
Quantity = Annotated[Measure, AfterValidator(_not_negative)]
# Component names are the plan's own (e.g. "%ATrefis"), not item codes.
ComponentName = Annotated[str, StringConstraints(min_length=1, max_length=ID_MAX_LENGTH, pattern=r"^[^\x00]*$")]
Components = Annotated[dict[ComponentName, Measure], Field(max_length=MAX_COMPONENTS)]


# An inline plan document (simulations): the seed plans are ~140 KB and 6 levels deep.
def _inline_plan(value: Any) -> Any:
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return check_json(value, max_depth=12, max_members=50_000, max_bytes=1024 * 1024)


InlinePlan = Annotated[dict[str, Any], BeforeValidator(_inline_plan)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartialScore(_In):
    score: Percent = Field(description="Committee score of a partial delivery (0–50 by default).")
    justification: Justification


class ItemInputs(_In):
    components: Components | None = Field(None, description="Component values of a weighted composite.")
    reference_index: Measure | None = Field(None, description="Reference index of a threshold meta table.")
    quantity: Quantity | None = Field(None, description="Quantity delivered of a quantity-target product.")


class CommitteeDecisions(_In):
    """Decisions of the evaluation committee, stored in the snapshot with the evaluation."""

    set_aside: list[ItemCode] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="Goals set aside: their weight is redistributed."
    )
    partial_scores: dict[ItemCode, PartialScore] = Field(default_factory=dict, max_length=MAX_ITEMS)
    inputs: dict[ItemCode, ItemInputs] = Field(default_factory=dict, max_length=MAX_ITEMS)
    causes: dict[ItemCode, Justification] = Field(
        default_factory=dict,
        max_length=MAX_ITEMS,
        description="Free-text cause of an indicator's deviation (QUAR art. 10).",
    )
    reasons: dict[ItemCode, Reason] = Field(
        default_factory=dict,
        max_length=MAX_ITEMS,
        description="Why the committee decided about an item (required per set-aside at a final).",
    )


class EvaluationCreate(_In):
    plan_id: PlanId = Field(examples=["ii-2024-quar"])
    version: PlanVersion | None = Field(None, description="Plan version; default: the current one.")
    period_to: str | None = Field(None, pattern=PERIOD, description="Last period read (default: December).")
    as_of: BoundedDate | None = Field(None, description="Evaluation date: products not yet due are pending.")
    n1: Percent | None = Field(None, description="Acordo first-stage grade N1 (productivity).")
    certified_only: bool = Field(False, description="Read certified registrations only.")
    committee: CommitteeDecisions = Field(default_factory=CommitteeDecisions)


class FinalEvaluationCreate(_In):
    plan_id: PlanId = Field(examples=["ipsm-2014-acordo"])
    version: PlanVersion | None = Field(None, description="Plan version; default: the current one.")
    n1: Percent | None = Field(None, description="Acordo first-stage grade N1 (productivity).")
    committee: CommitteeDecisions = Field(default_factory=CommitteeDecisions)
    revision_reason: Reason | None = Field(None, description="Required to replace the version's final evaluation.")


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

    value: Measure | None = None
    components: Components | None = None
    reference_index: Measure | None = None
    completeness: Literal["none", "partial", "full"] | None = None
    delivered_on: BoundedDate | None = None
    quantity: Quantity | None = None
    execution_rate: Measure | None = None
    partial_score: Percent | None = None
    justification: Note | None = None
    set_aside: bool = False


class SimulationCreate(_In):
    plan_id: PlanId | None = Field(None, description="Read the plan from planning…")
    version: PlanVersion | None = None
    plan: InlinePlan | None = Field(None, description="…or give a plan document inline.")
    use_registrations: bool = Field(False, description="Start from the current registrations (plan_id only).")
    period_to: str | None = Field(None, pattern=PERIOD)
    as_of: BoundedDate | None = None
    n1: Percent | None = None
    results: dict[ItemCode, HypotheticalResult] = Field(default_factory=dict, max_length=MAX_ITEMS)

    @field_validator("plan")
    @classmethod
    def _plan_has_core(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and not isinstance(value.get("plan"), dict):
            raise ValueError("an inline plan document needs its `plan` section")
        if value is not None:
            _check_plan_figures(value)
        return value


# The figures of an inline plan the engine reads, in the grammar planning applies to stored plans.
PLAN_FIGURES = ("meta", "tolerance", "critical_value", "weight")


def _check_plan_figures(document: dict[str, Any]) -> None:
    """InvalidNumber (a ValueError, so a 422) naming the first figure outside the grammar."""
    for section in ("indicators", "products"):
        items = document.get(section) or []
        if not isinstance(items, list):
            raise ValueError(f"plan.{section} must be a list")
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise ValueError(f"plan.{section}[{i}] must be an object")
            for name in PLAN_FIGURES:
                if item.get(name) is not None:
                    decimal_text(item[name], MEASURE, field=f"plan.{section}[{i}].{name}")
            for year, figure in (item.get("reference_values") or {}).items():
                if figure is not None:
                    decimal_text(figure, MEASURE, field=f"plan.{section}[{i}].reference_values.{year}")


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
    value: Annotated[Score, _at_most(1000)]


class InverseCreate(SimulationCreate):
    item_code: ItemCode
    target: InverseTarget

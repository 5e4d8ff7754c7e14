"""The plan document: one closed, typed tree that is the import/export format, the body of the plan
tree endpoint and what each plan version stores (docs/api/planning.md describes it in JSON).

Models are strict (no silent coercion of "5" into 5) and closed (``extra="forbid"``). Documents are
validated in pydantic's JSON mode (see ``parse_document``), where decimals may come as numbers or
strings and dates as ISO strings. Scoring rules are the models of ``metas_rules.rules``; planning
stores and statically checks them but never evaluates them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from metas_kit.bounds import Description, Name
from metas_kit.numbers import MEASURE, SCORE, NumberKind, decimal_text
from metas_kit.timestamps import BoundedDate
from metas_rules.rules import Rule

SCHEMA_VERSION: Literal[1] = 1

# Identifier formats, shared with the API's path parameters (planning.api.params).
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
ID_MAX_LENGTH = 64
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN, max_length=ID_MAX_LENGTH)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=ID_MAX_LENGTH)]
YearKey = Annotated[str, StringConstraints(pattern=r"^[12][0-9]{3}$")]


def _decimal(kind: NumberKind) -> BeforeValidator:
    """The kit's number grammar (docs/api/planning.md §1): plain ASCII decimal text or a JSON integer, digits
    bounded per kind; kept exactly as sent, so a form Decimal would rewrite (leading zeros) is refused too."""

    def check(value: Any) -> Decimal:
        text = decimal_text(value, kind)
        number = Decimal(text)
        if str(number) != text:
            raise ValueError(f"write {number} without leading zeros (decimals are kept exactly as sent)")
        return number

    return BeforeValidator(check)


# Bounded text: names and titles up to 500 characters, short labels up to 500, free text up to 10,000.
Text = Name
Short = Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00]*$")]
Long = Description
# Decimals: weights and percentages are scores (up to 4 + 2 digits), metas and other figures measures (10 + 6).
Weight = Annotated[Decimal, _decimal(SCORE), Field(ge=0, le=100)]
Percent = Annotated[Decimal, _decimal(SCORE)]
Measure = Annotated[Decimal, _decimal(MEASURE)]
AsPrinted = Annotated[dict[Annotated[str, StringConstraints(max_length=64)], Long], Field(max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=False)


class Framework(StrEnum):
    QUAR = "quar"
    ACORDO_RESULTADOS = "acordo_resultados"


class Polarity(StrEnum):
    HIGHER_IS_BETTER = "higher_is_better"
    LOWER_IS_BETTER = "lower_is_better"


class Periodicity(StrEnum):
    MONTHLY = "monthly"
    BIMONTHLY = "bimonthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"


class UnitKind(StrEnum):
    ORGANISATION = "organisation"
    DEPARTMENT = "department"
    TEAM = "team"


class Organisation(_Model):
    code: Slug
    name: Text
    acronym: Short | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    as_printed: AsPrinted = {}


class Closure(_Model):
    date: BoundedDate
    name: Text


class Calendar(_Model):
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    subdiv: Short | None = None
    closures: list[Closure] = []


class RegistrationDeadline(_Model):
    """Registration of period YYYY-MM is due by the Nth business day of month (period + month_offset)."""

    business_day: Annotated[int, Field(ge=1, le=23)]
    month_offset: Annotated[int, Field(ge=0, le=12)] = 1


class QuarSettings(_Model):
    """Plan-level QUAR settings; realization constants (125 %, below-band variant) live in each
    indicator's ``quar_realization`` rule."""

    relevance: Literal["explicit", "computed"] = "explicit"
    relevance_threshold_percent: Percent = Decimal("50")


class Productivity(_Model):
    n1_weight: Percent = Decimal("0.70")
    n2_weight: Percent = Decimal("0.30")


class AcordoSettings(_Model):
    """Plan-level Acordo settings; product delay tables, the January cut-off and the partial
    delivery maximum live in each product's ``delay_table`` rule."""

    stage: int | None = None
    productivity: Productivity = Productivity()


class SourceRef(_Model):
    file: Short | None = None
    document: Long | None = None


class Plan(_Model):
    id: Slug
    framework: Framework
    cycle_year: Annotated[int, Field(ge=1990, le=2100)]
    title: Text
    version_label: Short | None = None
    issued_on: BoundedDate | None = None
    valid_from: BoundedDate | None = None
    valid_to: BoundedDate | None = None
    calendar: Calendar
    registration_deadline: RegistrationDeadline
    quar: QuarSettings | None = None
    acordo: AcordoSettings | None = None
    source: SourceRef | None = None
    as_printed: AsPrinted = {}


class Leader(_Model):
    name: Text
    role: Short | None = None


class Unit(_Model):
    code: Code
    name: Text
    kind: UnitKind
    parent_code: Code | None = None
    leader: Leader | None = None
    sub_units: Annotated[list[Text], Field(max_length=500)] = []
    as_printed: AsPrinted = {}


class NameVariant(_Model):
    source: Text
    text: Text


class StrategicObjective(_Model):
    code: Code
    name: Text
    description: Long | None = None
    perspective: Short | None = None
    in_strategic_map: bool = True
    name_variants: list[NameVariant] = []
    as_printed: AsPrinted = {}


class Parameter(_Model):
    code: Code
    name: Text
    weight: Weight
    definition: Long | None = None
    as_printed: AsPrinted = {}


class OperationalObjective(_Model):
    code: Code
    name: Text
    parameter_code: Code
    weight: Weight
    strategic_objective_codes: list[Code] = []
    relevant: bool | None = None
    name_variants: list[NameVariant] = []
    as_printed: AsPrinted = {}


class Indicator(_Model):
    code: Code
    name: Text | None = None
    unit_code: Code
    objective_code: Code | None = None
    polarity: Polarity
    periodicity: Periodicity = Periodicity.MONTHLY
    measure_unit: Short | None = None
    meta: Measure
    tolerance: Measure | None = None
    critical_value: Measure | None = None
    weight: Weight
    reference_values: Annotated[dict[YearKey, Measure | None], Field(max_length=50)] = {}
    formula: Long | None = None
    description: Long | None = None
    data_source: Long | None = None
    evidence_source: Long | None = None
    scoring_rule: Rule
    as_printed: AsPrinted = {}


class ProductStage(_Model):
    code: Code
    name: Text
    due_date: BoundedDate
    weight: Weight | None = None
    acceptance_criterion: Long | None = None
    as_printed: AsPrinted = {}


class Product(_Model):
    code: Code
    unit_code: Code
    objective_code: Code | None = None
    name: Text
    deliverable: Long | None = None
    weight: Weight
    due_date: BoundedDate
    acceptance_criterion: Long | None = None
    description: Long | None = None
    data_source: Long | None = None
    evidence_source: Long | None = None
    quantity_target: Measure | None = None
    stages: list[ProductStage] = []
    scoring_rule: Rule
    as_printed: AsPrinted = {}


class TargetCount(_Model):
    value: Measure
    unit_text: Short | None = None


class SubActivity(_Model):
    name: Text
    weight: Weight


class Initiative(_Model):
    code: Code
    unit_code: Code
    name: Text
    description: Long | None = None
    strategic_objective_codes: list[Code] = []
    indicator_code: Code | None = None
    meta: Short | None = None
    target_percent: Measure | None = None
    target_count: TargetCount | None = None
    deadline: BoundedDate | None = None
    sub_activities: list[SubActivity] = []
    as_printed: AsPrinted = {}


class SourceNote(_Model):
    """A fact of the source kept as printed (an inconsistency), reported as a warning at import."""

    path: Short
    message: Long
    reference: Short | None = None


class PlanDocument(_Model):
    schema_version: Literal[1] = SCHEMA_VERSION
    organisation: Organisation
    plan: Plan
    units: list[Unit] = []
    strategic_objectives: list[StrategicObjective] = []
    parameters: list[Parameter] = []
    operational_objectives: list[OperationalObjective] = []
    indicators: list[Indicator] = []
    products: list[Product] = []
    initiatives: list[Initiative] = []
    source_notes: list[SourceNote] = []


def _json_default(value: Any) -> Any:
    # YAML gives date/datetime objects for unquoted ISO dates; JSON mode wants strings.
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def parse_document(data: Mapping[str, Any] | str | bytes) -> PlanDocument:
    """Validate a document given as parsed JSON/YAML data or JSON text (raises pydantic ValidationError).

    Always validates in JSON mode so JSON and YAML inputs follow exactly the same rules.
    """
    if isinstance(data, str | bytes):
        return PlanDocument.model_validate_json(data)
    return PlanDocument.model_validate_json(json.dumps(data, default=_json_default))


def dump_document(doc: PlanDocument) -> dict[str, Any]:
    """The document as JSON-ready data (decimals as strings, dates ISO)."""
    return doc.model_dump(mode="json")


def canonical_json(doc: PlanDocument) -> str:
    return json.dumps(dump_document(doc), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(doc: PlanDocument) -> str:
    """sha256 of the canonical JSON: equal documents have equal hashes (idempotent import, ETag)."""
    return hashlib.sha256(canonical_json(doc).encode()).hexdigest()


def error_path(loc: tuple[int | str, ...]) -> str:
    """pydantic ``loc`` → ``teams[2].indicators[0].weight`` style path."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out

"""Scoring rules as data: a pydantic v2 discriminated union on `kind`.

Every rule family of docs/domain.md §2–3 is one kind; a plan stores the rule of each indicator/product as
JSON and `metas_rules.engine` evaluates it. `rule_problems` is the static validation planning runs
when a plan is saved, so nothing divides by zero at scoring time. JSON shapes and one example per
kind: docs/api/scoring-rules.md.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from metas_rules.numbers import MeasureDecimal, ScoreDecimal, Whole
from metas_rules.tables import DelayBand, FrozenModel, Interval, StepRow, StepTable

Polarity = Literal["higher_is_better", "lower_is_better"]
Scale = Annotated[Literal[10, 100], Whole]
# How "percentage of execution" is computed for lower-is-better targets (docs/domain.md §2.1.1):
# `seed` = (1 − (R − M) / M) × 100 (the seed's own no-V0 formula), `inverse_ratio` = M / R × 100.
LowerExecution = Literal["seed", "inverse_ratio"]


class _Rule(FrozenModel):
    """A rule kind. The kinds the engine scores per result read their fields as one tuple, `params` (built on first
    read; a pydantic attribute read costs several times a tuple item's)."""


def _row(lo: str | None, lo_inc: bool, hi: str | None, hi_inc: bool, value: str, label: str) -> StepRow:
    return StepRow(
        intervals=[
            Interval(
                min=None if lo is None else Decimal(lo),
                min_inclusive=lo_inc,
                max=None if hi is None else Decimal(hi),
                max_inclusive=hi_inc,
            )
        ],
        value=Decimal(value),
        label=label,
    )


def obs2_default_table() -> StepTable:
    """Anexo IV OBS2: % of execution against the meta -> score (seed 004)."""
    return StepTable(
        rows=[
            _row("100", True, None, True, "100", ">= 100 %"),
            _row("95", True, "99.99", True, "80", "95.00 - 99.99 %"),
            _row("90", True, "94.99", True, "60", "90.00 - 94.99 %"),
            _row("80", True, "89.99", True, "40", "80.00 - 89.99 %"),
            _row(None, True, "80", False, "0", "< 80 %"),
        ],
        gap="error",
    )


def general_delay_bands() -> list[DelayBand]:
    """Anexo IV general product table for full delivery (calendar days late -> score)."""
    spans: list[tuple[int, int | None, str, str]] = [
        (0, 0, "100", "on time"),
        (1, 30, "80", "up to 30 days late"),
        (31, 60, "70", "31 to 60 days late"),
        (61, 90, "60", "61 to 90 days late"),
        (91, 120, "50", "91 to 120 days late"),
        (121, None, "0", "more than 120 days late"),
    ]
    return [DelayBand(days_min=a, days_max=b, score=Decimal(s), label=t) for a, b, s, t in spans]


class GeneralRule(_Rule):
    """Acordo general rule (Anexo IV): ambitious formula, OBS1, OBS2 table, no-V0 formulas."""

    kind: Literal["general"] = "general"
    lower_execution: LowerExecution = "seed"
    obs2_table: StepTable = Field(default_factory=obs2_default_table)

    @cached_property
    def params(self) -> tuple[LowerExecution, StepTable]:
        return self.lower_execution, self.obs2_table


class RatioRule(_Rule):
    """score = result / target × scale, clamped to [0, scale]; optional zero below a floor.

    `scale` is the rule's printed scale (10 for PAA and "média das notas", 100 for VA/VM);
    the engine rounds on that scale and converts to the internal 0–100 scale exactly (×10).
    `target` overrides the indicator meta (e.g. a product "303 processos revisados").
    `zero_below_result`: the score is 0 when the raw result is below it (PAA: 70.00 %).
    """

    kind: Literal["ratio"] = "ratio"
    scale: Scale = 100
    target: MeasureDecimal | None = None
    zero_below_result: MeasureDecimal | None = None

    @cached_property
    def params(self) -> tuple[int, Decimal | None, Decimal | None]:
        return self.scale, self.target, self.zero_below_result


class ThresholdRule(_Rule):
    """pass_score if the result meets the meta (≤ for lower-is-better), else fail_score.

    `meta_table` optionally maps a reference index (an input of the registration) to the meta.
    """

    kind: Literal["threshold"] = "threshold"
    pass_when: Literal["at_most_meta", "at_least_meta"] | None = None  # None: from polarity
    pass_score: ScoreDecimal = Field(default=Decimal("100"), ge=0, le=100)
    fail_score: ScoreDecimal = Field(default=Decimal("0"), ge=0, le=100)
    meta_table: StepTable | None = None

    @cached_property
    def params(
        self,
    ) -> tuple[Literal["at_most_meta", "at_least_meta"] | None, Decimal, Decimal, StepTable | None]:
        return self.pass_when, self.pass_score, self.fail_score, self.meta_table


class StepTableRule(_Rule):
    """Look the result (or the % of execution against the meta) up in a table of scores."""

    kind: Literal["step_table"] = "step_table"
    input: Literal["result", "execution_percent"] = "execution_percent"
    lower_execution: LowerExecution = "seed"
    table: StepTable

    @cached_property
    def params(self) -> tuple[Literal["result", "execution_percent"], LowerExecution, StepTable]:
        return self.input, self.lower_execution, self.table


class CompositeComponent(_Rule):
    """One component of a weighted composite.

    `source`: `value` = the registered component value (a percentage);
    `ratio` = inputs `<code>.numerator` / `<code>.denominator` × 100;
    `revised_plan_ratio` = numerator / planned × 100 with planned = initial × m_i / m_t +
    revised × m_r / m_t (inputs `<code>.numerator`, `.initial`, `.revised`, `.months_initial`,
    `.months_revised`, `.months_total`).
    `buckets` optionally maps the component percentage to a bucket value (1 / 0.7 / 0.5 / 0).
    """

    code: str = Field(min_length=1)
    name: str | None = None
    weight: MeasureDecimal = Field(gt=0)
    source: Literal["value", "ratio", "revised_plan_ratio"] = "value"
    buckets: StepTable | None = None


class WeightedCompositeRule(_Rule):
    """index = Σ weight × component (× multiplier), then an optional step table to the score."""

    kind: Literal["weighted_composite"] = "weighted_composite"
    components: list[CompositeComponent] = Field(min_length=1)
    multiplier: MeasureDecimal = Decimal("1")
    table: StepTable | None = None


class DerivedFromTeamsRule(_Rule):
    """result = mean of other teams' grades (on `team_grade_scale`), score = result / meta × scale.

    Scored after the teams it reads; the evaluation follows the dependency order and rejects cycles.
    `include_units` null = every team of the plan except `exclude_units` and the indicator's own.
    """

    kind: Literal["derived_from_teams"] = "derived_from_teams"
    exclude_units: list[str] = Field(default_factory=list)
    include_units: list[str] | None = None
    team_grade_scale: Scale = 10
    scale: Scale = 10


class QuarRealizationRule(_Rule):
    """QUAR realization rate with tolerance and critical value (docs/domain.md §3.1), both polarities."""

    kind: Literal["quar_realization"] = "quar_realization"
    ceiling: ScoreDecimal = Field(default=Decimal("125"), gt=100)
    # below the band: `band_edge` = R / (M − T) (lower: (M + T) / R), `meta` = R / M (lower: M / R)
    below_band: Literal["band_edge", "meta"] = "band_edge"

    @cached_property
    def params(self) -> tuple[Decimal, Literal["band_edge", "meta"]]:
        return self.ceiling, self.below_band


class DelayTableRule(_Rule):
    """Product score by calendar days late; January cut-off; partial delivery 0–partial_max."""

    kind: Literal["delay_table"] = "delay_table"
    bands: list[DelayBand] = Field(default_factory=general_delay_bands, min_length=1)
    beyond_score: ScoreDecimal = Field(default=Decimal("0"), ge=0, le=100)
    cutoff: Literal["last_business_day_of_january_next_year", "none"] = "last_business_day_of_january_next_year"
    partial_max: ScoreDecimal = Field(default=Decimal("50"), ge=0, le=100)


Rule = Annotated[
    GeneralRule
    | RatioRule
    | ThresholdRule
    | StepTableRule
    | WeightedCompositeRule
    | DerivedFromTeamsRule
    | QuarRealizationRule
    | DelayTableRule,
    Field(discriminator="kind"),
]
RULE_KINDS: tuple[str, ...] = (
    "general",
    "ratio",
    "threshold",
    "step_table",
    "weighted_composite",
    "derived_from_teams",
    "quar_realization",
    "delay_table",
)

_RULE_ADAPTER: TypeAdapter[Rule] = TypeAdapter(Rule)


def parse_rule(data: dict[str, Any]) -> Rule:
    """Validate a rule document (raises pydantic.ValidationError with the offending path)."""
    return _RULE_ADAPTER.validate_python(data)


def dump_rule(rule: Rule) -> dict[str, Any]:
    """JSON-ready dict (decimals as strings) that parse_rule reads back to an equal rule."""
    dumped: dict[str, Any] = _RULE_ADAPTER.dump_python(rule, mode="json")
    return dumped


def rule_json_schema() -> dict[str, Any]:
    schema: dict[str, Any] = _RULE_ADAPTER.json_schema()
    return schema


def rule_scale(rule: Rule) -> int:
    """The scale a rule prints its score on (internal scores are always 0–100)."""
    if isinstance(rule, RatioRule | DerivedFromTeamsRule):
        return rule.scale
    return 100


class _Check(BaseModel):
    """Shared by every kind, so planning can call rule_problems with whatever it has."""

    model_config = ConfigDict(frozen=True)
    polarity: Polarity
    meta: Decimal | None
    tolerance: Decimal | None
    critical_value: Decimal | None
    reference_value: Decimal | None


def rule_problems(
    rule: Rule,
    *,
    polarity: Polarity,
    meta: Decimal | None,
    tolerance: Decimal | None = None,
    critical_value: Decimal | None = None,
    reference_value: Decimal | None = None,
    item: Literal["indicator", "product"] = "indicator",
) -> list[str]:
    """Static problems of a rule against an item's facts; empty list = scorable.

    Catches at plan-validation time what would otherwise fail (or mislead) at scoring time:
    divisions by zero, critical values on the wrong side of the target, overlapping tables.
    """
    f = _Check(
        polarity=polarity,
        meta=meta,
        tolerance=tolerance,
        critical_value=critical_value,
        reference_value=reference_value,
    )
    problems: list[str] = []
    if item == "product" and not isinstance(rule, DelayTableRule | RatioRule | GeneralRule):
        problems.append(f"rule kind {rule.kind!r} cannot score a product")
    if item == "indicator" and isinstance(rule, DelayTableRule):
        problems.append("rule kind 'delay_table' scores products, not indicators")
    checker = _CHECKERS[rule.kind]
    problems.extend(checker(rule, f))
    return problems


def _needs_meta(f: _Check, why: str) -> list[str]:
    if f.meta is None:
        return [f"meta is required ({why})"]
    if f.meta == 0:
        return [f"meta is 0: {why} would divide by zero"]
    return []


def _check_general(rule: Any, f: _Check) -> list[str]:
    assert isinstance(rule, GeneralRule)
    problems = [f"obs2_table: {p}" for p in rule.obs2_table.overlaps()]
    if f.meta is None:
        return [*problems, "meta is required (general rule)"]
    v0 = f.reference_value
    if v0 is None:
        return problems + _needs_meta(f, "the no-V0 formula result / meta")
    ambitious = f.meta > v0 if f.polarity == "higher_is_better" else f.meta < v0
    if not ambitious:
        problems += _needs_meta(f, "the OBS2 percentage of execution")
    return problems


def _check_ratio(rule: Any, f: _Check) -> list[str]:
    assert isinstance(rule, RatioRule)
    if rule.target is not None:
        return [] if rule.target != 0 else ["target is 0: the ratio would divide by zero"]
    return _needs_meta(f, "ratio result / meta")


def _check_threshold(rule: Any, f: _Check) -> list[str]:
    assert isinstance(rule, ThresholdRule)
    problems: list[str] = []
    if rule.meta_table is not None:
        problems += [f"meta_table: {p}" for p in rule.meta_table.overlaps()]
    elif f.meta is None:
        problems.append("meta is required (threshold without a meta_table)")
    expected = "at_most_meta" if f.polarity == "lower_is_better" else "at_least_meta"
    if rule.pass_when is not None and rule.pass_when != expected:
        problems.append(f"pass_when {rule.pass_when!r} contradicts polarity {f.polarity!r}")
    if rule.pass_score < rule.fail_score:
        problems.append("pass_score is below fail_score")
    return problems


def _check_step_table(rule: Any, f: _Check) -> list[str]:
    assert isinstance(rule, StepTableRule)
    problems = [f"table: {p}" for p in rule.table.overlaps()]
    problems += _score_range("table", rule.table)
    if rule.input == "execution_percent":
        problems += _needs_meta(f, "percentage of execution against the meta")
    return problems


def _check_composite(rule: Any, f: _Check) -> list[str]:
    assert isinstance(rule, WeightedCompositeRule)
    problems: list[str] = []
    codes = [c.code for c in rule.components]
    if len(set(codes)) != len(codes):
        problems.append("component codes are not unique")
    total = sum((c.weight for c in rule.components), Decimal(0))
    if total != 1:
        problems.append(f"component weights sum to {total}, not 1")
    for c in rule.components:
        if c.buckets is not None:
            problems += [f"component {c.code} buckets: {p}" for p in c.buckets.overlaps()]
    if rule.table is not None:
        problems += [f"table: {p}" for p in rule.table.overlaps()]
        problems += _score_range("table", rule.table)
    return problems


def _check_derived(rule: Any, f: _Check) -> list[str]:
    assert isinstance(rule, DerivedFromTeamsRule)
    problems = _needs_meta(f, "mean of team grades / meta")
    if rule.include_units is not None and set(rule.include_units) & set(rule.exclude_units):
        problems.append("a unit is both included and excluded")
    return problems


def _check_quar(rule: Any, f: _Check) -> list[str]:
    assert isinstance(rule, QuarRealizationRule)
    missing = [
        n for n, v in (("meta", f.meta), ("tolerance", f.tolerance), ("critical_value", f.critical_value)) if v is None
    ]
    if missing:
        return [f"{', '.join(missing)} required by the QUAR realization rule"]
    m, t, vc = f.meta, f.tolerance, f.critical_value
    if m is None or t is None or vc is None:  # pragma: no cover - guarded by `missing` above
        return []
    problems: list[str] = []
    if t < 0:
        problems.append("tolerance is negative")
    if f.polarity == "higher_is_better":
        if vc <= m + t:
            problems.append(f"critical value {vc} must be above meta + tolerance {m + t} for higher-is-better")
        edge = m - t if rule.below_band == "band_edge" else m
        if edge <= 0:
            problems.append(f"below-band divisor {edge} must be positive")
    else:
        if vc >= m - t:
            problems.append(f"critical value {vc} must be below meta − tolerance {m - t} for lower-is-better")
        if vc < 0:
            problems.append("critical value is negative for a lower-is-better indicator")
    return problems


def _check_delay(rule: Any, f: _Check) -> list[str]:
    assert isinstance(rule, DelayTableRule)
    problems: list[str] = []
    expected_start = 0
    for i, band in enumerate(rule.bands):
        if band.days_min != expected_start:
            problems.append(f"band {i + 1} starts at {band.days_min}, expected {expected_start}")
        if band.days_max is None:
            if i != len(rule.bands) - 1:
                problems.append(f"band {i + 1} is open-ended but is not the last band")
            break
        if band.days_max < band.days_min:
            problems.append(f"band {i + 1} ends before it starts")
        expected_start = band.days_max + 1
    scores = [b.score for b in rule.bands]
    if any(later > earlier for earlier, later in itertools.pairwise(scores)):
        problems.append("a later (more delayed) band scores more than an earlier one")
    if rule.partial_max > rule.bands[0].score:
        problems.append("partial_max exceeds the on-time score")
    return problems


def _score_range(name: str, table: StepTable) -> list[str]:
    return [
        f"{name}: row {i + 1} score {r.value} is outside 0-100"
        for i, r in enumerate(table.rows)
        if not (0 <= r.value <= 100)
    ]


_CHECKERS = {
    "general": _check_general,
    "ratio": _check_ratio,
    "threshold": _check_threshold,
    "step_table": _check_step_table,
    "weighted_composite": _check_composite,
    "derived_from_teams": _check_derived,
    "quar_realization": _check_quar,
    "delay_table": _check_delay,
}

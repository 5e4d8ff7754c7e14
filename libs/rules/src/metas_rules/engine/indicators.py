"""Indicator scores, one function per rule kind, each leaving an explanation trace."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from metas_rules.decimal_ops import HUNDRED, SCORE_CEILING, SCORE_FLOOR, ZERO, clamp, q2
from metas_rules.engine.execution import execution_formula, execution_percent
from metas_rules.engine.facts import IndicatorFacts, Observation
from metas_rules.engine.quar import quar_rate
from metas_rules.engine.trace import Score, ScoringError, Step, Trace, _tuple_new
from metas_rules.rules import (
    DerivedFromTeamsRule,
    GeneralRule,
    QuarRealizationRule,
    RatioRule,
    StepTableRule,
    ThresholdRule,
    WeightedCompositeRule,
)
from metas_rules.tables import StepTable, TableLookupError

TeamGrades = Mapping[str, Decimal]


def score_indicator(
    facts: IndicatorFacts,
    obs: Observation | None,
    *,
    team_grades: TeamGrades | None = None,
    plan_units: list[str] | None = None,
) -> Score:
    """Score one indicator; never raises for bad inputs (status `not_scorable` with a reason).

    A rule kind whose score depends only on the facts and the registered result (`_FAST`) is scored without a
    trace, and its explanation is built when read, by scoring again with one (`_explain`): the same code, so the
    same steps. Every other case (composites, derived indicators, missing results, errors) records its trace as
    it goes.
    """
    if obs is not None and obs.result is not None and not obs.set_aside:
        rule = facts.rule
        fast = _FAST.get(type(rule))  # by type: `rule.kind` is a pydantic attribute read, several times slower
        if fast is not None:
            scorer, kind = fast
            try:
                native, scale = scorer(facts, rule, obs, None)
            except (ScoringError, TableLookupError, ArithmeticError):
                pass  # scored again below with a trace, which reports the error with the steps up to it
            else:
                value = native if scale == 100 else native * (_TO_INTERNAL.get(scale) or HUNDRED / scale)
                # Score.lazy(...) written out: this line runs once per score
                return _tuple_new(
                    Score, (facts.code, "scored", value, native, scale, kind, None, None, (), _explain, facts, obs)
                )
    return _traced(facts, obs, team_grades, plan_units)


# The printed scales (10 and 100) as Decimals, and the factor to the internal scale: Decimal(scale) and
# HUNDRED / scale (both exact) built once rather than once per score.
_SCALE = {10: Decimal(10), 100: HUNDRED}
_TO_INTERNAL = {10: HUNDRED / 10}


def _explain(facts: IndicatorFacts, obs: Observation) -> tuple[Step, ...]:
    return _traced(facts, obs, None, None).steps


def _traced(
    facts: IndicatorFacts,
    obs: Observation | None,
    team_grades: TeamGrades | None,
    plan_units: list[str] | None,
) -> Score:
    """`score_indicator` recording its explanation as it goes."""
    rule = facts.rule
    if obs is not None and obs.set_aside:
        return Score(facts.code, "set_aside", rule_kind=rule.kind, reason="set aside by the committee")
    trace = Trace()
    try:
        if isinstance(rule, DerivedFromTeamsRule):
            native, scale = _derived(facts, rule, team_grades or {}, plan_units, trace)
        else:
            if obs is not None and obs.missing_scores_zero and obs.result is None and not obs.components:
                trace.add("final evaluation: no certified result for an owed item, so it scores 0", result=0)
                return Score(facts.code, "scored", SCORE_FLOOR, SCORE_FLOOR, 100, rule.kind, tuple(trace.steps))
            if obs is None or (obs.result is None and not _needs_only_components(rule)):
                return Score(facts.code, "missing", rule_kind=rule.kind, reason="no result registered")
            native, scale = _SCORERS[rule.kind](facts, rule, obs, trace)
    except (ScoringError, TableLookupError, ArithmeticError) as exc:
        return Score(facts.code, "not_scorable", rule_kind=rule.kind, steps=tuple(trace.steps), reason=str(exc))
    value = native if scale == 100 else native * (HUNDRED / scale)
    if scale != 100:
        trace.add(
            f"convert from the 0–{scale} scale to the internal 0–100 scale",
            formula=f"score = score{scale} × {100 // scale}",
            values={f"score{scale}": native},
            result=value,
        )
    return Score(
        facts.code,
        "scored",
        value=value,
        native=native,
        scale=scale,
        rule_kind=rule.kind,
        steps=tuple(trace.steps),
    )


def _needs_only_components(rule: object) -> bool:
    return isinstance(rule, WeightedCompositeRule)


def _require_meta(facts: IndicatorFacts) -> Decimal:
    if facts.meta is None:
        raise ScoringError("the indicator has no meta")
    return facts.meta


# The scorers below take `trace=None` on the fast path: they then compute the same numbers and record nothing.
# They are dispatched on `rule.kind`, so each gets its own rule type (no isinstance check per score); the result's
# and the meta's presence checks are written out where they run once per score.


def _general(facts: IndicatorFacts, rule: GeneralRule, obs: Observation, trace: Trace | None) -> tuple[Decimal, int]:
    r = obs.result
    if r is None:
        raise ScoringError("no result registered")
    m = facts.meta
    if m is None:
        raise ScoringError("the indicator has no meta")
    v0 = facts.reference_value
    higher = facts.polarity == "higher_is_better"
    if v0 is None:
        if higher:
            formula, raw = "score = result / meta × 100", r / m * HUNDRED
        else:
            formula, raw = "score = (1 − (result − meta) / meta) × 100", (1 - (r - m) / m) * HUNDRED
        rounded = q2(raw)
        score = SCORE_FLOOR if rounded < ZERO else SCORE_CEILING if rounded > HUNDRED else rounded  # clamp to [0, 100]
        if trace is not None:
            trace.add(
                "no reference value (V0): no-V0 formula, no table",
                formula=formula,
                values={"result": r, "meta": m},
                result=rounded,
            )
            trace.add("bound the score to [0, 100]", formula="score = min(max(score, 0), 100)", result=score)
        return score, 100
    ambitious = m > v0 if higher else m < v0
    if ambitious:
        raw = (r - v0) / (m - v0) * HUNDRED
        rounded = q2(raw)
        score = SCORE_FLOOR if rounded < ZERO else SCORE_CEILING if rounded > HUNDRED else rounded  # clamp to [0, 100]
        if trace is not None:
            trace.add(
                "ambitious target (" + ("meta > V0" if higher else "meta < V0") + "): general rule",
                formula="score = (result − V0) / (meta − V0) × 100",
                values={"result": r, "V0": v0, "meta": m},
                result=rounded,
            )
            trace.add(
                "OBS1: a negative score is 0; the maximum is 100",
                formula="score = min(max(score, 0), 100)",
                result=score,
            )
        return score, 100
    lower_execution, obs2_table = rule.params
    execution = q2(execution_percent(r, m, facts.polarity, lower_execution))
    if trace is not None:
        trace.add(
            "OBS2: non-ambitious target ("
            + ("meta ≤ V0" if higher else "meta ≥ V0")
            + "): percentage of execution, rounded to 2 places",
            formula=execution_formula(facts.polarity, lower_execution),
            values={"result": r, "meta": m, "V0": v0},
            result=execution,
        )
    return _lookup_score(obs2_table, execution, "OBS2 table: execution → score", trace), 100


def _lookup_score(table: StepTable, x: Decimal, description: str, trace: Trace | None) -> Decimal:
    if trace is None:
        return table.find(x)[3]  # the row's value, rounded: q2(row.value)
    hit = table.lookup(x)
    trace.add(description, values={"x": x}, result=hit.row.value, table_row=hit.describe())
    return q2(hit.row.value)


def _ratio(facts: IndicatorFacts, rule: RatioRule, obs: Observation, trace: Trace | None) -> tuple[Decimal, int]:
    r = obs.result
    if r is None:
        raise ScoringError("no result registered")
    scale, rule_target, floor = rule.params
    target = rule_target if rule_target is not None else _require_meta(facts)
    if floor is not None and r < floor:
        if trace is not None:
            trace.add(
                f"result below the floor {floor}: score is zero",
                formula=f"score{scale} = 0 when result < {floor}",
                values={"result": r},
                result=ZERO,
            )
        return q2(ZERO), scale
    raw = r / target * scale
    rounded = q2(raw)
    top = _SCALE.get(scale) or Decimal(scale)
    score = ZERO if rounded < ZERO else top if rounded > top else rounded  # clamp to [0, scale]
    if trace is not None:
        name = "target" if rule_target is not None else "meta"
        trace.add(
            f"ratio on the 0–{scale} scale",
            formula=f"score{scale} = result / {name} × {scale}",
            values={"result": r, name: target},
            result=rounded,
        )
        trace.add(f"bound the score to [0, {scale}]", result=score)
    return score, scale


def _threshold(
    facts: IndicatorFacts, rule: ThresholdRule, obs: Observation, trace: Trace | None
) -> tuple[Decimal, int]:
    r = obs.result
    if r is None:
        raise ScoringError("no result registered")
    pass_when, pass_score, fail_score, meta_table = rule.params
    if meta_table is not None and obs.reference_index is not None:
        if trace is None:
            meta = meta_table.find(obs.reference_index)[1].value  # (row index, row, gap policy, rounded value)
        else:
            hit = meta_table.lookup(obs.reference_index)
            meta = hit.row.value
            trace.add(
                "meta from the reference-index table",
                values={"reference index": obs.reference_index},
                result=meta,
                table_row=hit.describe(),
            )
    else:
        meta = _require_meta(facts)
    at_most = (
        pass_when or ("at_most_meta" if facts.polarity == "lower_is_better" else "at_least_meta")
    ) == "at_most_meta"
    passed = r <= meta if at_most else r >= meta
    score = pass_score if passed else fail_score
    if trace is not None:
        trace.add(
            "threshold: " + ("result ≤ meta" if at_most else "result ≥ meta") + (" holds" if passed else " fails"),
            formula=f"score = {pass_score} if result {'≤' if at_most else '≥'} meta else {fail_score}",
            values={"result": r, "meta": meta},
            result=score,
        )
    return q2(score), 100


def _step_table(
    facts: IndicatorFacts, rule: StepTableRule, obs: Observation, trace: Trace | None
) -> tuple[Decimal, int]:
    r = obs.result
    if r is None:
        raise ScoringError("no result registered")
    source, lower_execution, table = rule.params
    if source == "result":
        x = q2(r)
        if trace is not None:
            trace.add("look the result (rounded to 2 places) up", values={"result": r}, result=x)
    else:
        m = _require_meta(facts)
        x = q2(execution_percent(r, m, facts.polarity, lower_execution))
        if trace is not None:
            trace.add(
                "percentage of execution, rounded to 2 places",
                formula=execution_formula(facts.polarity, lower_execution),
                values={"result": r, "meta": m},
                result=x,
            )
    return _lookup_score(table, x, "step table → score", trace), 100


def component_value(code: str, source: str, inputs: Mapping[str, Decimal], trace: Trace) -> Decimal:
    """The percentage of one composite component from the registration's inputs."""

    def need(key: str) -> Decimal:
        if key not in inputs:
            raise ScoringError(f"component input {key!r} is missing")
        return inputs[key]

    if source == "value":
        return need(code)
    if source == "ratio":
        num, den = need(f"{code}.numerator"), need(f"{code}.denominator")
        if den == 0:
            raise ScoringError(f"component {code}: denominator is 0")
        value = num / den * HUNDRED
        trace.add(
            f"component {code}",
            formula=f"{code} = numerator / denominator × 100",
            values={"numerator": num, "denominator": den},
            result=q2(value),
        )
        return value
    planned = revised_planned_value(
        need(f"{code}.initial"),
        need(f"{code}.months_initial"),
        need(f"{code}.revised"),
        need(f"{code}.months_revised"),
        need(f"{code}.months_total"),
    )
    trace.add(
        f"component {code}: planned value weighted by the months each plan was in force",
        formula="planned = initial × months_initial / months_total + revised × months_revised / months_total",
        values={
            k: inputs[f"{code}.{k}"] for k in ("initial", "months_initial", "revised", "months_revised", "months_total")
        },
        result=planned,
    )
    if planned == 0:
        raise ScoringError(f"component {code}: planned value is 0")
    num = need(f"{code}.numerator")
    value = num / planned * HUNDRED
    trace.add(
        f"component {code}",
        formula=f"{code} = numerator / planned × 100",
        values={"numerator": num, "planned": planned},
        result=q2(value),
    )
    return value


def revised_planned_value(
    initial: Decimal, months_initial: Decimal, revised: Decimal, months_revised: Decimal, months_total: Decimal
) -> Decimal:
    """Purchasing-plan weighting (seed 004): a = initial × m_i / m_t, b = revised × m_r / m_t."""
    if months_total == 0:
        raise ScoringError("months_total is 0")
    return initial * months_initial / months_total + revised * months_revised / months_total


def _composite(
    facts: IndicatorFacts, rule: WeightedCompositeRule, obs: Observation, tr: Trace | None
) -> tuple[Decimal, int]:
    trace = tr if tr is not None else Trace()  # always traced (its inputs are a mapping the caller may change)
    total = ZERO
    parts: dict[str, object] = {}
    for comp in rule.components:
        pct = q2(component_value(comp.code, comp.source, obs.components, trace))
        term = pct
        if comp.buckets is not None:
            hit = comp.buckets.lookup(pct)
            term = hit.row.value
            trace.add(
                f"component {comp.code}: bucket value", values={comp.code: pct}, result=term, table_row=hit.describe()
            )
        parts[f"{comp.weight}·{comp.code}"] = term
        total += comp.weight * term
    index = q2(total * rule.multiplier)
    terms = " + ".join(f"{c.weight} × {c.code}" for c in rule.components)
    mult = "" if rule.multiplier == 1 else f" × {rule.multiplier}"
    trace.add("weighted composite, rounded to 2 places", formula=f"index = ({terms}){mult}", values=parts, result=index)
    if rule.table is None:
        score = clamp(index, SCORE_FLOOR, SCORE_CEILING)
        trace.add("no table: the index is the score, bounded to [0, 100]", result=score)
        return score, 100
    return _lookup_score(rule.table, index, "step table: index → score", trace), 100


def _quar(
    facts: IndicatorFacts, rule: QuarRealizationRule, obs: Observation, trace: Trace | None
) -> tuple[Decimal, int]:
    if facts.meta is None or facts.tolerance is None or facts.critical_value is None:
        raise ScoringError("meta, tolerance and critical value are required")
    r = obs.result
    if r is None:
        raise ScoringError("no result registered")
    ceiling, below_band = rule.params
    rate, _ = quar_rate(
        r,
        facts.meta,
        facts.tolerance,
        facts.critical_value,
        facts.polarity,
        ceiling=ceiling,
        below_band=below_band,
        trace=trace,
    )
    return rate, 100


def _derived(
    facts: IndicatorFacts,
    rule: DerivedFromTeamsRule,
    grades: TeamGrades,
    plan_units: list[str] | None,
    trace: Trace,
) -> tuple[Decimal, int]:
    units = derived_units(rule, facts.unit_code, plan_units if plan_units is not None else list(grades))
    missing = [u for u in units if u not in grades]
    if not units:
        raise ScoringError("no team grades to average")
    if missing:
        raise ScoringError(f"team grades missing for {', '.join(missing)}")
    factor = Decimal(rule.team_grade_scale) / HUNDRED
    shown = {u: q2(grades[u] * factor) for u in units}
    mean = q2(sum(shown.values(), ZERO) / len(shown))
    trace.add(
        f"mean of the team grades on the 0–{rule.team_grade_scale} scale"
        + (f" (excluding {', '.join(rule.exclude_units)})" if rule.exclude_units else ""),
        formula="result = Σ team grades / number of teams",
        values=shown,
        result=mean,
    )
    m = _require_meta(facts)
    raw = mean / m * rule.scale
    trace.add(
        f"ratio on the 0–{rule.scale} scale",
        formula=f"score{rule.scale} = result / meta × {rule.scale}",
        values={"result": mean, "meta": m},
        result=q2(raw),
    )
    score = clamp(q2(raw), SCORE_FLOOR, q2(Decimal(rule.scale)))
    trace.add(f"bound the score to [0, {rule.scale}]", result=score)
    return score, rule.scale


def derived_units(rule: DerivedFromTeamsRule, own_unit: str | None, all_units: list[str]) -> list[str]:
    """The teams whose grades a derived indicator averages (sorted, for a stable trace)."""
    if rule.include_units is not None:
        return sorted(rule.include_units)
    skip = set(rule.exclude_units) | ({own_unit} if own_unit else set())
    return sorted(u for u in all_units if u not in skip)


# (facts, the rule of the kind the scorer is registered under, observation, trace or None) → (score, scale)
_Scorer = Callable[..., tuple[Decimal, int]]
_SCORERS: dict[str, _Scorer] = {
    "general": _general,
    "ratio": _ratio,
    "threshold": _threshold,
    "step_table": _step_table,
    "weighted_composite": _composite,
    "quar_realization": _quar,
}


def _unsupported(facts: IndicatorFacts, rule: object, obs: Observation, trace: Trace | None) -> tuple[Decimal, int]:
    raise ScoringError("rule kind 'delay_table' scores products, not indicators")


_SCORERS["delay_table"] = _unsupported

# The rule kinds scored without a trace first: their score reads only immutable inputs (the facts, the result, the
# reference index), so the explanation built later from the same inputs is this score's.
# Keyed by the rule's class, each with its kind.
_FAST: dict[type, tuple[_Scorer, str]] = {
    GeneralRule: (_general, "general"),
    RatioRule: (_ratio, "ratio"),
    ThresholdRule: (_threshold, "threshold"),
    StepTableRule: (_step_table, "step_table"),
    QuarRealizationRule: (_quar, "quar_realization"),
}

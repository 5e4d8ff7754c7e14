"""Inverse questions: what result does an indicator need for a score, and what score does a goal
need for a weighted total (team grade, objective rate) to reach a target.

Linear pieces are solved exactly in Decimal; step rules are solved by searching the table for the
least demanding row that reaches the target. Every answer is checked by scoring it forward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Literal

from metas_rules.decimal_ops import CENT, HUNDRED, ZERO, q2
from metas_rules.engine.execution import result_for_execution
from metas_rules.engine.facts import IndicatorFacts, Observation
from metas_rules.engine.indicators import score_indicator
from metas_rules.engine.trace import Step, Trace
from metas_rules.rules import (
    DelayTableRule,
    DerivedFromTeamsRule,
    GeneralRule,
    LowerExecution,
    Polarity,
    QuarRealizationRule,
    RatioRule,
    StepTableRule,
    ThresholdRule,
    WeightedCompositeRule,
)
from metas_rules.tables import StepTable

InverseStatus = Literal["solved", "always", "impossible", "not_supported"]
Direction = Literal["at_least", "at_most"]
RESULT_QUANTUM = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class InverseAnswer:
    """`value` is the least demanding result (at least / at most) reaching `target`.

    `quantity` says what `value` is: the indicator `result`, a composite `index`, the team-grade
    `mean` of a derived indicator, or a goal `score`.
    """

    status: InverseStatus
    target: Decimal
    value: Decimal | None = None
    direction: Direction | None = None
    quantity: str = "result"
    achieved: Decimal | None = None
    steps: tuple[Step, ...] = ()
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "target": format(self.target, "f"),
            "value": None if self.value is None else format(self.value, "f"),
            "direction": self.direction,
            "quantity": self.quantity,
            "achieved": None if self.achieved is None else format(self.achieved, "f"),
            "reason": self.reason,
            "steps": [s.to_dict() for s in self.steps],
        }


def _direction(polarity: Polarity) -> Direction:
    return "at_least" if polarity == "higher_is_better" else "at_most"


def _rule_direction(facts: IndicatorFacts) -> Direction:
    """Which way a better result goes for this rule: a ratio always rewards a higher result
    (VA / VM even where the printed polarity is lower-is-better); a threshold follows pass_when."""
    rule = facts.rule
    if isinstance(rule, RatioRule):
        return "at_least"
    if isinstance(rule, ThresholdRule) and rule.pass_when is not None:
        return "at_most" if rule.pass_when == "at_most_meta" else "at_least"
    return _direction(facts.polarity)


def _tidy(value: Decimal, direction: Direction) -> Decimal:
    """Round a solved result to 4 places in the direction that keeps the target reached."""
    if value == value.quantize(RESULT_QUANTUM):
        return value.normalize() if value != 0 else ZERO
    return value.quantize(RESULT_QUANTUM, rounding=ROUND_CEILING if direction == "at_least" else ROUND_FLOOR)


def required_result(facts: IndicatorFacts, target: Decimal) -> InverseAnswer:
    """The result `facts` needs for a score of at least `target` (internal scale)."""
    rule = facts.rule
    trace = Trace()
    d = _rule_direction(facts)
    if isinstance(rule, DerivedFromTeamsRule):
        return _derived(facts, rule, target, trace)
    if isinstance(rule, WeightedCompositeRule):
        return _composite(rule, target, trace)
    if isinstance(rule, DelayTableRule):
        return InverseAnswer("not_supported", target, reason="use latest_delivery_for_score for products")
    floor_score = Decimal(0)
    if target <= floor_score and not isinstance(rule, ThresholdRule):
        return InverseAnswer("always", target, reason="every result scores at least 0")
    try:
        value = _solve(facts, rule, target, trace)
    except _Impossible as exc:
        return InverseAnswer("impossible", target, steps=tuple(trace.steps), reason=str(exc))
    except _Always as exc:
        return InverseAnswer("always", target, steps=tuple(trace.steps), reason=str(exc))
    value = _tidy(value, d)
    check = score_indicator(facts, Observation(result=value))
    trace.add("check: score the solved result forward", values={"result": value}, result=check.value)
    if not check.scored or check.value is None or check.value < target:
        return InverseAnswer(
            "impossible",
            target,
            value,
            d,
            steps=tuple(trace.steps),
            reason="the forward check did not reach the target",
        )
    return InverseAnswer("solved", target, value, d, achieved=check.value, steps=tuple(trace.steps))


class _Impossible(Exception):
    pass


class _Always(Exception):
    pass


def _meta(facts: IndicatorFacts) -> Decimal:
    if facts.meta is None:
        raise _Impossible("the indicator has no meta")
    return facts.meta


def _solve(facts: IndicatorFacts, rule: object, s: Decimal, trace: Trace) -> Decimal:
    higher = facts.polarity == "higher_is_better"
    if isinstance(rule, GeneralRule):
        if s > HUNDRED:
            raise _Impossible("the general rule scores at most 100")
        m, v0 = _meta(facts), facts.reference_value
        if v0 is None:
            if higher:
                r = s * m / HUNDRED
                trace.add(
                    "no V0: invert score = R / M × 100",
                    formula="R = score × M / 100",
                    values={"score": s, "M": m},
                    result=r,
                )
            else:
                r = m * (2 - s / HUNDRED)
                trace.add(
                    "no V0: invert score = (1 − (R − M)/M) × 100",
                    formula="R = M × (2 − score / 100)",
                    values={"score": s, "M": m},
                    result=r,
                )
            return r
        if (m > v0) if higher else (m < v0):
            r = v0 + s * (m - v0) / HUNDRED
            trace.add(
                "ambitious target: invert score = (R − V0)/(M − V0) × 100",
                formula="R = V0 + score × (M − V0) / 100",
                values={"score": s, "V0": v0, "M": m},
                result=r,
            )
            return r
        return _table_execution(rule.obs2_table, s, m, facts.polarity, rule.lower_execution, trace, "OBS2 table")
    if isinstance(rule, RatioRule):
        if s > HUNDRED:
            raise _Impossible("a ratio scores at most 100")
        target = rule.target if rule.target is not None else _meta(facts)
        native = _native_target(s, rule.scale)
        r = native * target / rule.scale
        trace.add(
            f"invert score{rule.scale} = R / target × {rule.scale} (score{rule.scale} on its 2-decimal grid)",
            formula=f"R = score{rule.scale} × target / {rule.scale}",
            values={f"score{rule.scale}": native, "target": target},
            result=r,
        )
        if rule.zero_below_result is not None and r < rule.zero_below_result:
            trace.add(
                "raise to the floor below which the score is 0",
                values={"floor": rule.zero_below_result},
                result=rule.zero_below_result,
            )
            r = rule.zero_below_result
        return r
    if isinstance(rule, ThresholdRule):
        if s <= rule.fail_score:
            raise _Always(f"even a failing result scores {rule.fail_score}")
        if s > rule.pass_score:
            raise _Impossible(f"the threshold scores at most {rule.pass_score}")
        m = _meta(facts)
        trace.add("threshold: the result must meet the meta", values={"meta": m}, result=m)
        return m
    if isinstance(rule, StepTableRule):
        if rule.input == "execution_percent":
            return _table_execution(
                rule.table, s, _meta(facts), facts.polarity, rule.lower_execution, trace, "step table"
            )
        x, row = _least_row_bound(rule.table, s, higher)
        trace.add("least demanding table row reaching the score", result=x, table_row=row)
        return x
    if isinstance(rule, QuarRealizationRule):
        return _quar(facts, rule, s, trace)
    raise _Impossible(f"rule kind {getattr(rule, 'kind', '?')} has no inverse")


def _native_target(s: Decimal, scale: int) -> Decimal:
    """A 0–100 target on a rule printed on 0–scale: scores there are rounded to 2 places, so the
    target is the next point of that grid (81.82 on 0–10 → 8.19, i.e. 81.90 internal)."""
    return (s * scale / HUNDRED).quantize(CENT, rounding=ROUND_CEILING)


def _least_row_bound(table: StepTable, s: Decimal, higher: bool) -> tuple[Decimal, str]:
    """Among rows scoring ≥ s, the bound needing the least: lowest `min` (higher is better) or
    highest `max` (lower is better). Exclusive bounds move by one cent (values are rounded to 2 places)."""
    best: tuple[Decimal, str] | None = None
    for index, row in enumerate(table.rows):
        if row.value < s:
            continue
        for iv in row.intervals:
            if higher:
                if iv.min is None:
                    raise _Always(f"row {index + 1} has no lower bound")
                x = iv.min if iv.min_inclusive else iv.min + CENT
                if best is None or x < best[0]:
                    best = (x, f"row {index + 1}: {row.describe()}")
            else:
                if iv.max is None:
                    raise _Always(f"row {index + 1} has no upper bound")
                x = iv.max if iv.max_inclusive else iv.max - CENT
                if best is None or x > best[0]:
                    best = (x, f"row {index + 1}: {row.describe()}")
    if best is None:
        raise _Impossible(f"no row of the table scores {s} or more")
    return best


def _table_execution(
    table: StepTable, s: Decimal, m: Decimal, polarity: Polarity, lower: LowerExecution, trace: Trace, name: str
) -> Decimal:
    # every execution formula grows with performance, so the least execution reaching s is wanted
    e, row = _least_row_bound(table, s, higher=True)
    trace.add(f"{name}: least percentage of execution reaching the score", result=e, table_row=row)
    r = result_for_execution(e, m, polarity, lower)
    trace.add("result giving that percentage of execution", values={"execution": e, "meta": m}, result=r)
    return r


def _quar(facts: IndicatorFacts, rule: QuarRealizationRule, s: Decimal, trace: Trace) -> Decimal:
    if facts.meta is None or facts.tolerance is None or facts.critical_value is None:
        raise _Impossible("meta, tolerance and critical value are required")
    m, t, vc = facts.meta, facts.tolerance, facts.critical_value
    bonus = rule.ceiling - 100
    values = {"rate": s, "M": m, "T": t, "VC": vc}
    if s > rule.ceiling:
        raise _Impossible(f"the rate is capped at {rule.ceiling}")
    if facts.polarity == "higher_is_better":
        if s > 100:
            r = (m + t) + (s - 100) * (vc - (m + t)) / bonus
            formula = "R = (M+T) + (rate − 100) × (VC − (M+T)) / 25"
        elif s == 100:
            r, formula = m - t, "R = M − T (the band's lower edge)"
        else:
            div = m - t if rule.below_band == "band_edge" else m
            r, formula = (
                s * div / HUNDRED,
                "R = rate × (M − T) / 100" if rule.below_band == "band_edge" else "R = rate × M / 100",
            )
    else:
        if s > 100:
            r = (m - t) - (s - 100) * ((m - t) - vc) / bonus
            formula = "R = (M−T) − (rate − 100) × ((M−T) − VC) / 25"
        elif s == 100:
            r, formula = m + t, "R = M + T (the band's upper edge)"
        else:
            num = m + t if rule.below_band == "band_edge" else m
            r, formula = (
                num * HUNDRED / s,
                "R = (M + T) × 100 / rate" if rule.below_band == "band_edge" else "R = M × 100 / rate",
            )
    trace.add("invert the QUAR realization rate", formula=formula, values=values, result=r)
    return r


def _derived(facts: IndicatorFacts, rule: DerivedFromTeamsRule, s: Decimal, trace: Trace) -> InverseAnswer:
    if facts.meta is None:
        return InverseAnswer("impossible", s, reason="the indicator has no meta")
    if s > HUNDRED:
        return InverseAnswer("impossible", s, reason="scores are at most 100")
    native = _native_target(s, rule.scale)
    mean = native * facts.meta / rule.scale
    trace.add(
        f"mean team grade (0–{rule.team_grade_scale}) needed",
        formula=f"mean = score{rule.scale} × meta / {rule.scale}",
        values={f"score{rule.scale}": native, "meta": facts.meta},
        result=mean,
    )
    return InverseAnswer("solved", s, _tidy(mean, "at_least"), "at_least", "mean", steps=tuple(trace.steps))


def _composite(rule: WeightedCompositeRule, s: Decimal, trace: Trace) -> InverseAnswer:
    if rule.table is None:
        if s > HUNDRED:
            return InverseAnswer("impossible", s, reason="scores are at most 100")
        trace.add("no table: the index must reach the score", result=s)
        return InverseAnswer("solved", s, s, "at_least", "index", steps=tuple(trace.steps))
    try:
        x, row = _least_row_bound(rule.table, s, higher=True)
    except _Impossible as exc:
        return InverseAnswer("impossible", s, quantity="index", reason=str(exc))
    except _Always as exc:
        return InverseAnswer("always", s, quantity="index", reason=str(exc))
    trace.add("least composite index reaching the score", result=x, table_row=row)
    return InverseAnswer("solved", s, x, "at_least", "index", steps=tuple(trace.steps))


def latest_delivery_for_score(
    rule: DelayTableRule, due: date, target: Decimal, *, cutoff: date | None
) -> InverseAnswer:
    """Latest full-delivery date still scoring `target` (value = days late allowed)."""
    trace = Trace()
    ok = [b for b in rule.bands if b.score >= target]
    if not ok:
        return InverseAnswer("impossible", target, quantity="days_late", reason="no band scores that much")
    open_ended = any(b.days_max is None for b in ok)
    days = None if open_ended else max(b.days_max for b in ok if b.days_max is not None)
    latest = None if days is None else due + timedelta(days=days)
    if cutoff is not None and rule.cutoff != "none" and (latest is None or latest > cutoff):
        latest = cutoff
        days = max(0, (cutoff - due).days)
    trace.add(
        "latest delivery still in a band scoring the target",
        values={"due date": due.isoformat(), "latest": "none" if latest is None else latest.isoformat()},
        result=days,
    )
    if days is None:
        return InverseAnswer("always", target, quantity="days_late", steps=tuple(trace.steps))
    return InverseAnswer("solved", target, Decimal(days), "at_most", "days_late", steps=tuple(trace.steps))


def required_part_score(
    parts: Sequence[tuple[str, Decimal, Decimal | None]], code: str, target: Decimal, *, cap: Decimal = HUNDRED
) -> InverseAnswer:
    """Score goal `code` needs so Σ(score × weight)/Σ weight reaches `target` (others as given).

    Parts are (code, weight, score); parts with score None (set aside) leave the sums, except `code`.
    """
    trace = Trace()
    mine = [w for c, w, _ in parts if c == code]
    if not mine:
        return InverseAnswer("impossible", target, quantity="score", reason=f"{code} is not part of the total")
    weight = mine[0]
    others = [(c, w, s) for c, w, s in parts if c != code and s is not None]
    total_w = weight + sum((w for _, w, _ in others), ZERO)
    rest = sum((w * s for _, w, s in others), ZERO)
    if weight == 0:
        return InverseAnswer("impossible", target, quantity="score", reason=f"{code} has weight 0")
    needed = (target * total_w - rest) / weight
    trace.add(
        "invert Σ(score × weight) / Σ weight for one goal",
        formula="needed = (target × Σ weight − Σ others' score × weight) / weight",
        values={"target": target, "Σ weight": total_w, "Σ others": rest, "weight": weight},
        result=needed,
    )
    needed = needed.quantize(CENT, rounding=ROUND_CEILING)
    # the total is rounded half up: a score 0.01 lower may already round up to the target
    while needed > 0 and q2(((needed - CENT) * weight + rest) / total_w) >= target:
        needed -= CENT
    if needed <= 0:
        return InverseAnswer("always", target, ZERO, "at_least", "score", steps=tuple(trace.steps))
    if needed > cap:
        return InverseAnswer(
            "impossible",
            target,
            needed,
            "at_least",
            "score",
            steps=tuple(trace.steps),
            reason=f"needs {needed}, above the maximum {cap}",
        )
    achieved = q2((needed * weight + rest) / total_w)
    return InverseAnswer("solved", target, needed, "at_least", "score", achieved, tuple(trace.steps))

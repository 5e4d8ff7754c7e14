"""Product (milestone) scores: delay tables, January cut-off, partial delivery, stages, quantities."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from metas_rules.decimal_ops import ZERO, q2
from metas_rules.engine.facts import Delivery, IndicatorFacts, Observation, ProductFacts
from metas_rules.engine.indicators import score_indicator
from metas_rules.engine.trace import Score, ScoringError, Trace
from metas_rules.rules import DelayTableRule, GeneralRule, RatioRule


def score_product(
    facts: ProductFacts, delivery: Delivery | None, *, cutoff: date | None, as_of: date | None = None
) -> Score:
    """Score a product; `cutoff` = last business day of January after the cycle (None: no cut-off).

    `as_of` (the evaluation date): a product not delivered whose due date has not passed yet is
    `pending` rather than 0.
    """
    rule = facts.rule
    if delivery is not None and delivery.set_aside:
        return Score(facts.code, "set_aside", rule_kind=rule.kind, reason="set aside by the committee")
    if isinstance(rule, RatioRule | GeneralRule):
        return _quantity_product(facts, delivery)
    assert isinstance(rule, DelayTableRule)
    effective_cutoff = cutoff if rule.cutoff != "none" else None
    trace = Trace()
    try:
        if facts.stages:
            value = _staged(facts, rule, delivery, effective_cutoff, as_of, trace)
        else:
            if facts.due_date is None:
                raise ScoringError("the product has no due date")
            value = _one_delivery(facts.due_date, rule, delivery, effective_cutoff, as_of, trace, "")
    except _Pending as pending:
        return Score(facts.code, "pending", rule_kind=rule.kind, steps=tuple(trace.steps), reason=str(pending))
    except _Missing as missing:
        return Score(facts.code, "missing", rule_kind=rule.kind, steps=tuple(trace.steps), reason=str(missing))
    except ScoringError as exc:
        return Score(facts.code, "not_scorable", rule_kind=rule.kind, steps=tuple(trace.steps), reason=str(exc))
    return Score(facts.code, "scored", value=value, native=value, rule_kind=rule.kind, steps=tuple(trace.steps))


class _Pending(Exception):
    pass


class _Missing(Exception):
    pass


def days_late(due: date, delivered_on: date) -> int:
    """Calendar days after the due date (0 when on time or early)."""
    return max(0, (delivered_on - due).days)


def delay_score(rule: DelayTableRule, late: int) -> tuple[Decimal, str]:
    for index, band in enumerate(rule.bands):
        if band.contains(late):
            return band.score, f"band {index + 1}: {band.describe()}"
    return rule.beyond_score, f"beyond the last band -> {rule.beyond_score}"


def _one_delivery(
    due: date,
    rule: DelayTableRule,
    delivery: Delivery | None,
    cutoff: date | None,
    as_of: date | None,
    trace: Trace,
    prefix: str,
) -> Decimal:
    status = None if delivery is None else delivery.status
    if status is None:
        if as_of is not None and as_of <= due:
            raise _Pending(f"{prefix}due {due.isoformat()}, not delivered yet")
        if as_of is not None and cutoff is not None and as_of > cutoff:
            trace.add(
                f"{prefix}nothing delivered by the cut-off (last business day of January of the next year): score 0",
                values={"due date": due.isoformat(), "cut-off": cutoff.isoformat(), "evaluated on": as_of.isoformat()},
                result=ZERO,
            )
            return q2(ZERO)
        raise _Missing(f"{prefix}no delivery registered")
    assert delivery is not None
    if status == "partial":
        return _partial(rule, delivery, trace, prefix)
    if status == "not_delivered" or delivery.delivered_on is None:
        if as_of is not None and as_of <= due:
            raise _Pending(f"{prefix}due {due.isoformat()}, not delivered yet")
        trace.add(f"{prefix}not delivered: score 0", values={"due date": due.isoformat()}, result=ZERO)
        return q2(ZERO)
    if cutoff is not None and delivery.delivered_on > cutoff:
        trace.add(
            f"{prefix}delivered after the cut-off (last business day of January of the next year): not evaluated",
            values={"delivered on": delivery.delivered_on.isoformat(), "cut-off": cutoff.isoformat()},
            result=ZERO,
        )
        return q2(ZERO)
    late = days_late(due, delivery.delivered_on)
    trace.add(
        f"{prefix}calendar days late",
        formula="days late = max(0, delivered on − due date)",
        values={"due date": due.isoformat(), "delivered on": delivery.delivered_on.isoformat()},
        result=late,
    )
    score, row = delay_score(rule, late)
    trace.add(f"{prefix}delay table: days late → score", values={"days late": late}, result=score, table_row=row)
    return q2(score)


def _partial(rule: DelayTableRule, delivery: Delivery, trace: Trace, prefix: str) -> Decimal:
    score = delivery.partial_score
    if score is None:
        raise ScoringError(f"{prefix}partial delivery without the committee's score")
    if not (ZERO <= score <= rule.partial_max):
        raise ScoringError(f"{prefix}partial-delivery score {score} is outside 0–{rule.partial_max}")
    if not (delivery.justification or "").strip():
        raise ScoringError(f"{prefix}partial-delivery score without a justification")
    trace.add(
        f"{prefix}partial delivery: committee score (0–{rule.partial_max})",
        values={"justification": delivery.justification},
        result=q2(score),
    )
    return q2(score)


def _staged(
    facts: ProductFacts,
    rule: DelayTableRule,
    delivery: Delivery | None,
    cutoff: date | None,
    as_of: date | None,
    trace: Trace,
) -> Decimal:
    stage_deliveries = {} if delivery is None else dict(delivery.stages)
    scores: list[tuple[str, Decimal, Decimal | None]] = []
    for stage in facts.stages:
        value = _one_delivery(
            stage.due_date, rule, stage_deliveries.get(stage.code), cutoff, as_of, trace, f"stage {stage.code}: "
        )
        scores.append((stage.code, value, stage.weight))
    weighted = all(w is not None for _, _, w in scores)
    if weighted:
        total_w = sum((w for _, _, w in scores if w is not None), ZERO)
        if total_w == 0:
            raise ScoringError("stage weights sum to 0")
        value = q2(sum((s * w for _, s, w in scores if w is not None), ZERO) / total_w)
        formula = "score = Σ stage score × weight / Σ weight"
    else:
        value = q2(sum((s for _, s, _ in scores), ZERO) / len(scores))
        formula = "score = mean of the stage scores"
    trace.add("product score from its stages", formula=formula, values={code: s for code, s, _ in scores}, result=value)
    return value


def _quantity_product(facts: ProductFacts, delivery: Delivery | None) -> Score:
    """A quantity target scored like a no-V0 indicator: delivered / target × 100."""
    as_indicator = IndicatorFacts(
        code=facts.code,
        rule=facts.rule,
        polarity="higher_is_better",
        meta=None,
        unit_code=facts.unit_code,
        weight=facts.weight,
    )
    if isinstance(facts.rule, GeneralRule):
        return Score(
            facts.code,
            "not_scorable",
            rule_kind="general",
            reason="a product scored by the general rule needs a quantity target (use kind ratio with target)",
        )
    quantity = None if delivery is None else delivery.quantity
    return score_indicator(as_indicator, None if quantity is None else Observation(result=quantity))


__all__ = ["days_late", "delay_score", "score_product"]

"""Percentage of execution against the meta (shared by the general rule, step tables, inverse)."""

from __future__ import annotations

from decimal import Decimal

from metas_rules.decimal_ops import HUNDRED, ONE
from metas_rules.rules import LowerExecution, Polarity


def execution_formula(polarity: Polarity, lower: LowerExecution) -> str:
    if polarity == "higher_is_better":
        return "execution = result / meta × 100"
    if lower == "seed":
        return "execution = (1 − (result − meta) / meta) × 100"
    return "execution = meta / result × 100"


def execution_percent(result: Decimal, meta: Decimal, polarity: Polarity, lower: LowerExecution) -> Decimal:
    """Unrounded percentage of execution (callers round to 2 places before any lookup)."""
    if polarity == "higher_is_better":
        return result / meta * HUNDRED
    if lower == "seed":
        return (ONE - (result - meta) / meta) * HUNDRED
    if result == 0:
        # meta / 0: a zero result on a lower-is-better target cannot be beaten
        return Decimal("Infinity")
    return meta / result * HUNDRED


def result_for_execution(execution: Decimal, meta: Decimal, polarity: Polarity, lower: LowerExecution) -> Decimal:
    """Inverse of execution_percent (used by the inverse solver)."""
    if polarity == "higher_is_better":
        return execution * meta / HUNDRED
    if lower == "seed":
        return meta * (2 - execution / HUNDRED)
    return meta * HUNDRED / execution

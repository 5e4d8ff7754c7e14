"""Warnings on a registered value far from what is expected of the item (docs/domain.md §2.6) — never a refusal.

Two checks, on indicators (the only items with a free numeric value):

* ``outside_configured_bounds``: the value is below the ``min`` or above the ``max`` a planner configured for the
  item (either may be absent);
* ``outside_history_band``: the value is outside ``median ± k × 1.4826 × MAD`` of the item's last ``N`` certified
  values of earlier periods (MAD: the median of the absolute deviations from the median; × 1.4826 makes it
  estimate a standard deviation, so k = 3.5 is Iglewicz and Hoaglin's modified z-score cut-off). Fewer than
  ``min_values`` past values, or a MAD of 0 (no spread to measure against), give no band.

Bounds are computed exactly and quantised to 6 places, half up; a value exactly on a bound is inside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

MAD_TO_SIGMA = Decimal("1.4826")
_PLACES = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class HistoryRule:
    k: Decimal = Decimal("3.5")
    window: int = 12
    min_values: int = 3


@dataclass(frozen=True, slots=True)
class Bounds:
    min: Decimal | None
    max: Decimal | None

    def outside(self, value: Decimal) -> bool:
        return (self.min is not None and value < self.min) or (self.max is not None and value > self.max)


def _text(d: Decimal | None) -> str | None:
    if d is None:
        return None
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def median(values: Sequence[Decimal]) -> Decimal:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def history_band(history: Sequence[Decimal], rule: HistoryRule) -> Bounds | None:
    """``median ± k × 1.4826 × MAD`` of the last ``rule.window`` values (``history`` newest first)."""
    recent = list(history[: rule.window])
    if len(recent) < max(rule.min_values, 1):
        return None
    centre = median(recent)
    mad = median([abs(v - centre) for v in recent])
    if mad == 0:
        return None
    half = rule.k * MAD_TO_SIGMA * mad
    return Bounds(
        (centre - half).quantize(_PLACES, rounding=ROUND_HALF_UP),
        (centre + half).quantize(_PLACES, rounding=ROUND_HALF_UP),
    )


def value_warnings(
    value: Decimal, configured: Bounds | None, history: Sequence[Decimal], rule: HistoryRule
) -> list[dict[str, Any]]:
    """The warnings of ``value`` (JSON-ready: code, English message, args, bounds)."""
    out: list[dict[str, Any]] = []
    shown = _text(value)
    if configured is not None and configured.outside(value):
        bounds = {"min": _text(configured.min), "max": _text(configured.max)}
        out.append(
            {
                "code": "outside_configured_bounds",
                "message": f"the value {shown} is outside the bounds set for this item "
                f"({bounds['min'] or '-∞'} to {bounds['max'] or '+∞'})",
                "args": {"value": shown, **bounds},
                "bounds": bounds,
            }
        )
    band = history_band(history, rule)
    if band is not None and band.outside(value):
        bounds = {"min": _text(band.min), "max": _text(band.max)}
        count = min(len(history), rule.window)
        out.append(
            {
                "code": "outside_history_band",
                "message": f"the value {shown} is far from this item's last {count} certified values "
                f"(expected {bounds['min']} to {bounds['max']})",
                "args": {"value": shown, "count": count, "k": _text(rule.k), **bounds},
                "bounds": bounds,
            }
        )
    return out

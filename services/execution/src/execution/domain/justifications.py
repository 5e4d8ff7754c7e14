"""When a registered value needs a justification (docs/domain.md §2.5), read from the item's scoring rule.

The result an evaluation scores is the value of the latest registered period (scoring's inputs), so each
month's value is judged against the indicator's meta, as the plan defines it:

* QUAR (rule ``quar_realization``): a value outside the tolerance band [M − T, M + T], on either side —
  the QUAR's *identificação dos desvios* asks for the causes of an over- as much as of an under-achievement;
* every other rule with a single target (the Acordo): a value short of the meta, as the rule judges "short":
  the polarity for ``general`` and ``step_table`` (higher-is-better: below the meta; lower-is-better: above it),
  the rule's own ``target`` for ``ratio`` (which always rewards a higher result), ``pass_when`` for ``threshold``.

Nothing else has a target per period, so nothing else needs a justification: products and stages (scored by
their delivery date), initiatives (their target is the share at the deadline), composite indicators and those
derived from other teams (no single registered value), a threshold whose meta comes from a table, and an
indicator without a meta.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import ValidationError

from metas_rules import GeneralRule, QuarRealizationRule, RatioRule, StepTableRule, ThresholdRule, parse_rule

BandRule = Literal["tolerance_band", "meta"]


@dataclass(frozen=True, slots=True)
class JustificationBand:
    """A value ``v`` needs a justification when ``v < min`` or ``v > max`` (a None side is open)."""

    rule: BandRule
    meta: Decimal
    min: Decimal | None
    max: Decimal | None

    def requires(self, value: Decimal) -> bool:
        return (self.min is not None and value < self.min) or (self.max is not None and value > self.max)

    def as_json(self) -> dict[str, Any]:
        def text(d: Decimal | None) -> str | None:
            return None if d is None else format(d, "f")

        return {"rule": self.rule, "meta": text(self.meta), "min": text(self.min), "max": text(self.max)}


def _number(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def band_of_indicator(indicator: Mapping[str, Any]) -> JustificationBand | None:
    """The band of one indicator of planning's plan document; None when it has no target per period."""
    raw_rule = indicator.get("scoring_rule")
    meta = _number(indicator.get("meta"))
    polarity = indicator.get("polarity") or "higher_is_better"
    if not isinstance(raw_rule, Mapping):
        return None
    try:
        rule = parse_rule(dict(raw_rule))
    except ValidationError:
        return None  # planning validates rules; one this version cannot read sets no band rather than guessing
    if isinstance(rule, QuarRealizationRule):
        if meta is None:
            return None
        tolerance = _number(indicator.get("tolerance")) or Decimal(0)
        return JustificationBand("tolerance_band", meta, meta - tolerance, meta + tolerance)
    if isinstance(rule, RatioRule):
        target = rule.target if rule.target is not None else meta
        return None if target is None else JustificationBand("meta", target, target, None)
    if meta is None:
        return None
    if isinstance(rule, ThresholdRule):
        if rule.meta_table is not None:
            return None  # the meta depends on a reference index registered with the result
        pass_when = rule.pass_when or ("at_most_meta" if polarity == "lower_is_better" else "at_least_meta")
        return JustificationBand("meta", meta, *((None, meta) if pass_when == "at_most_meta" else (meta, None)))
    if isinstance(rule, GeneralRule | StepTableRule):
        return JustificationBand("meta", meta, *((None, meta) if polarity == "lower_is_better" else (meta, None)))
    return None  # weighted composites, teams' grades, delay tables


def registered_value(payload: Mapping[str, Any]) -> Decimal | None:
    """The value an indicator's canonical payload carries (derived for a ratio); None for other kinds."""
    return _number(payload.get("value"))


def needs_justification(band: JustificationBand | None, payload: Mapping[str, Any]) -> bool:
    if band is None:
        return False
    value = registered_value(payload)
    return value is not None and band.requires(value)

"""Inputs of the engine: plain frozen dataclasses and named tuples (the service maps plan/registrations to these)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Literal, NamedTuple

from metas_rules.rules import Polarity, Rule


@dataclass(frozen=True, slots=True)
class IndicatorFacts:
    """What the plan says about an indicator (reference_value = V0, the previous period's value)."""

    code: str
    rule: Rule
    polarity: Polarity = "higher_is_better"
    meta: Decimal | None = None
    tolerance: Decimal | None = None
    critical_value: Decimal | None = None
    reference_value: Decimal | None = None
    unit_code: str | None = None
    weight: Decimal = Decimal("0")
    objective_code: str | None = None


# No components: one shared read-only empty mapping (an Observation is a tuple; its default must not be mutable).
NO_COMPONENTS: Mapping[str, Decimal] = MappingProxyType({})


class Observation(NamedTuple):
    """What was registered: the result, named component inputs, the reference index (threshold).

    A named tuple rather than a frozen dataclass: one is built for every score, and a tuple is built several times
    faster, as immutable and as readable.
    """

    result: Decimal | None = None
    components: Mapping[str, Decimal] = NO_COMPONENTS
    reference_index: Decimal | None = None
    set_aside: bool = False
    # A final evaluation's owed item with no certified result: it scores 0 (docs/domain.md §6).
    missing_scores_zero: bool = False


DeliveryStatus = Literal["delivered", "partial", "not_delivered"]


@dataclass(frozen=True, slots=True)
class StageFacts:
    code: str
    due_date: date
    weight: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ProductFacts:
    code: str
    rule: Rule
    due_date: date | None = None
    unit_code: str | None = None
    weight: Decimal = Decimal("0")
    stages: tuple[StageFacts, ...] = ()


@dataclass(frozen=True, slots=True)
class Delivery:
    """A product's (or stage's) registered delivery.

    `partial_score` and `justification` are the committee's decision for a partial delivery;
    `quantity` is the delivered amount of a quantity-target product.
    """

    status: DeliveryStatus | None = None
    delivered_on: date | None = None
    partial_score: Decimal | None = None
    justification: str | None = None
    quantity: Decimal | None = None
    set_aside: bool = False
    stages: Mapping[str, Delivery] = field(default_factory=dict)

"""Interval and step tables: bounds carry explicit inclusivity, so gaps are decided by data.

A value that falls in no row (e.g. 89.5 between "80-89" and "90-100") is resolved by the
table's `gap` policy: `error` (not scorable), `row_below` (the row just under the value)
or `row_above` (the row just over it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from metas_rules.decimal_ops import q2
from metas_rules.numbers import MeasureDecimal, ScoreDecimal, Whole

GapPolicy = Literal["error", "row_below", "row_above"]


class FrozenModel(BaseModel):
    """An immutable model; what a `cached_property` derives from its fields is dropped from copies with an update."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copied = super().model_copy(update=update, deep=deep)
        if update:
            for klass in type(self).__mro__:
                for name, attr in vars(klass).items():
                    if isinstance(attr, cached_property):
                        copied.__dict__.pop(name, None)
        return copied


class Interval(FrozenModel):
    """A range of numbers; a null bound is open (−∞ / +∞)."""

    min: MeasureDecimal | None = None
    min_inclusive: bool = True
    max: MeasureDecimal | None = None
    max_inclusive: bool = True

    @model_validator(mode="before")
    @classmethod
    def _null_inclusivity(cls, data: Any) -> Any:
        # The seed prints `min_inclusive: null` next to an open bound; read it as the default.
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if not (k.endswith("_inclusive") and v is None)}
        return data

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.min is not None and self.max is not None:
            if self.min > self.max or (self.min == self.max and not (self.min_inclusive and self.max_inclusive)):
                raise ValueError(f"empty interval {self.describe()}")
        return self

    def contains(self, x: Decimal) -> bool:
        if self.min is not None and (x < self.min or (x == self.min and not self.min_inclusive)):
            return False
        return not (self.max is not None and (x > self.max or (x == self.max and not self.max_inclusive)))

    def is_below(self, x: Decimal) -> bool:
        """The whole interval lies under x."""
        return self.max is not None and (x > self.max or (x == self.max and not self.max_inclusive))

    def is_above(self, x: Decimal) -> bool:
        """The whole interval lies over x."""
        return self.min is not None and (x < self.min or (x == self.min and not self.min_inclusive))

    def overlaps(self, other: Interval) -> bool:
        lo_self = (self.min, self.min_inclusive)
        lo_other = (other.min, other.min_inclusive)
        # Compare the higher lower bound with the lower upper bound.
        lo = _max_low(lo_self, lo_other)
        hi = _min_high((self.max, self.max_inclusive), (other.max, other.max_inclusive))
        if lo[0] is None or hi[0] is None:
            return True
        if lo[0] < hi[0]:
            return True
        return lo[0] == hi[0] and lo[1] and hi[1]

    def describe(self) -> str:
        left = "(-inf" if self.min is None else ("[" if self.min_inclusive else "(") + str(self.min)
        right = "+inf)" if self.max is None else str(self.max) + ("]" if self.max_inclusive else ")")
        return f"{left}, {right}"


def _max_low(a: tuple[Decimal | None, bool], b: tuple[Decimal | None, bool]) -> tuple[Decimal | None, bool]:
    if a[0] is None:
        return b
    if b[0] is None:
        return a
    if a[0] != b[0]:
        return a if a[0] > b[0] else b
    return (a[0], a[1] and b[1])


def _min_high(a: tuple[Decimal | None, bool], b: tuple[Decimal | None, bool]) -> tuple[Decimal | None, bool]:
    if a[0] is None:
        return b
    if b[0] is None:
        return a
    if a[0] != b[0]:
        return a if a[0] < b[0] else b
    return (a[0], a[1] and b[1])


class StepRow(FrozenModel):
    """One row: any of `intervals` maps to `value` (a score, a bucket value or a meta)."""

    intervals: list[Interval] = Field(min_length=1)
    value: MeasureDecimal
    label: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _single_interval(cls, data: Any) -> Any:
        if isinstance(data, dict) and "interval" in data:
            data = dict(data)
            data["intervals"] = [data.pop("interval")]
        return data

    def contains(self, x: Decimal) -> bool:
        return any(i.contains(x) for i in self.intervals)

    def describe(self) -> str:
        ranges = " or ".join(i.describe() for i in self.intervals)
        text = f"{ranges} -> {self.value}"
        return f"{text} ({self.label})" if self.label else text


@dataclass(frozen=True)
class RowHit:
    """Which row a lookup used, and how (direct hit or a gap resolved by policy)."""

    index: int
    row: StepRow
    via_gap: GapPolicy | None = None

    def describe(self) -> str:
        suffix = f" [gap resolved by policy {self.via_gap}]" if self.via_gap else ""
        return f"row {self.index + 1}: {self.row.describe()}{suffix}"


class TableLookupError(ValueError):
    """A value fell in no row of a table whose gap policy is `error`."""


class StepTable(FrozenModel):
    rows: list[StepRow] = Field(min_length=1)
    gap: GapPolicy = "error"

    @cached_property
    def _scan(self) -> tuple[tuple[int, StepRow, Decimal | None, bool, Decimal | None, bool, Decimal], ...]:
        """Every interval in lookup order as (row index, row, min, min exclusive, max, max exclusive, the row's
        value rounded to 2 places half up), built once per table."""
        return tuple(
            (index, row, iv.min, not iv.min_inclusive, iv.max, not iv.max_inclusive, q2(row.value))
            for index, row in enumerate(self.rows)
            for iv in row.intervals
        )

    def lookup(self, x: Decimal) -> RowHit:
        index, row, via_gap, _ = self.find(x)
        return RowHit(index, row, via_gap)

    def find(self, x: Decimal) -> tuple[int, StepRow, GapPolicy | None, Decimal]:
        """`lookup` as a plain tuple for the engine's fast path: (row index, row, the gap policy used or None, the
        row's value rounded to 2 places half up)."""
        for index, row, low, low_open, high, high_open, rounded in self._scan:  # Interval.contains, written out
            if low is not None and (x < low or (low_open and x == low)):
                continue
            if high is not None and (x > high or (high_open and x == high)):
                continue
            return index, row, None, rounded
        if self.gap == "row_below":
            below = [(i, r, iv) for i, r in enumerate(self.rows) for iv in r.intervals if iv.is_below(x)]
            if below:
                i, r, _ = max(below, key=lambda t: t[2].max if t[2].max is not None else x)
                return i, r, "row_below", q2(r.value)
        elif self.gap == "row_above":
            above = [(i, r, iv) for i, r in enumerate(self.rows) for iv in r.intervals if iv.is_above(x)]
            if above:
                i, r, _ = min(above, key=lambda t: t[2].min if t[2].min is not None else x)
                return i, r, "row_above", q2(r.value)
        raise TableLookupError(f"{x} falls in no row of the table (gap policy {self.gap})")

    def overlaps(self) -> list[str]:
        problems: list[str] = []
        flat = [(i, iv) for i, r in enumerate(self.rows) for iv in r.intervals]
        for a in range(len(flat)):
            for b in range(a + 1, len(flat)):
                (ia, iva), (ib, ivb) = flat[a], flat[b]
                if ia != ib and iva.overlaps(ivb):
                    problems.append(f"rows {ia + 1} {iva.describe()} and {ib + 1} {ivb.describe()} overlap")
        return problems


class DelayBand(FrozenModel):
    """Calendar days late in [days_min, days_max] (days_max null = no limit) score `score`."""

    days_min: Annotated[int, Whole] = Field(ge=0)
    days_max: Annotated[int, Whole] | None = None
    score: ScoreDecimal = Field(ge=0, le=100)
    label: str | None = None

    def contains(self, days: int) -> bool:
        return days >= self.days_min and (self.days_max is None or days <= self.days_max)

    def describe(self) -> str:
        span = f"{self.days_min}+" if self.days_max is None else f"{self.days_min}-{self.days_max}"
        return f"{span} days late -> {self.score}"

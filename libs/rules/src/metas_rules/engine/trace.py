"""Explanation traces: every score carries the steps a person can follow by hand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

Status = Literal["scored", "missing", "not_scorable", "set_aside", "pending"]


def _text(value: object) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


@dataclass(frozen=True, slots=True)
class Step:
    """One step: what was done, the formula, the values plugged in, the outcome, the table row.

    Values are kept as given and turned into text only when read (cheap to build in bulk).
    """

    description: str
    formula: str | None = None
    raw_values: tuple[tuple[str, object], ...] = ()
    raw_result: object | None = None
    table_row: str | None = None

    @property
    def values(self) -> dict[str, str]:
        return {k: _text(v) for k, v in self.raw_values}

    @property
    def result(self) -> str | None:
        return None if self.raw_result is None else _text(self.raw_result)

    def to_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "formula": self.formula,
            "values": self.values,
            "result": self.result,
            "table_row": self.table_row,
        }


class Trace:
    """Mutable builder of steps used while one score is computed."""

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps: list[Step] = []

    def add(
        self,
        description: str,
        *,
        formula: str | None = None,
        values: Mapping[str, object] | None = None,
        result: object | None = None,
        table_row: str | None = None,
    ) -> None:
        self.steps.append(Step(description, formula, tuple(values.items()) if values else (), result, table_row))


@dataclass(frozen=True, slots=True)
class Score:
    """A score on the internal scale (0–100; QUAR rates may reach the ceiling, e.g. 125).

    `native` is the value on the rule's printed scale (e.g. 9.47 on 0–10 for 94.70 internal).
    """

    code: str
    status: Status
    value: Decimal | None = None
    native: Decimal | None = None
    scale: int = 100
    rule_kind: str | None = None
    steps: tuple[Step, ...] = ()
    reason: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())

    @property
    def scored(self) -> bool:
        return self.status == "scored" and self.value is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "status": self.status,
            "value": None if self.value is None else _text(self.value),
            "native": None if self.native is None else _text(self.native),
            "scale": self.scale,
            "rule_kind": self.rule_kind,
            "reason": self.reason,
            "extra": dict(self.extra),
            "steps": [s.to_dict() for s in self.steps],
        }


class ScoringError(ValueError):
    """An input makes a score impossible (reported as status `not_scorable`, never raised out)."""

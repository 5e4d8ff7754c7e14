"""Explanation traces: every score carries the steps a person can follow by hand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal

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


_tuple_new = tuple.__new__


class Record(tuple):
    """An immutable result record whose explanation steps may be built on demand.

    Stored as a plain tuple (built with one ``tuple.__new__``, several times cheaper than a frozen dataclass) of the
    public fields in ``_fields`` order and, when the steps field is ``None``, the recipe that builds the steps when
    they are read: a function and its arguments. Reads, equality, hashing and ``repr`` behave as the
    frozen dataclass of the public fields would: a result whose steps are built on demand equals the same result
    with its steps recorded. Subclasses name their fields and the index of ``steps``.
    """

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _steps_at = 0

    def _public(self) -> tuple[object, ...]:
        """The public fields, steps built."""
        values = list(self[: len(self._fields)])
        values[self._steps_at] = self._steps()
        return tuple(values)

    def _steps(self) -> tuple[Step, ...]:
        steps: tuple[Step, ...] | None = self[self._steps_at]
        if steps is not None:
            return steps
        explain, *args = self[len(self._fields) :]
        built: tuple[Step, ...] = explain(*args)
        return built

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._public() == other._public()

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self._public())

    def __lt__(self, other: object) -> bool:
        return NotImplemented

    __le__ = __gt__ = __ge__ = __lt__

    def __getnewargs__(self) -> tuple[object, ...]:
        return self._public()

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in zip(self._fields, self._public(), strict=True))
        return f"{type(self).__name__}({shown})"


class Score(Record):
    """A score on the internal scale (0–100; QUAR rates may reach the ceiling, e.g. 125).

    `native` is the value on the rule's printed scale (e.g. 9.47 on 0–10 for 94.70 internal). `steps` is the
    explanation; the engine records how to build it and builds it when it is read (`Score.lazy`).
    """

    __slots__ = ()
    _fields = ("code", "status", "value", "native", "scale", "rule_kind", "steps", "reason", "extra")
    _steps_at = 6

    def __new__(
        cls,
        code: str,
        status: Status,
        value: Decimal | None = None,
        native: Decimal | None = None,
        scale: int = 100,
        rule_kind: str | None = None,
        steps: tuple[Step, ...] = (),
        reason: str | None = None,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> Score:
        return _tuple_new(cls, (code, status, value, native, scale, rule_kind, steps, reason, extra))

    @classmethod
    def lazy(
        cls,
        code: str,
        value: Decimal,
        native: Decimal,
        scale: int,
        rule_kind: str,
        explain: tuple[Any, ...],
    ) -> Score:
        """A scored result whose steps are `explain[0](*explain[1:])`, called each time they are read.

        The recipe must depend only on immutable inputs, so that the steps built later are the ones of this score.
        """
        return _tuple_new(cls, (code, "scored", value, native, scale, rule_kind, None, None, (), *explain))

    if TYPE_CHECKING:
        code: str
        status: Status
        value: Decimal | None
        native: Decimal | None
        scale: int
        rule_kind: str | None
        reason: str | None
        extra: tuple[tuple[str, str], ...]
    else:
        code = property(itemgetter(0), doc="the item's code")
        status = property(itemgetter(1), doc="scored, missing, not_scorable, set_aside or pending")
        value = property(itemgetter(2), doc="the score on the internal 0–100 scale")
        native = property(itemgetter(3), doc="the score on the rule's printed scale")
        scale = property(itemgetter(4), doc="the rule's printed scale")
        rule_kind = property(itemgetter(5), doc="the rule's kind")
        reason = property(itemgetter(7), doc="why there is no score")
        extra = property(itemgetter(8), doc="extra named texts (QUAR deviations)")

    @property
    def steps(self) -> tuple[Step, ...]:
        """The explanation, built on first read when the engine recorded only how to build it."""
        return self._steps()

    @property
    def scored(self) -> bool:
        return self[1] == "scored" and self[2] is not None

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

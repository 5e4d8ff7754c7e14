"""The number grammar of rule parameters: the kit's grammar (``metas_kit.numbers``) restated here, because the rules
library depends on nothing first-party (docs/architecture.md). tests/rules/test_rule_numbers.py checks that both
grammars are the same pattern for the same kind.

A rule decimal (a table bound or row value, a threshold's scores, a weight, a target) is plain ASCII text: an
optional ``-`` where the kind is signed, 1..N digits, optionally ``.`` and 1..F digits. No ``+``, exponent,
NaN/Infinity, underscore, non-ASCII digit or surrounding whitespace, and no leading zeros (``05``) that the
``Decimal`` would drop: what is accepted is dumped back exactly as sent. JSON integers are accepted; JSON numbers
with a fraction are refused (a parser hands them over as binary floats, the digits as sent are lost). Python
callers may pass a ``Decimal`` whose text is on the grammar. A refusal is a ``ValueError``, so pydantic reports it
with the field's path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema


@dataclass(frozen=True)
class RuleNumberKind:
    name: str
    int_digits: int
    frac_digits: int
    signed: bool

    @property
    def pattern(self) -> str:
        sign = "-?" if self.signed else ""
        return rf"^{sign}[0-9]{{1,{self.int_digits}}}(\.[0-9]{{1,{self.frac_digits}}})?$"

    @property
    def max_length(self) -> int:
        return int(self.signed) + self.int_digits + 1 + self.frac_digits

    def describe(self) -> str:
        sign = "an optional '-', " if self.signed else ""
        return (
            f"a plain decimal: {sign}1 to {self.int_digits} ASCII digits, optionally '.' and 1 to "
            f"{self.frac_digits} digits"
        )


# Scores and percentages (0–100 and a little beyond): the kit's `score` kind.
SCORE = RuleNumberKind("score", 4, 2, signed=False)
# Table bounds, table values (a bucket, a meta), weights, targets: the kit's `measure` kind.
MEASURE = RuleNumberKind("measure", 10, 6, signed=True)


def rule_decimal(value: object, kind: RuleNumberKind) -> Decimal:
    """The ``Decimal`` of a rule parameter on the grammar of ``kind``; ``ValueError`` saying why otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"expected {kind.describe()} as a string; got a boolean")
    if isinstance(value, float):
        raise ValueError(
            'send decimals as JSON strings (e.g. "12.50"): a JSON number with a fraction or exponent loses the '
            "digits as sent"
        )
    if isinstance(value, int | Decimal):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise ValueError(f"expected {kind.describe()} as a string; got {type(value).__name__}")
    # Length first: the regex never sees a megabyte of digits. ([0-9] is ASCII by itself: no re.ASCII needed.)
    if len(text) > kind.max_length or not re.fullmatch(kind.pattern, text):
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise ValueError(f"expected {kind.describe()}; got {shown!r}")
    number = Decimal(text)
    if str(number) != text:
        raise ValueError(f"write {number} without leading zeros (decimals are kept exactly as sent)")
    return number


def _score(value: Any) -> Decimal:
    return rule_decimal(value, SCORE)


def _measure(value: Any) -> Decimal:
    return rule_decimal(value, MEASURE)


# The JSON schemas are plain data built once at import (module level, so nothing here runs per request).
_IN_SCHEMA: dict[RuleNumberKind, WithJsonSchema] = {}
_OUT_SCHEMA: dict[RuleNumberKind, WithJsonSchema] = {}
for _kind in (SCORE, MEASURE):
    _limit = 10**_kind.int_digits - 1
    _IN_SCHEMA[_kind] = WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _kind.pattern, "maxLength": _kind.max_length},
                {"type": "integer", "minimum": -_limit if _kind.signed else 0, "maximum": _limit},
            ],
            "description": f"{_kind.name}: {_kind.describe()}; kept exactly as sent.",
        },
        mode="validation",
    )
    _OUT_SCHEMA[_kind] = WithJsonSchema({"type": "string", "pattern": _kind.pattern}, mode="serialization")

# Field types of the rule models: the value is a Decimal, dumped to JSON as the text it was given.
ScoreDecimal = Annotated[Decimal, BeforeValidator(_score), _IN_SCHEMA[SCORE], _OUT_SCHEMA[SCORE]]
MeasureDecimal = Annotated[Decimal, BeforeValidator(_measure), _IN_SCHEMA[MEASURE], _OUT_SCHEMA[MEASURE]]


def _whole(value: Any) -> Any:
    """A whole-number parameter (a scale, days late) is a JSON integer: no float (``10.0``), text or boolean."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number as a JSON integer; got {type(value).__name__}")
    return value


Whole = BeforeValidator(_whole)

"""One grammar for every decimal the API accepts (registrations, imports, budget amounts, simulations, plan
documents).

A decimal is plain ASCII text: an optional ``-`` (only where the field's kind is signed), 1 to N digits, and
optionally a ``.`` followed by 1 to F digits — N and F bounded per kind (below). Nothing else: no ``+``, no
exponent, no NaN/Infinity, no underscores, no non-ASCII digits (Arabic-Indic ``١٢٣``, full-width ``１２３``), no
surrounding whitespace, no ``.5`` or ``5.``. Text that does not match is refused naming the field; text that
matches is kept exactly as sent (the string is stored; the Decimal is derived from it when computing).

JSON numbers: an integer is accepted (its digits are the text as sent, e.g. ``5`` → ``"5"``); a number with a
fraction or an exponent is refused, because JSON parsers hand it over as a binary float and the digits as sent
(``12.50``) are gone — send it as a string (``"12.50"``). Booleans are not numbers.

The bounds make arithmetic on valid values safe under Python's default Decimal context (28 significant digits):
the largest product of two measures (10^10 × 10^10), a quotient by the smallest non-zero measure (10^10 / 10^-6)
times 100, or a sum of a million amounts, quantised to 0.000001, stays within 28 digits — so ``quantize`` never
raises ``InvalidOperation`` (tests/kit/test_kit_numbers.py checks it with hypothesis).

YAML documents (plan files, seeds) have the same problem as JSON floats: ``12.50`` becomes the float 12.5. Load them
with ``load_yaml``, which keeps every YAML float as the text written, so the grammar sees the digits as sent.

This module is pure (standard library, pydantic and PyYAML; no HTTP or SQL): domain code may import it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

import yaml
from pydantic import BeforeValidator, WithJsonSchema


@dataclass(frozen=True)
class NumberKind:
    name: str
    int_digits: int
    frac_digits: int
    signed: bool

    @property
    def pattern(self) -> str:
        sign = "-?" if self.signed else ""
        frac = rf"(\.[0-9]{{1,{self.frac_digits}}})?" if self.frac_digits else ""
        return rf"^{sign}[0-9]{{1,{self.int_digits}}}{frac}$"

    @property
    def max_length(self) -> int:
        return int(self.signed) + self.int_digits + (1 + self.frac_digits if self.frac_digits else 0)

    @property
    def limit(self) -> int:
        """Largest integer (in magnitude) a JSON integer may carry for this kind."""
        return 10**self.int_digits - 1

    def describe(self) -> str:
        sign = "an optional '-', " if self.signed else ""
        frac = f", optionally '.' and 1 to {self.frac_digits} digits" if self.frac_digits else " (a whole number)"
        return f"a plain decimal: {sign}1 to {self.int_digits} ASCII digits{frac}"


# EUR amounts: 13 integer digits (below 10 trillion) and cents; the budget columns are Numeric(16, 2).
MONEY = NumberKind("money", 13, 2, signed=False)
SIGNED_MONEY = NumberKind("signed money", 13, 2, signed=True)
# Scores and percentages of the scoring rules: 0–100 and beyond for over-achievement, 2 places (docs/domain.md §1).
SCORE = NumberKind("score", 4, 2, signed=False)
# Registered values: counts, ratios' numerators and denominators, percentages, quantities, deviations.
MEASURE = NumberKind("measure", 10, 6, signed=True)
# Whole counts (deliveries, people, documents).
COUNT = NumberKind("count", 10, 0, signed=False)
# Rates as fractions (VAT 0.23); the budget column is Numeric(6, 4).
RATE = NumberKind("rate", 1, 4, signed=False)

KINDS = (MONEY, SIGNED_MONEY, SCORE, MEASURE, COUNT, RATE)
_COMPILED = {kind: re.compile(kind.pattern, re.ASCII) for kind in KINDS}


class InvalidNumber(ValueError):
    """A value outside the grammar; ``field`` names where it was (set by the caller), ``reason`` says why."""

    def __init__(self, reason: str, field: str = "") -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.reason = reason
        self.field = field


def _regex(kind: NumberKind) -> re.Pattern[str]:
    compiled = _COMPILED.get(kind)
    if compiled is None:  # a kind made by a caller: compile once per call, still the same grammar
        compiled = re.compile(kind.pattern, re.ASCII)
    return compiled


def decimal_text(value: object, kind: NumberKind, field: str = "") -> str:
    """The text of a valid decimal of ``kind`` exactly as sent, or ``InvalidNumber``.

    ``value`` is what a JSON parser produced: a string, or an int for a JSON integer."""
    if isinstance(value, bool):
        raise InvalidNumber(f"expected {kind.describe()} as a string; got a boolean", field)
    if isinstance(value, int):
        if abs(value) > kind.limit or (value < 0 and not kind.signed):
            raise InvalidNumber(f"expected {kind.describe()}; {_short(value)} is out of range", field)
        return str(value)
    if isinstance(value, float):
        raise InvalidNumber(
            'send decimals as JSON strings (e.g. "12.50"): a JSON number with a fraction or exponent loses the '
            "digits as sent",
            field,
        )
    if not isinstance(value, str):
        raise InvalidNumber(f"expected {kind.describe()} as a string; got {type(value).__name__}", field)
    # Length first: the regex never sees a megabyte of digits.
    if len(value) > kind.max_length or not _regex(kind).fullmatch(value):
        raise InvalidNumber(f"expected {kind.describe()}; got {_short(value)}", field)
    return value


def parse_decimal(value: object, kind: NumberKind, field: str = "") -> Decimal:
    """``Decimal`` of a valid decimal of ``kind`` (see ``decimal_text``); raises ``InvalidNumber``."""
    return Decimal(decimal_text(value, kind, field))


def to_decimal(text: str) -> Decimal:
    """The Decimal of a stored, already validated text (never raises for grammar-valid text)."""
    return Decimal(text)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _validator(kind: NumberKind) -> BeforeValidator:
    def check(value: Any) -> str:
        return decimal_text(value, kind)

    return BeforeValidator(check)


def _schema(kind: NumberKind) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": kind.pattern, "maxLength": kind.max_length},
                {"type": "integer", "minimum": -kind.limit if kind.signed else 0, "maximum": kind.limit},
            ],
            "description": f"{kind.name}: {kind.describe()}; kept exactly as sent.",
        },
        mode="validation",
    )


def _out_schema(kind: NumberKind) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": kind.pattern}, mode="serialization")


def decimal_type(kind: NumberKind) -> Any:
    """A pydantic field type: accepts a grammar-valid string (or JSON integer) of ``kind``, holds the text."""
    return Annotated[str, _validator(kind), _schema(kind), _out_schema(kind)]


# Field types (the value is the text as sent; ``to_decimal(value)`` to compute).
Money = Annotated[str, _validator(MONEY), _schema(MONEY), _out_schema(MONEY)]
SignedMoney = Annotated[str, _validator(SIGNED_MONEY), _schema(SIGNED_MONEY), _out_schema(SIGNED_MONEY)]
Score = Annotated[str, _validator(SCORE), _schema(SCORE), _out_schema(SCORE)]
Measure = Annotated[str, _validator(MEASURE), _schema(MEASURE), _out_schema(MEASURE)]
Count = Annotated[str, _validator(COUNT), _schema(COUNT), _out_schema(COUNT)]
Rate = Annotated[str, _validator(RATE), _schema(RATE), _out_schema(RATE)]


class _ExactLoader(yaml.SafeLoader):
    """SafeLoader that keeps floats as their source text (``12.50`` → ``"12.50"``, ``1e3`` → ``"1e3"``)."""


def _float_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
    return str(loader.construct_scalar(node))  # type: ignore[arg-type]


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _float_as_text)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` with every float kept as the text written (then checked by the grammar where used)."""
    return yaml.load(text, Loader=_ExactLoader)

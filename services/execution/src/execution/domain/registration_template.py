"""The registration template's rows: which cells a row of each item kind has, and how the cells a person filled in
become a registration payload — every bad cell named, not only the first (docs/api/execution.md, "Registration
template").

Cells arrive as a spreadsheet library hands them over (``None``, text, ``int``, ``float``, ``bool``, a date or
datetime), so numbers are read by one rule:

* a text cell must be in the number grammar exactly (``metas_kit.numbers``: ``12.5``, not ``12,5`` nor `` 12.5``);
* an integer cell is its digits;
* a number cell holds a binary double: its text is the shortest decimal that reads back as the same double
  (Python's ``repr``; for a number typed with at most 15 significant digits that is the number typed, without
  trailing zeros) written without an exponent, and then the grammar applies — a computed ``0.30000000000000004``
  has more than 6 decimals and is refused, never rounded;
* booleans, dates and formulas are not numbers.

Pure: standard library and the kit's number grammar only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as default
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from execution.domain.registrations import EVIDENCE_MAX_ITEMS, EVIDENCE_MAX_LENGTH, NOTE_MAX, ItemKind
from metas_kit.numbers import MEASURE, InvalidNumber, decimal_text

TEMPLATE_FORMAT = "metas-registration-template/1"
COMPLETENESS = ("none", "partial", "full")
_HUNDRED = Decimal(100)
_VALUE_PLACES = Decimal("0.000001")


class Field(StrEnum):
    """An input column of the template (the payload key it fills)."""

    VALUE = "value"
    NUMERATOR = "numerator"
    DENOMINATOR = "denominator"
    CUMULATIVE_PERCENT = "cumulative_percent"
    COMPLETENESS = "completeness"
    DELIVERED_ON = "delivered_on"
    EVIDENCE = "evidence"
    JUSTIFICATION = "justification"  # not in the payload: why a value deviates from the target
    NOTE = "note"


# The input columns of each kind's sheet, in order; the first is where "the row needs a value" is reported.
INPUTS: Mapping[ItemKind, tuple[Field, ...]] = {
    ItemKind.INDICATOR: (Field.VALUE, Field.NUMERATOR, Field.DENOMINATOR, Field.JUSTIFICATION, Field.NOTE),
    ItemKind.INITIATIVE: (Field.CUMULATIVE_PERCENT, Field.NOTE),
    ItemKind.PRODUCT: (Field.COMPLETENESS, Field.DELIVERED_ON, Field.EVIDENCE, Field.NOTE),
}
NUMBER_FIELDS = frozenset({Field.VALUE, Field.NUMERATOR, Field.DENOMINATOR, Field.CUMULATIVE_PERCENT})


@dataclass(frozen=True, slots=True)
class Cell:
    """One input cell as read: its value, and whether it held a formula (whose value is then not trusted)."""

    value: object = None
    formula: bool = False

    @property
    def empty(self) -> bool:
        return not self.formula and (self.value is None or (isinstance(self.value, str) and not self.value.strip()))


@dataclass(frozen=True, slots=True)
class CellProblem:
    """``field`` None: the row itself (its item, period or state), reported on the row's code cell."""

    field: Field | None
    code: str
    detail: str
    args: dict[str, str] = default(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RowReading:
    payload: dict[str, Any] | None  # None: the row was left empty, or has problems
    problems: list[CellProblem]
    filled: bool
    justification: str | None = None


def shown(value: object, limit: int = 60) -> str:
    """A cell's content as a person would recognise it in a message."""
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, datetime | date | time):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def number_text(value: object) -> str:
    """The decimal text of a number cell (see the module's rule); raises ``InvalidNumber``."""
    if isinstance(value, bool):
        raise InvalidNumber("a true/false cell is not a number")
    if isinstance(value, datetime | date | time):
        raise InvalidNumber("a date is not a number")
    if isinstance(value, float):
        try:
            exact = Decimal(repr(value))
        except InvalidOperation as exc:  # pragma: no cover - repr of a float is always a Decimal literal
            raise InvalidNumber(f"{value!r} is not a number") from exc
        if not exact.is_finite():
            raise InvalidNumber(f"{value!r} is not a finite number")
        text = format(exact, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")  # repr's "12.0" is the whole number 12
        return decimal_text(text, MEASURE)
    return decimal_text(value, MEASURE)


def _number(cells: Mapping[Field, Cell], key: Field, problems: list[CellProblem]) -> Decimal | None:
    cell = cells.get(key, Cell())
    if cell.empty or cell.formula:
        return None
    try:
        text = number_text(cell.value)
    except InvalidNumber as exc:
        problems.append(CellProblem(key, "number_grammar", exc.reason, {"value": shown(cell.value)}))
        return None
    return Decimal(text)


def _text(cell: Cell) -> str:
    value = cell.value
    if isinstance(value, float):
        try:
            return number_text(value)
        except InvalidNumber:
            return repr(value)
    return shown(value, limit=10**6).strip()


def _date(cell: Cell) -> date | None:
    value = cell.value
    if isinstance(value, datetime):
        return value.date() if value.time() == time(0) else None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            try:
                return date.fromisoformat(text)
            except ValueError:
                return None
    return None


def read_row(kind: ItemKind, cells: Mapping[Field, Cell], completeness_labels: Mapping[str, str]) -> RowReading:
    """The payload of one row's input cells, or every problem of its cells.

    ``completeness_labels`` maps what a person may write in the completeness cell (lower-cased: the codes and
    their labels in the template's languages) to the code."""
    columns = INPUTS[kind]
    filled = [f for f in columns if not cells.get(f, Cell()).empty]
    if not filled:
        return RowReading(None, [], False)
    problems: list[CellProblem] = [
        CellProblem(f, "formula", "formulas are not read: type the value itself")
        for f in columns
        if cells.get(f, Cell()).formula
    ]
    note = _free_text(cells, Field.NOTE, problems)
    justification = _free_text(cells, Field.JUSTIFICATION, problems)
    payload: dict[str, Any]
    if kind is ItemKind.INDICATOR:
        payload = _indicator(cells, problems)
    elif kind is ItemKind.INITIATIVE:
        payload = _initiative(cells, problems)
    else:
        payload = _product(cells, problems, completeness_labels)
    if problems:
        return RowReading(None, problems, True)
    payload["note"] = note
    return RowReading(payload, [], True, justification)


def _free_text(cells: Mapping[Field, Cell], key: Field, problems: list[CellProblem]) -> str | None:
    cell = cells.get(key, Cell())
    if cell.empty or cell.formula:
        return None
    text = _text(cell)
    if len(text) > NOTE_MAX:
        problems.append(CellProblem(key, "text_too_long", f"at most {NOTE_MAX} characters", {"max": str(NOTE_MAX)}))
    elif "\x00" in text:
        problems.append(CellProblem(key, "invalid_text", "the text holds a NUL character"))
    return text


def _given(cells: Mapping[Field, Cell], key: Field) -> bool:
    return not cells.get(key, Cell()).empty


def _indicator(cells: Mapping[Field, Cell], problems: list[CellProblem]) -> dict[str, Any]:
    value = _number(cells, Field.VALUE, problems)
    numerator = _number(cells, Field.NUMERATOR, problems)
    denominator = _number(cells, Field.DENOMINATOR, problems)
    has_value = _given(cells, Field.VALUE)
    has_ratio = _given(cells, Field.NUMERATOR) or _given(cells, Field.DENOMINATOR)
    if has_value and has_ratio:
        problems.append(CellProblem(Field.VALUE, "value_or_ratio", "give a value or a numerator and denominator"))
        return {}
    if not has_value and not has_ratio:
        problems.append(CellProblem(Field.VALUE, "value_missing", "the row needs a value"))
        return {}
    if has_value:
        return {"value": _payload_text(cells, Field.VALUE)} if value is not None else {}
    for key in (Field.NUMERATOR, Field.DENOMINATOR):
        if not _given(cells, key):
            problems.append(CellProblem(key, "ratio_incomplete", "the numerator and the denominator go together"))
    if numerator is None or denominator is None:
        return {}
    if denominator == 0:
        problems.append(CellProblem(Field.DENOMINATOR, "zero_denominator", "the denominator must not be zero"))
        return {}
    ratio = (numerator / denominator).quantize(_VALUE_PLACES, rounding=ROUND_HALF_UP)
    try:
        decimal_text(format(ratio, "f"), MEASURE)
    except InvalidNumber:
        problems.append(CellProblem(Field.NUMERATOR, "ratio_out_of_range", "numerator / denominator is too large"))
        return {}
    return {"numerator": _payload_text(cells, Field.NUMERATOR), "denominator": _payload_text(cells, Field.DENOMINATOR)}


def _payload_text(cells: Mapping[Field, Cell], key: Field) -> str:
    return number_text(cells[key].value)  # already checked by _number


def _initiative(cells: Mapping[Field, Cell], problems: list[CellProblem]) -> dict[str, Any]:
    if not _given(cells, Field.CUMULATIVE_PERCENT):
        problems.append(CellProblem(Field.CUMULATIVE_PERCENT, "value_missing", "the row needs a value"))
        return {}
    share = _number(cells, Field.CUMULATIVE_PERCENT, problems)
    if share is None:
        return {}
    if not Decimal(0) <= share <= _HUNDRED:
        problems.append(
            CellProblem(
                Field.CUMULATIVE_PERCENT,
                "out_of_range",
                "a percentage is between 0 and 100",
                {"value": shown(cells[Field.CUMULATIVE_PERCENT].value)},
            )
        )
        return {}
    return {"cumulative_percent": _payload_text(cells, Field.CUMULATIVE_PERCENT)}


def _product(
    cells: Mapping[Field, Cell], problems: list[CellProblem], completeness_labels: Mapping[str, str]
) -> dict[str, Any]:
    completeness: str | None = None
    cell = cells.get(Field.COMPLETENESS, Cell())
    if cell.empty:
        problems.append(CellProblem(Field.COMPLETENESS, "completeness_missing", "say whether it was delivered"))
    elif not cell.formula:
        completeness = completeness_labels.get(_text(cell).lower())
        if completeness is None:
            problems.append(
                CellProblem(
                    Field.COMPLETENESS,
                    "completeness_unknown",
                    "not one of the listed choices",
                    {"value": shown(cell.value)},
                )
            )
    delivered: date | None = None
    cell = cells.get(Field.DELIVERED_ON, Cell())
    if not cell.empty and not cell.formula:
        delivered = _date(cell)
        if delivered is None:
            problems.append(
                CellProblem(Field.DELIVERED_ON, "date_invalid", "not a date (YYYY-MM-DD)", {"value": shown(cell.value)})
            )
    evidence: list[str] = []
    cell = cells.get(Field.EVIDENCE, Cell())
    if not cell.empty and not cell.formula:
        evidence = [line.strip() for line in _text(cell).splitlines() if line.strip()]
        if len(evidence) > EVIDENCE_MAX_ITEMS or any(len(e) > EVIDENCE_MAX_LENGTH for e in evidence):
            problems.append(
                CellProblem(
                    Field.EVIDENCE,
                    "evidence_too_long",
                    f"at most {EVIDENCE_MAX_ITEMS} references of {EVIDENCE_MAX_LENGTH} characters",
                    {"max_items": str(EVIDENCE_MAX_ITEMS), "max_length": str(EVIDENCE_MAX_LENGTH)},
                )
            )
    if completeness == "none" and delivered is not None:
        problems.append(CellProblem(Field.DELIVERED_ON, "date_needs_delivery", "a date needs a delivery"))
    if completeness in ("partial", "full"):
        if delivered is None and _date_missing(cells):
            problems.append(CellProblem(Field.DELIVERED_ON, "delivery_needs_date", "a delivery needs its date"))
        if not evidence and _given_or_formula(cells, Field.EVIDENCE) is False:
            problems.append(CellProblem(Field.EVIDENCE, "delivery_needs_evidence", "a delivery needs evidence"))
    return {
        "completeness": completeness,
        "delivered_on": delivered.isoformat() if delivered else None,
        "evidence": evidence,
    }


def _date_missing(cells: Mapping[Field, Cell]) -> bool:
    return cells.get(Field.DELIVERED_ON, Cell()).empty  # a bad date was already reported on its cell


def _given_or_formula(cells: Mapping[Field, Cell], key: Field) -> bool:
    return not cells.get(key, Cell()).empty

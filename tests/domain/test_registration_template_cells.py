"""How the registration template reads a cell (execution.domain.registration_template): the documented rule for
numbers from XLSX cells, and every bad cell of a row named, not only the first."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from execution.domain.registration_template import Cell, Field, number_text, read_row
from execution.domain.registrations import ItemKind
from metas_kit.numbers import InvalidNumber

LABELS = {"none": "none", "partial": "partial", "full": "full", "entregue": "full"}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (7, "7"),  # an integer cell: its digits
        (12.5, "12.5"),  # a number cell: the shortest decimal of the double
        (12.0, "12"),  # repr "12.0" is the whole number 12
        (-0.25, "-0.25"),
        (1e9, "1000000000"),  # repr "1000000000.0"
        (0.000001, "0.000001"),  # repr "1e-06", written without the exponent
        (9999999999.999998, "9999999999.999998"),  # 16 significant digits, exactly 10 + 6
        ("0012.500", "0012.500"),  # a text cell: exactly as typed
    ],
)
def test_numbers_read_by_the_documented_rule(value: object, text: str) -> None:
    assert number_text(value) == text


@pytest.mark.parametrize(
    "value",
    [
        1 / 3,  # 0.3333333333333333: 16 decimals, refused, never rounded
        1e-7,  # 0.0000001: 7 decimals
        1e10,  # 10000000000: 11 integer digits
        "12,5",  # a decimal comma in a text cell
        " 5",  # surrounding space
        "1e3",  # an exponent
        "１２",  # full-width digits
        True,  # a true/false cell
        datetime(2014, 2, 1),  # a date where a number is expected
        float("nan"),
    ],
)
def test_cells_outside_the_grammar_are_refused(value: object) -> None:
    with pytest.raises(InvalidNumber):
        number_text(value)


def test_every_bad_cell_of_a_row_is_named() -> None:
    reading = read_row(
        ItemKind.INDICATOR,
        {Field.NUMERATOR: Cell("5,0"), Field.DENOMINATOR: Cell("=A1", formula=True), Field.NOTE: Cell("x")},
        LABELS,
    )
    assert [(p.field, p.code) for p in reading.problems] == [
        (Field.DENOMINATOR, "formula"),
        (Field.NUMERATOR, "number_grammar"),
    ]
    assert reading.payload is None
    assert reading.filled


def test_a_right_row_is_its_payload_and_an_empty_row_is_not_sent() -> None:
    ratio = read_row(ItemKind.INDICATOR, {Field.NUMERATOR: Cell(3), Field.DENOMINATOR: Cell(4.0)}, LABELS)
    assert ratio.payload == {"numerator": "3", "denominator": "4", "note": None}
    empty = read_row(ItemKind.INDICATOR, {Field.VALUE: Cell("  "), Field.NOTE: Cell(None)}, LABELS)
    assert (empty.payload, empty.problems, empty.filled) == (None, [], False)
    product = read_row(
        ItemKind.PRODUCT,
        {
            Field.COMPLETENESS: Cell("Entregue"),
            Field.DELIVERED_ON: Cell(datetime(2014, 11, 28)),
            Field.EVIDENCE: Cell("SEI 1\n\n SEI 2 "),
        },
        LABELS,
    )
    assert product.payload == {
        "completeness": "full",
        "delivered_on": date(2014, 11, 28).isoformat(),
        "evidence": ["SEI 1", "SEI 2"],
        "note": None,
    }


def test_product_and_initiative_rules_name_their_cells() -> None:
    none_dated = read_row(
        ItemKind.PRODUCT, {Field.COMPLETENESS: Cell("none"), Field.DELIVERED_ON: Cell("2014-13-01")}, LABELS
    )
    assert [(p.field, p.code) for p in none_dated.problems] == [(Field.DELIVERED_ON, "date_invalid")]
    unknown = read_row(ItemKind.PRODUCT, {Field.COMPLETENESS: Cell("talvez")}, LABELS)
    assert [(p.field, p.code) for p in unknown.problems] == [(Field.COMPLETENESS, "completeness_unknown")]
    # 100 is the edge of a percentage (accepted), 100.000001 beyond it.
    assert read_row(ItemKind.INITIATIVE, {Field.CUMULATIVE_PERCENT: Cell(100)}, LABELS).payload == {
        "cumulative_percent": "100",
        "note": None,
    }
    over = read_row(ItemKind.INITIATIVE, {Field.CUMULATIVE_PERCENT: Cell("100.000001")}, LABELS)
    assert [(p.field, p.code) for p in over.problems] == [(Field.CUMULATIVE_PERCENT, "out_of_range")]

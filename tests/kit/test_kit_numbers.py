"""The one decimal grammar: accepted exactly as sent, or refused naming the field; never an exception other than
the grammar's own, and arithmetic on accepted values never raises."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from metas_kit.numbers import (
    COUNT,
    KINDS,
    MEASURE,
    MONEY,
    RATE,
    SCORE,
    SIGNED_MONEY,
    Count,
    InvalidNumber,
    Measure,
    Money,
    NumberKind,
    decimal_text,
    parse_decimal,
)


class Body(BaseModel):
    amount: Money
    value: Measure
    n: Count | None = None


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        (MONEY, "0"),
        (MONEY, "1230.00"),
        (MONEY, "1230.5"),
        (MONEY, "9999999999999.99"),  # 13 + 2 digits
        (MONEY, "007"),  # leading zeros are digits like any other, kept as sent
        (SIGNED_MONEY, "-12.30"),
        (SCORE, "100.00"),
        (MEASURE, "-0.000001"),
        (MEASURE, "9999999999.999999"),
        (COUNT, "42"),
        (RATE, "0.23"),
    ],
)
def test_grammar_valid_text_is_kept_exactly_as_sent(kind: NumberKind, text: str) -> None:
    assert decimal_text(text, kind, "f") == text
    assert parse_decimal(text, kind) == Decimal(text)


@pytest.mark.parametrize(
    "bad",
    [
        "1e30",
        "1E+999999999999",
        "1e-999999",
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "1_000",
        "١٢٣",  # Arabic-Indic digits
        "１２３",  # full-width digits
        " 5",
        "5 ",
        " 5 \n",
        "5\n",
        "+5",
        ".5",
        "5.",
        "",
        "-",
        "1.2.3",
        "0x10",
        "1" * 4000,
        "12345678901234",  # 14 integer digits
        "1.001",  # 3 places for money
        "-1",  # money is unsigned
    ],
)
def test_anything_else_is_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidNumber) as info:
        decimal_text(bad, MONEY, "amount")
    assert info.value.field == "amount"
    assert str(info.value).startswith("amount: ")
    assert len(str(info.value)) < 300  # a 4,000-digit value is not echoed back whole


def test_json_numbers_integers_in_floats_out() -> None:
    assert decimal_text(5, MONEY) == "5"
    assert decimal_text(-5, SIGNED_MONEY) == "-5"
    with pytest.raises(InvalidNumber, match="as JSON strings"):
        decimal_text(12.5, MONEY)
    with pytest.raises(InvalidNumber, match="out of range"):
        decimal_text(10**13, MONEY)
    with pytest.raises(InvalidNumber, match="out of range"):
        decimal_text(-1, MONEY)
    with pytest.raises(InvalidNumber, match="boolean"):
        decimal_text(True, COUNT)
    with pytest.raises(InvalidNumber, match="got list"):
        decimal_text(["1"], COUNT)


def test_pydantic_types_keep_the_text_and_report_the_path() -> None:
    body = Body.model_validate_json('{"amount": "1230.50", "value": -3, "n": "7"}')
    assert body.amount == "1230.50"  # not "1230.5"
    assert body.value == "-3"
    assert body.n == "7"
    with pytest.raises(ValidationError) as info:
        Body.model_validate_json('{"amount": "1e3", "value": "１２３"}')
    paths = sorted(e["loc"] for e in info.value.errors())
    assert paths == [("amount",), ("value",)]
    schema = Body.model_json_schema()
    assert schema["properties"]["amount"]["anyOf"][0]["pattern"] == MONEY.pattern
    assert schema["properties"]["amount"]["anyOf"][1]["maximum"] == 10**13 - 1


def _valid(kind: NumberKind) -> st.SearchStrategy[str]:
    ints = st.text("0123456789", min_size=1, max_size=kind.int_digits)
    fracs = st.text("0123456789", min_size=1, max_size=kind.frac_digits) if kind.frac_digits else st.just("")
    signs = st.sampled_from(["", "-"]) if kind.signed else st.just("")
    return st.builds(lambda s, i, f: s + i + ("." + f if f else ""), signs, ints, fracs)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.none(), st.booleans()))
def test_any_input_is_accepted_exactly_or_refused_with_the_grammars_error(value: Any) -> None:
    for kind in KINDS:
        try:
            text = decimal_text(value, kind, "x")
        except InvalidNumber:
            continue
        assert text == (value if isinstance(value, str) else str(value))
        assert Decimal(text).is_finite()


@settings(max_examples=300, deadline=None)
@given(_valid(MEASURE), _valid(MEASURE))
def test_arithmetic_on_two_measures_never_raises(a_text: str, b_text: str) -> None:
    a, b = Decimal(a_text), Decimal(b_text)
    places = Decimal("0.000001")
    (a * b).quantize(places, rounding=ROUND_HALF_UP)
    (a + b).quantize(places, rounding=ROUND_HALF_UP)
    if b:
        (a / b * 100).quantize(places, rounding=ROUND_HALF_UP)


def test_the_extremes_of_the_bounds_compute() -> None:
    largest, smallest = Decimal("9999999999.999999"), Decimal("0.000001")
    places = Decimal("0.000001")
    (largest * largest).quantize(places)
    (largest / smallest * 100).quantize(places)
    (-largest / smallest * 100).quantize(places)
    money = Decimal("9999999999999.99")
    (money * 1_000_000).quantize(Decimal("0.01"))  # a million maximal amounts summed
    (money / Decimal("1.0001")).quantize(Decimal("0.01"))  # a net from a gross at the largest rate


@settings(max_examples=200, deadline=None)
@given(_valid(MONEY))
def test_every_valid_money_text_round_trips(text: str) -> None:
    assert decimal_text(text, MONEY) == text
    assert Body.model_validate({"amount": text, "value": "0"}).amount == text


def test_yaml_floats_keep_the_digits_written() -> None:
    from metas_kit.numbers import load_yaml

    doc = load_yaml("meta: 12.50\nweight: 0.70\ncount: 3\nbig: 1e3\nodd: .nan\nname: DS\n")
    assert doc == {"meta": "12.50", "weight": "0.70", "count": 3, "big": "1e3", "odd": ".nan", "name": "DS"}
    assert decimal_text(doc["meta"], MEASURE) == "12.50"
    assert decimal_text(doc["count"], COUNT) == "3"
    for refused in ("big", "odd"):
        with pytest.raises(InvalidNumber):
            decimal_text(doc[refused], MEASURE)

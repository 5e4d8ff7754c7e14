"""Money and the VAT split of budget.domain.money, worked by hand from docs/domain.md §1 and §5."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from budget.domain.money import (
    DEFAULT_VAT_RATE,
    Basis,
    MoneyError,
    format_money,
    parse_money,
    parse_vat_rate,
    q2,
    ratio,
    split,
    split_gross,
    split_net,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.675", "2.68"), ("2.665", "2.67"), ("-2.675", "-2.68"), ("2.674", "2.67"), ("3", "3.00")],
)
def test_q2_rounds_half_up(value: str, expected: str) -> None:
    assert str(q2(D(value))) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [("10", "10.00"), ("10.1", "10.10"), ("10.10", "10.10"), (" 7.25 ", "7.25"), (5, "5.00"), (D("1.5"), "1.50")],
)
def test_parse_money_accepts(given: object, expected: str) -> None:
    assert str(parse_money(given)) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("10.100", "amount has more than 2 decimal places: '10.100'"),
        (1.5, "amount must be a decimal string, not float"),
        (True, "amount must be a decimal string, not bool"),
        ("abc", "amount is not a decimal number: 'abc'"),
        ("NaN", "amount must be a finite number"),
        ("Infinity", "amount must be a finite number"),
        (None, "amount must be a decimal string"),
        ("-1", "amount must not be negative: '-1'"),
        (10**14, "amount is too large (at most 14 digits before the decimal point)"),
    ],
)
def test_parse_money_refuses(given: object, message: str) -> None:
    with pytest.raises(MoneyError) as err:
        parse_money(given)
    assert str(err.value) == message
    assert err.value.field == "amount"


def test_parse_money_bounds_and_field_names() -> None:
    assert parse_money("99999999999999.99") == D("99999999999999.99")
    assert parse_money("-1", allow_negative=True) == D("-1.00")
    assert parse_money("0") == D("0.00")
    with pytest.raises(MoneyError, match="too large"):
        parse_money(-(10**14), allow_negative=True)
    with pytest.raises(MoneyError) as err:
        parse_money("x", "net")
    assert (str(err.value), err.value.field) == ("net is not a decimal number: 'x'", "net")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("0.23", "0.23"),
        ("0.2300", "0.23"),
        ("0.10", "0.1"),
        ("0", "0"),
        ("0.00", "0"),
        ("0.1234", "0.1234"),
        ("0.9999", "0.9999"),
    ],
)
def test_parse_vat_rate_accepts(given: str, expected: str) -> None:
    assert str(parse_vat_rate(given)) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("1", "vat_rate must be a fraction in [0, 1), e.g. 0.23"),
        ("-0.01", "vat_rate must be a fraction in [0, 1), e.g. 0.23"),
        ("0.12345", "vat_rate has more than 4 decimal places"),
        ("x", "vat_rate is not a decimal number: 'x'"),
    ],
)
def test_parse_vat_rate_refuses(given: str, message: str) -> None:
    with pytest.raises(MoneyError) as err:
        parse_vat_rate(given)
    assert (str(err.value), err.value.field) == (message, "vat_rate")


def test_money_error_names_the_amount_by_default() -> None:
    assert MoneyError("bad").field == "amount"
    assert MoneyError("bad", "gross").field == "gross"


def test_format_money() -> None:
    assert format_money(D("3")) == "3.00"
    assert format_money(D("2.675")) == "2.68"


def test_split_gross_first() -> None:
    # 1 230.00 / 1.23 = 1 000.00; VAT = 1 230.00 − 1 000.00 = 230.00
    s = split_gross(D("1230.00"))
    assert (s.gross, s.net, s.vat, s.rate) == (D("1230.00"), D("1000.00"), D("230.00"), DEFAULT_VAT_RATE)
    # 100 / 1.23 = 81.3008… → 81.30; VAT = 18.70 (net + VAT reproduces the printed gross)
    s = split_gross(D(100))
    assert (str(s.gross), str(s.net), str(s.vat)) == ("100.00", "81.30", "18.70")
    # 1.005 rounds to 1.01 first; 1.01 / 1.23 = 0.8211… → 0.82; VAT 0.19
    s = split_gross(D("1.005"))
    assert (str(s.gross), str(s.net), str(s.vat)) == ("1.01", "0.82", "0.19")
    # no VAT: everything is net
    assert split_gross(D("12.30"), D(0)).vat == D("0.00")
    # 6 %: 106 / 1.06 = 100
    assert split_gross(D(106), D("0.06")).net == D("100.00")


def test_split_net_first() -> None:
    # 10.05 × 0.23 = 2.3115 → 2.31; gross 12.36
    s = split_net(D("10.05"))
    assert (str(s.net), str(s.vat), str(s.gross), s.rate) == ("10.05", "2.31", "12.36", D("0.23"))
    # 81.30 × 0.23 = 18.699 → 18.70; gross 100.00
    assert split_net(D("81.30")).gross == D("100.00")
    # 0.5 × 0.23 = 0.115 → 0.12 (half up)
    assert split_net(D("0.5")).vat == D("0.12")


def test_split_dispatches_on_the_basis() -> None:
    assert split(D(100)) == split_gross(D(100))
    assert split(D(100), D("0.06"), Basis.NET) == split_net(D(100), D("0.06"))
    assert split(D(100), basis=Basis.NET).gross == D("123.00")
    assert split(D(123), basis=Basis.GROSS).net == D("100.00")
    assert split(D(106), D("0.06")).net == D("100.00")  # the line's own rate, gross first
    assert (Basis("gross"), Basis("net")) == (Basis.GROSS, Basis.NET)


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [("50", "200", "25.00"), ("1", "3", "33.33"), ("2", "3", "66.67"), ("-1", "8", "-12.50"), ("1", "32", "3.13")],
)
def test_ratio(num: str, den: str, expected: str) -> None:
    assert str(ratio(D(num), D(den))) == expected


def test_ratio_of_nothing_planned_is_undefined() -> None:
    assert ratio(D(5), D(0)) is None

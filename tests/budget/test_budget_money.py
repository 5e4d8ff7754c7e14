from decimal import Decimal

import pytest

from budget.domain.money import (
    MoneyError,
    format_money,
    parse_money,
    parse_vat_rate,
    q2,
    ratio,
    split_gross,
    split_net,
)


def test_round_half_up_not_bankers() -> None:
    # 0.125 -> 0.13 (half up); banker's rounding would give 0.12
    assert q2(Decimal("0.125")) == Decimal("0.13")
    assert q2(Decimal("2.675")) == Decimal("2.68")
    assert q2(Decimal("-0.125")) == Decimal("-0.13")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10", "10.00"), ("10.5", "10.50"), ("1611717.22", "1611717.22"), (419443, "419443.00"), ("0", "0.00")],
)
def test_parse_money_accepts_up_to_two_places(text: object, expected: str) -> None:
    assert format_money(parse_money(text)) == expected


@pytest.mark.parametrize(
    "bad", ["10.001", "10.100", "1e-3", "abc", "NaN", "Infinity", "", 10.5, True, None, "1e30", "100000000000000"]
)
def test_parse_money_refuses(bad: object) -> None:
    with pytest.raises(MoneyError):
        parse_money(bad)


def test_largest_storable_amount() -> None:
    # NUMERIC(16, 2): 14 digits before the point
    assert parse_money("99999999999999.99") == Decimal("99999999999999.99")


def test_negative_refused_unless_allowed() -> None:
    with pytest.raises(MoneyError, match="negative"):
        parse_money("-1.00")
    assert parse_money("-1.00", allow_negative=True) == Decimal("-1.00")


def test_split_gross_default_rate() -> None:
    # 1230.00 / 1.23 = 1000.00 exactly -> VAT 230.00
    s = split_gross(Decimal("1230.00"))
    assert (s.net, s.vat, s.rate) == (Decimal("1000.00"), Decimal("230.00"), Decimal("0.23"))
    # 100.00 / 1.23 = 81.3008... -> net 81.30, VAT = 100.00 - 81.30 = 18.70
    s = split_gross(Decimal("100.00"))
    assert (s.net, s.vat) == (Decimal("81.30"), Decimal("18.70"))


def test_split_gross_seed_line_keeps_printed_gross() -> None:
    # Anexo 5 D.02.02.05.01 of DA3110501: 224.866 EUR with VAT.
    # 224866 / 1.23: 1.23 x 182817 = 224864.91, remainder 1.09 / 1.23 = 0.886 -> net 182817.89
    s = split_gross(Decimal("224866"))
    assert s.net == Decimal("182817.89")
    assert s.vat == Decimal("224866.00") - Decimal("182817.89") == Decimal("42048.11")
    assert s.net + s.vat == s.gross == Decimal("224866.00")


def test_split_gross_half_up_boundary() -> None:
    # 0.05 / 1.23 = 0.04065 -> 0.04; 0.07 / 1.23 = 0.0569 -> 0.06 (half up on the third place)
    assert split_gross(Decimal("0.05")).net == Decimal("0.04")
    assert split_gross(Decimal("0.07")).net == Decimal("0.06")
    assert split_gross(Decimal("0.07")).vat == Decimal("0.01")


def test_split_with_line_override_rate() -> None:
    # 6 % reduced rate: 106.00 / 1.06 = 100.00
    s = split_gross(Decimal("106.00"), Decimal("0.06"))
    assert (s.net, s.vat) == (Decimal("100.00"), Decimal("6.00"))
    # exempt line
    s = split_gross(Decimal("50.00"), Decimal("0"))
    assert (s.net, s.vat) == (Decimal("50.00"), Decimal("0.00"))


def test_split_net_first() -> None:
    # net 81.30 x 0.23 = 18.699 -> 18.70; gross 100.00
    s = split_net(Decimal("81.30"))
    assert (s.vat, s.gross) == (Decimal("18.70"), Decimal("100.00"))
    # net 0.50 x 0.23 = 0.115 -> 0.12 (half up)
    assert split_net(Decimal("0.50")).vat == Decimal("0.12")


@pytest.mark.parametrize("bad", ["-0.01", "1", "1.5", "0.23001", "x"])
def test_vat_rate_refused(bad: str) -> None:
    with pytest.raises(MoneyError):
        parse_vat_rate(bad)


def test_ratio() -> None:
    # 1 / 3 = 33.333.. % -> 33.33 ; 2 / 3 = 66.666.. % -> 66.67
    assert ratio(Decimal(1), Decimal(3)) == Decimal("33.33")
    assert ratio(Decimal(2), Decimal(3)) == Decimal("66.67")
    assert ratio(Decimal(1), Decimal(0)) is None

"""Money in EUR: exact decimals with 2 places, and the net/VAT split.

Rounding rule (documented in docs/api/budget.md):
- Amounts are never rounded on input: more than 2 decimal places is an error.
- Figures printed in the PRR tables include VAT ("valores com IVA"), so the split is *gross-first*:
  ``net = round_half_up(gross / (1 + rate), 2)`` and ``vat = gross - net``. The printed gross is
  therefore always reproduced exactly (net + vat == gross).
- When a line is entered net of VAT (*net-first*): ``vat = round_half_up(net * rate, 2)`` and
  ``gross = net + vat``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
DEFAULT_VAT_RATE = Decimal("0.23")
# NUMERIC(16, 2): anything from 10^14 EUR up cannot be stored (and is no PRR amount).
MAX_AMOUNT = Decimal(10) ** 14
MAX_VAT_RATE_PLACES = 4


class MoneyError(ValueError):
    """An amount or rate that cannot be accepted; ``field`` names the offending input."""

    def __init__(self, message: str, field: str = "amount") -> None:
        super().__init__(message)
        self.field = field


def q2(value: Decimal) -> Decimal:
    """Round half up to cents (docs/domain.md §1); never Python's banker's ``round``."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _to_decimal(value: object, field: str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        # floats cannot carry exact cents; bools are ints in Python but never money.
        raise MoneyError(f"{field} must be a decimal string, not {type(value).__name__}", field)
    if isinstance(value, Decimal):
        dec = value
    elif isinstance(value, int):
        dec = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            dec = Decimal(text)
        except InvalidOperation as exc:
            raise MoneyError(f"{field} is not a decimal number: {value!r}", field) from exc
    else:
        raise MoneyError(f"{field} must be a decimal string", field)
    if not dec.is_finite():
        raise MoneyError(f"{field} must be a finite number", field)
    return dec


def parse_money(value: object, field: str = "amount", *, allow_negative: bool = False) -> Decimal:
    """Exact EUR amount with at most 2 decimal places, returned with exactly 2 places."""
    dec = _to_decimal(value, field)
    exponent = dec.as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked above
    if exponent < -2:  # strict: "10.100" is refused too, the API format is <= 2 places
        raise MoneyError(f"{field} has more than 2 decimal places: {value!r}", field)
    if dec < 0 and not allow_negative:
        raise MoneyError(f"{field} must not be negative: {value!r}", field)
    if abs(dec) >= MAX_AMOUNT:
        raise MoneyError(f"{field} is too large (at most 14 digits before the decimal point)", field)
    return dec.quantize(CENT)


def parse_vat_rate(value: object, field: str = "vat_rate") -> Decimal:
    """A VAT rate as a fraction (0.23 for 23 %), 0 <= rate < 1, at most 4 decimal places."""
    dec = _to_decimal(value, field)
    exponent = dec.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < -MAX_VAT_RATE_PLACES:
        raise MoneyError(f"{field} has more than {MAX_VAT_RATE_PLACES} decimal places", field)
    if dec < 0 or dec >= 1:
        raise MoneyError(f"{field} must be a fraction in [0, 1), e.g. 0.23", field)
    return dec.normalize() if dec != 0 else Decimal("0")


def format_money(value: Decimal) -> str:
    """Decimal string with exactly 2 places (the API's money format)."""
    return str(q2(value))


class Basis(StrEnum):
    """Whether an entered amount includes VAT (gross) or not (net)."""

    GROSS = "gross"
    NET = "net"


@dataclass(frozen=True, slots=True)
class VatSplit:
    gross: Decimal
    net: Decimal
    vat: Decimal
    rate: Decimal


def split_gross(gross: Decimal, rate: Decimal = DEFAULT_VAT_RATE) -> VatSplit:
    """Gross-first split: net = round_half_up(gross / (1 + rate)), vat = gross - net."""
    gross = q2(gross)
    net = q2(gross / (1 + rate))
    return VatSplit(gross=gross, net=net, vat=gross - net, rate=rate)


def split_net(net: Decimal, rate: Decimal = DEFAULT_VAT_RATE) -> VatSplit:
    """Net-first: vat = round_half_up(net * rate), gross = net + vat."""
    net = q2(net)
    vat = q2(net * rate)
    return VatSplit(gross=net + vat, net=net, vat=vat, rate=rate)


def split(amount: Decimal, rate: Decimal = DEFAULT_VAT_RATE, basis: Basis = Basis.GROSS) -> VatSplit:
    return split_gross(amount, rate) if basis is Basis.GROSS else split_net(amount, rate)


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    """numerator / denominator as a percentage with 2 places (half up); None when undefined."""
    if denominator == 0:
        return None
    return q2(numerator * 100 / denominator)

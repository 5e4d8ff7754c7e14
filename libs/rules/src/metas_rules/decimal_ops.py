"""Decimal helpers: every score is kept to 2 places, rounded half up (docs/domain.md §1)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0")
ONE = Decimal("1")
TEN = Decimal("10")
HUNDRED = Decimal("100")
# The bounds of a score, at the 2 places every score keeps: a score pushed to a bound still reads "0.00" / "100.00".
SCORE_FLOOR = Decimal("0.00")
SCORE_CEILING = Decimal("100.00")


def q2(value: Decimal) -> Decimal:
    """Round to 2 decimal places, half up (never Python's banker's round()).

    An infinite value stays infinite: a lower-is-better execution of meta / 0 is unbeatable, not an error.
    """
    try:
        return value.quantize(CENT, ROUND_HALF_UP)
    except InvalidOperation:  # an infinite value (quantize refuses it); anything else is raised again
        if value.is_infinite():
            return value
        raise


def clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    """Keep value within [low, high]."""
    if value < low:
        return low
    if value > high:
        return high
    return value


def dec(value: Decimal | int | str) -> Decimal:
    """Build a Decimal from an int, str or Decimal (floats are refused on purpose).

    A Decimal passes through: `Decimal(d)` of a `Decimal` returns `d` itself (the C implementation CPython uses).
    """
    if isinstance(value, float):  # pragma: no cover - defensive, mypy forbids it
        raise TypeError("floats are not accepted; pass a string or Decimal")
    return Decimal(value)

"""What the budget pages compute from the API's answers (pure): the eixo × year bars, and money as a person types
it in their language turned into the API's exact two-decimal text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

# The bars' drawing: a label column, the longest bar, room for the printed figure after a bar.
LABEL_WIDTH = 56
BAR_WIDTH = 420
BAR_HEIGHT = 14
ROW_GAP = 10


@dataclass(frozen=True)
class Bar:
    year: int
    planned: Decimal
    executed: Decimal
    rate: str | None
    planned_width: int
    executed_width: int
    y: int


@dataclass(frozen=True)
class EixoBars:
    eixo: int
    name: str
    bars: tuple[Bar, ...]
    height: int


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _width(value: Decimal, largest: Decimal) -> int:
    if largest <= 0 or value <= 0:
        return 0
    return max(1, int(value * BAR_WIDTH / largest))


def eixo_bars(rows: list[dict[str, Any]], names: dict[int, str]) -> list[EixoBars]:
    """One group per eixo, a planned and an executed bar per year, all on one scale (the largest figure) so
    that eixos compare; `rows` are the report's rows grouped by eixo and year."""
    largest = max([_money(r.get(k)) for r in rows for k in ("planned", "executed")] or [Decimal(0)])
    by_eixo: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_eixo.setdefault(int(row["eixo"]), []).append(row)
    out = []
    step = 2 * BAR_HEIGHT + ROW_GAP
    for eixo in sorted(by_eixo):
        years = sorted(by_eixo[eixo], key=lambda r: int(r["year"]))
        bars = tuple(
            Bar(
                year=int(r["year"]),
                planned=_money(r.get("planned")),
                executed=_money(r.get("executed")),
                rate=r.get("execution_rate_pct"),
                planned_width=_width(_money(r.get("planned")), largest),
                executed_width=_width(_money(r.get("executed")), largest),
                y=i * step,
            )
            for i, r in enumerate(years)
        )
        out.append(EixoBars(eixo, names.get(eixo, ""), bars, height=len(bars) * step))
    return out


# Money as typed: Portuguese groups thousands with a space (or a dot) and marks decimals with a comma;
# English groups with a comma and marks decimals with a point. The API's own form ("1230.50") is accepted in both.
_PLAIN = re.compile(r"^-?\d+\.\d{2}$")
_PT = re.compile(r"^-?(\d{1,3}([ .\u00a0\u202f]\d{3})+|\d+)(,\d+)?$")
_EN = re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


def typed_money(text: str, lang: str) -> str:
    """`1 230,50` / `1.230,50` (pt) or `1,230.50` (en) as the API's `1230.50`, digit for digit (never rounded,
    never padded: `1 230,5` becomes `1230.5`, which the API refuses, naming the field); anything else as typed."""
    text = text.strip()
    if _PLAIN.match(text):
        return text
    if lang.startswith("pt") and _PT.match(text):
        return re.sub(r"[ .\u00a0\u202f]", "", text).replace(",", ".")
    if lang == "en" and _EN.match(text):
        return text.replace(",", "")
    return text

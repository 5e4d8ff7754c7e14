"""The trend chart of an indicator as plain geometry for an inline SVG: the registered value of each month against
the meta and its tolerance band. Server-side only (no script, nothing loaded); the template draws it and prints
the same figures in a table beside it.

Pixel positions are floats: they place marks, they are never shown as figures (the figures stay decimal text)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from console.scorecard import dec

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 36


@dataclass(frozen=True)
class Point:
    period: str
    value: str | None  # as registered (decimal text), None when the month has no value
    x: float
    y: float | None


@dataclass
class Chart:
    width: int
    height: int
    points: list[Point]
    ticks: list[tuple[str, float]]  # (value as decimal text, y)
    months: list[tuple[str, float]]  # (period, x)
    meta: str | None = None
    meta_y: float | None = None
    band: tuple[str, str] | None = None  # (low, high) as decimal text
    band_y: tuple[float, float] | None = None  # (top y, bottom y)
    plot: tuple[int, int, int, int] = (LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM)
    segments: list[list[Point]] = field(default_factory=list)  # runs of consecutive months with a value

    @property
    def polylines(self) -> list[str]:
        return [" ".join(f"{p.x:.1f},{p.y:.1f}" for p in run) for run in self.segments if len(run) > 1]


def value_of(payload: dict[str, Any] | None) -> Decimal | None:
    """The figure a registration states: its value, or numerator / denominator × multiplier."""
    if not payload:
        return None
    if payload.get("value") is not None:
        return dec(payload["value"])
    numerator, denominator = dec(payload.get("numerator")), dec(payload.get("denominator"))
    if numerator is None or not denominator:
        return None
    return numerator / denominator * (dec(payload.get("multiplier")) or Decimal(1))


def _nice_step(span: Decimal) -> Decimal:
    """A step of 1, 2 or 5 × 10^n giving about five ticks over `span`."""
    raw = span / 5
    exponent = raw.adjusted()
    base = Decimal(10) ** exponent
    for factor in (1, 2, 5, 10):
        if raw <= base * factor:
            return base * factor
    return base * 10  # pragma: no cover - the loop ends at 10


def build(
    periods: list[str], values: dict[str, Decimal | None], meta: Any, tolerance: Any, *, places: int = 2
) -> Chart:
    """`values`: period → figure (None or absent when not registered); `meta`/`tolerance` as in the plan."""
    meta_d, tol_d = dec(meta), dec(tolerance)
    shown = [v for v in values.values() if v is not None]
    extremes = list(shown)
    if meta_d is not None:
        extremes.append(meta_d)
        if tol_d:
            extremes += [meta_d - tol_d, meta_d + tol_d]
    low = min(extremes, default=Decimal(0))
    high = max(extremes, default=Decimal(100))
    if low == high:
        low, high = low - (abs(low) or 1), high + (abs(high) or 1)
    step = _nice_step(high - low)
    low = (low / step).to_integral_value(rounding="ROUND_FLOOR") * step
    high = (high / step).to_integral_value(rounding="ROUND_CEILING") * step
    if high == max(extremes, default=high):
        high += step  # headroom: a line at the top edge of the plot would be hard to see
    x0, y0, x1, y1 = LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM

    def y_of(v: Decimal) -> float:
        return float(y1 - (v - low) / (high - low) * (y1 - y0))

    def x_of(i: int) -> float:
        return x0 + (i + 0.5) * (x1 - x0) / max(len(periods), 1)

    quantum = Decimal(1).scaleb(-places)
    points = []
    for i, period in enumerate(periods):
        v = values.get(period)
        exponent = None if v is None else v.as_tuple().exponent
        long = isinstance(exponent, int) and exponent < -places
        text = None if v is None else format(v.quantize(quantum) if long else v, "f")
        points.append(Point(period, text, x_of(i), None if v is None else y_of(v)))
    ticks = []
    tick = low
    while tick <= high:
        ticks.append((format(tick.normalize(), "f"), y_of(tick)))
        tick += step
    chart = Chart(WIDTH, HEIGHT, points, ticks, [(p, x_of(i)) for i, p in enumerate(periods)])
    if meta_d is not None:
        chart.meta, chart.meta_y = format(meta_d, "f"), y_of(meta_d)
        if tol_d:
            chart.band = (format(meta_d - tol_d, "f"), format(meta_d + tol_d, "f"))
            chart.band_y = (y_of(meta_d + tol_d), y_of(meta_d - tol_d))
    run: list[Point] = []
    for p in points:
        if p.y is None:
            if run:
                chart.segments.append(run)
            run = []
        else:
            run.append(p)
    if run:
        chart.segments.append(run)
    return chart

"""QUAR / SIADAP 1 (docs/domain.md §3): realization rates, objective/parameter/final rates,
Superou / Atingiu / Não atingiu, relevant objectives and the final mention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from metas_rules.decimal_ops import HUNDRED, ZERO, q2
from metas_rules.engine.mentions import DEFAULT_LABELS_VERSION, label
from metas_rules.engine.trace import Trace
from metas_rules.rules import Polarity

Band = Literal["above", "within", "below"]
Classification = Literal["exceeded", "achieved", "not_achieved"]
Mention = Literal["good", "satisfactory", "insufficient"]


def quar_rate(
    r: Decimal,
    m: Decimal,
    t: Decimal,
    vc: Decimal,
    polarity: Polarity,
    *,
    ceiling: Decimal = Decimal("125"),
    below_band: Literal["band_edge", "meta"] = "band_edge",
    trace: Trace | None = None,
) -> tuple[Decimal, Band]:
    """Realization rate in % (2 places, half up) and where R sits against the band [M−T, M+T]."""
    tr = trace  # None: the same numbers, nothing recorded
    low, high = m - t, m + t
    values = {"R": r, "M": m, "T": t, "VC": vc} if tr is not None else None
    if polarity == "higher_is_better":
        if r >= vc:
            if tr is not None:
                tr.add("R ≥ VC: the ceiling", formula=f"rate = {ceiling}", values=values, result=ceiling)
            return q2(ceiling), "above"
        if r > high:
            bonus = ceiling - 100
            raw = 100 + bonus * (r - high) / (vc - high)
            if tr is not None:
                tr.add(
                    "M+T < R < VC: above the band (Superou)",
                    formula=f"rate = 100 + {bonus} × (R − (M+T)) / (VC − (M+T))",
                    values=values,
                    result=q2(raw),
                )
            return q2(raw), "above"
        if r >= low:
            if tr is not None:
                tr.add(
                    "M−T ≤ R ≤ M+T: within the band (Atingiu)", formula="rate = 100", values=values, result=Decimal(100)
                )
            return q2(HUNDRED), "within"
        div, formula = (low, "R / (M−T) × 100") if below_band == "band_edge" else (m, "R / M × 100")
        raw = r / div * HUNDRED
        if tr is not None:
            tr.add("R < M−T: below the band (Não atingiu)", formula=f"rate = {formula}", values=values, result=q2(raw))
        return q2(raw), "below"
    if r <= vc:
        if tr is not None:
            tr.add("R ≤ VC: the ceiling (lower is better)", formula=f"rate = {ceiling}", values=values, result=ceiling)
        return q2(ceiling), "above"
    if r < low:
        bonus = ceiling - 100
        raw = 100 + bonus * (low - r) / (low - vc)
        if tr is not None:
            tr.add(
                "VC < R < M−T: above the band (Superou, lower is better)",
                formula=f"rate = 100 + {bonus} × ((M−T) − R) / ((M−T) − VC)",
                values=values,
                result=q2(raw),
            )
        return q2(raw), "above"
    if r <= high:
        if tr is not None:
            tr.add("M−T ≤ R ≤ M+T: within the band (Atingiu)", formula="rate = 100", values=values, result=Decimal(100))
        return q2(HUNDRED), "within"
    num, formula = (high, "(M+T) / R × 100") if below_band == "band_edge" else (m, "M / R × 100")
    raw = num / r * HUNDRED
    if tr is not None:
        tr.add(
            "R > M+T: below the band (Não atingiu, lower is better)",
            formula=f"rate = {formula}",
            values=values,
            result=q2(raw),
        )
    return q2(raw), "below"


def deviation_percent(r: Decimal, m: Decimal) -> Decimal | None:
    """Desvio as (R − M) / M, in % (2 places); None when M is 0."""
    return None if m == 0 else q2((r - m) / m * HUNDRED)


def classify(rate: Decimal) -> Classification:
    """Superou above 100 %, Atingiu at exactly 100 %, Não atingiu below."""
    if rate > HUNDRED:
        return "exceeded"
    if rate == HUNDRED:
        return "achieved"
    return "not_achieved"


@dataclass(frozen=True, slots=True)
class WeightedRate:
    rate: Decimal
    steps: Trace


def weighted_rate(parts: Sequence[tuple[str, Decimal, Decimal]], what: str) -> WeightedRate:
    """Σ weight × rate / Σ weight over (code, weight %, rate %), 2 places half up.

    Weights are percentages summing to 100; dividing by their sum also redistributes the weight of
    parts left out (missing results), which the caller reports as incomplete.
    """
    tr = Trace()
    total_w = sum((w for _, w, _ in parts), ZERO)
    if total_w == 0:
        raise ValueError(f"{what}: no weighted parts")
    raw = sum((w * r for _, w, r in parts), ZERO) / total_w
    rate = q2(raw)
    tr.add(
        f"{what} = Σ weight × rate / Σ weight",
        formula=" + ".join(f"{w}% × {r}" for _, w, r in parts) + f" over {total_w}%",
        values={code: f"{w}% × {r}" for code, w, r in parts},
        result=rate,
    )
    return WeightedRate(rate, tr)


def relevant_objectives(global_weights: Mapping[str, Decimal], threshold_percent: Decimal = Decimal("50")) -> list[str]:
    """Sort by global weight descending; take until the cumulative weight exceeds the threshold
    and at least half of the objectives are taken (ties keep the input order)."""
    ordered = sorted(global_weights.items(), key=lambda kv: -kv[1])
    half = (len(ordered) + 1) // 2
    taken: list[str] = []
    cumulative = ZERO
    for code, weight in ordered:
        if cumulative > threshold_percent and len(taken) >= half:
            break
        taken.append(code)
        cumulative += weight
    return taken


def final_mention(classifications: Mapping[str, Classification], relevant: Sequence[str]) -> tuple[Mention, str]:
    """Art. 18(1): insufficient if a relevant objective is not achieved; good if all achieved and
    some exceeded; otherwise satisfactory. Returns (key, reason)."""
    not_relevant_ok = [c for c in relevant if classifications.get(c) == "not_achieved"]
    if not_relevant_ok:
        return "insufficient", f"relevant objective(s) not achieved: {', '.join(not_relevant_ok)}"
    values = list(classifications.values())
    if all(v != "not_achieved" for v in values):
        if any(v == "exceeded" for v in values):
            return "good", "all objectives achieved and some exceeded"
        return "satisfactory", "all objectives achieved, none exceeded"
    return "satisfactory", "all relevant objectives achieved (some others not achieved)"


def mention_label(key: Mention, version: str = DEFAULT_LABELS_VERSION) -> str:
    return label(key, version)


def classification_label(key: Classification, version: str = DEFAULT_LABELS_VERSION) -> str:
    return label(key, version)

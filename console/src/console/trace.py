"""The scoring engine's explanation steps in the person's language, as far as the trace allows.

The engine writes each step's description in English; the known ones are recognised here and translated, with
their figures kept. Formulas are mathematics and stay as written; a description not recognised is shown as the
engine wrote it, marked as English for screen readers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from console.i18n import N_

Gettext = Callable[..., str]

DESCRIPTIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^ambitious target \((?P<cmp>[^)]*)\): general rule$"), N_("Ambitious meta (%(cmp)s): general rule")),
    (
        re.compile(r"^OBS2: non-ambitious target \((?P<cmp>[^)]*)\).*$"),
        N_("OBS2: meta not ambitious (%(cmp)s): the table of execution against the meta"),
    ),
    (re.compile(r"^OBS1: a negative score is 0; the maximum is 100$"), N_("OBS1: a negative score is 0; at most 100")),
    (
        re.compile(r"^no reference value \(V0\): no-V0 formula, no table$"),
        N_("No reference value (V0): the no-V0 formula, no table"),
    ),
    (re.compile(r"^percentage of execution, rounded to 2 places$"), N_("Percentage of execution, rounded to 2 places")),
    (
        re.compile(r"^look the result \(rounded to 2 places\) up$"),
        N_("Look the result (rounded to 2 places) up in the table"),
    ),
    (re.compile(r"^bound the score to \[0, (?P<max>\d+)\]$"), N_("Bound the score to [0, %(max)s]")),
    (re.compile(r"^R ≥ VC: the ceiling$"), N_("R ≥ VC: the ceiling (Superou)")),
    (re.compile(r"^R ≤ VC: the ceiling \(lower is better\)$"), N_("R ≤ VC: the ceiling (Superou, lower is better)")),
    (re.compile(r"^M\+T < R < VC: above the band \(Superou\)$"), N_("M+T < R < VC: above the band (Superou)")),
    (
        re.compile(r"^VC < R < M−T: above the band \(Superou, lower is better\)$"),
        N_("VC < R < M−T: above the band (Superou, lower is better)"),
    ),
    (
        re.compile(r"^M−T ≤ R ≤ M\+T: within the band \(Atingiu\)$"),
        N_("M−T ≤ R ≤ M+T: within the tolerance band (Atingiu)"),
    ),
    (re.compile(r"^R < M−T: below the band \(Não atingiu\)$"), N_("R < M−T: below the band (Não atingiu)")),
    (
        re.compile(r"^R > M\+T: below the band \(Não atingiu, lower is better\)$"),
        N_("R > M+T: below the band (Não atingiu, lower is better)"),
    ),
    (
        re.compile(r"^final evaluation: no certified result for an owed item, so it scores 0$"),
        N_("Final evaluation: no certified result for an owed item, so it scores 0"),
    ),
    (re.compile(r"^(?P<prefix>.*?)calendar days late$"), N_("%(prefix)sCalendar days late")),
    (re.compile(r"^(?P<prefix>.*?)delay table: days late → score$"), N_("%(prefix)sDelay table: days late → score")),
    (re.compile(r"^(?P<prefix>.*?)not delivered: score 0$"), N_("%(prefix)sNot delivered: score 0")),
    (re.compile(r"^product score from its stages$"), N_("Product score from its stages")),
    (re.compile(r"^threshold: the result must meet the meta$"), N_("Threshold: the result must meet the meta")),
    (re.compile(r"^meta from the reference-index table$"), N_("Meta from the reference-index table")),
    (re.compile(r"^weighted composite, rounded to 2 places$"), N_("Weighted composite, rounded to 2 places")),
    (re.compile(r"^ratio on the 0–(?P<scale>\d+) scale$"), N_("Ratio on the 0–%(scale)s scale")),
    (
        re.compile(r"^convert from the 0–(?P<scale>\d+) scale to the internal 0–100 scale$"),
        N_("Convert from the 0–%(scale)s scale to the internal 0–100 scale"),
    ),
    (re.compile(r"^team grade = Σ\(score × weight\) / Σ weight$"), N_("Team grade = Σ(score × weight) / Σ weight")),
    (
        re.compile(r"^objective (?P<code>\S+) rate = Σ weight × rate / Σ weight$"),
        N_("Rate of objective %(code)s = Σ weight × rate / Σ weight"),
    ),
    (
        re.compile(r"^parameter (?P<code>\S+) rate = Σ weight × rate / Σ weight$"),
        N_("Rate of parameter %(code)s = Σ weight × rate / Σ weight"),
    ),
    (re.compile(r"^final rate = Σ weight × rate / Σ weight$"), N_("Final rate = Σ weight × rate / Σ weight")),
    (re.compile(r"^check: score the solved result forward$"), N_("Check: score the result found")),
    (
        re.compile(r"^productivity = N1 weight × N1 \+ N2 weight × N2$"),
        N_("Productivity = N1 weight × N1 + N2 weight × N2"),
    ),
    (
        re.compile(r"^weights of the goals left out are shared among the others in proportion$"),
        N_("The weights of the goals left out are shared among the others in proportion"),
    ),
    (
        re.compile(r"^effective weight = weight × Σ all weights / Σ remaining weights$"),
        N_("Effective weight = weight × Σ all weights / Σ remaining weights"),
    ),
    (re.compile(r"^no scored goal: no team grade$"), N_("No goal scored: no team grade")),
    (re.compile(r"^invert the QUAR realization rate$"), N_("Invert the QUAR realisation rate")),
    (
        re.compile(r"^invert Σ\(score × weight\) / Σ weight for one goal$"),
        N_("Invert Σ(score × weight) / Σ weight for this goal"),
    ),
    (re.compile(r"^result giving that percentage of execution$"), N_("Result giving that percentage of execution")),
    (
        re.compile(r"^least demanding table row reaching the score$"),
        N_("The least demanding table row reaching the score"),
    ),
]
# Names of figures in a step (`values`); the plan's letters (R, M, T, VC, V0) and item codes stay as they are.
VALUE_NAMES = {
    "result": N_("result"),
    "meta": N_("meta"),
    "due date": N_("due date"),
    "delivered on": N_("delivered on"),
    "days late": N_("days late"),
    "evaluated on": N_("evaluated on"),
    "cut-off": N_("cut-off"),
}


@dataclass(frozen=True)
class ShownStep:
    description: str
    translated: bool  # False: the engine's English text, shown as it is
    formula: str | None
    values: list[tuple[str, Any]]
    result: Any
    table_row: str | None


def describe(description: str, gettext: Gettext) -> tuple[str, bool]:
    for pattern, msgid in DESCRIPTIONS:
        found = pattern.match(description)
        if found:
            return gettext(msgid, **found.groupdict()), True
    return description, False


# A decimal written inside a value's text ("66.67 × 10"), not part of a code ("Ind.1") or a date.
EMBEDDED_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")


def steps(
    raw: list[dict[str, Any]] | None, gettext: Gettext, number: Callable[[str], str] | None = None
) -> list[ShownStep]:
    """`number` writes a decimal in the person's language; it is applied to the decimals inside a value's text
    (a whole-number value is formatted by the page)."""
    out = []
    for step in raw or []:
        text, translated = describe(str(step.get("description") or ""), gettext)
        values = []
        for k, v in (step.get("values") or {}).items():
            if number is not None and isinstance(v, str) and not EMBEDDED_DECIMAL.fullmatch(v):
                v = EMBEDDED_DECIMAL.sub(lambda m: number(m.group(0)), v)
            values.append((gettext(VALUE_NAMES[k]) if k in VALUE_NAMES else k, v))
        out.append(ShownStep(text, translated, step.get("formula"), values, step.get("result"), step.get("table_row")))
    return out

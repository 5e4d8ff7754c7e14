"""Budget amounts: one entry per (breakdown, year, month, phase, position in the structure).

Phases (documented in docs/api/budget.md):
- ``planned``   initial budget / forecast (Tabela 19 "execução prevista", Anexo 5, Anexo 4);
- ``corrected`` budget alterations (reforço / anulação) — the only phase whose amounts may be
  negative: the corrected budget is ``planned + sum(corrected)``;
- ``committed`` commitments (cabimento/compromisso), never negative;
- ``executed``  payments (Tabela 19 "execução" for 2021-2022), never negative.

Breakdowns keep the seed's parallel tables apart so that nothing is counted twice:
``subinvestment`` (Tabela 19: eixo → sub-investment), ``rubric`` (Anexo 5: fund item → economic
rubric) and ``procurement`` (Anexo 4: NPD lines, informative, only what was "a destacar").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from budget.domain.economic_codes import CodeError, CodeTable
from budget.domain.money import (
    DEFAULT_VAT_RATE,
    Basis,
    MoneyError,
    parse_money,
    parse_vat_rate,
    split,
)
from budget.domain.published import ANNEX4_YEAR, ANNEX5_YEAR, TABLE19_YEARS, PublishedBudget

E = TypeVar("E", bound=StrEnum)

FIRST_YEAR, LAST_YEAR = 2021, 2026  # PRR execution period


class Phase(StrEnum):
    PLANNED = "planned"
    CORRECTED = "corrected"
    COMMITTED = "committed"
    EXECUTED = "executed"


NEGATIVE_ALLOWED = frozenset({Phase.CORRECTED})


class Breakdown(StrEnum):
    SUBINVESTMENT = "subinvestment"
    RUBRIC = "rubric"
    PROCUREMENT = "procurement"


class FundingSource(StrEnum):
    """``prr``: net paid by the PRR, VAT by the national budget; ``oe``: all national budget."""

    PRR = "prr"
    OE = "oe"


class AmountError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Structure:
    """What an amount may point at: eixos, sub-investments (both code schemes) and fund items."""

    eixos: frozenset[int]
    subinvestment_eixo: Mapping[str, int]  # Tabela 19 code -> eixo
    annex4_to_table19: Mapping[str, str]
    fund_item_eixo: Mapping[str, int]
    npd_subinvestment: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_published(cls, pb: PublishedBudget) -> Structure:
        return cls(
            eixos=frozenset(e.number for e in pb.funded_eixos),
            subinvestment_eixo={s.code_table19: s.eixo for s in pb.subinvestments},
            annex4_to_table19={s.code_annex4: s.code_table19 for s in pb.subinvestments},
            fund_item_eixo={f.code: f.eixo for f in pb.annex5.fund_items},
            npd_subinvestment={line.npd: s.code_table19 for s in pb.subinvestments for line in s.lines if line.npd},
        )

    def subinvestment_code(self, code: str) -> str | None:
        """Tabela 19 code for either scheme (1.1.1 or 1.1), None if unknown."""
        if code in self.subinvestment_eixo:
            return code
        return self.annex4_to_table19.get(code.rstrip("."))


@dataclass(frozen=True, slots=True)
class AmountEntry:
    breakdown: Breakdown
    year: int
    month: int | None  # None = the whole year (the seed prints annual figures)
    phase: Phase
    eixo: int
    subinvestment: str | None
    fund_item: str | None
    rubric: str | None
    npd: str | None
    funding_source: FundingSource
    vat_rate: Decimal
    gross: Decimal
    net: Decimal
    vat: Decimal
    description: str = ""
    source: str = ""

    @property
    def prr(self) -> Decimal:
        return self.net if self.funding_source is FundingSource.PRR else Decimal("0.00")

    @property
    def national(self) -> Decimal:
        return self.vat if self.funding_source is FundingSource.PRR else self.gross


@dataclass(slots=True)
class AmountInput:
    """Raw values as received (strings for money); validated by ``build_entry``."""

    breakdown: str
    year: int
    phase: str
    amount: object
    month: int | None = None
    basis: str = "gross"
    vat_rate: object = None
    eixo: int | None = None
    subinvestment: str | None = None
    fund_item: str | None = None
    rubric: str | None = None
    npd: str | None = None
    funding_source: str = "prr"
    description: str = ""
    source: str = ""


def _enum(kind: type[E], value: str, field_name: str) -> E:
    try:
        return kind(value)
    except ValueError as exc:
        allowed = ", ".join(m.value for m in kind)
        raise AmountError(f"{field_name} must be one of {allowed}", field_name) from exc


def build_entry(raw: AmountInput, structure: Structure, codes: CodeTable) -> AmountEntry:
    """Validate an amount against the structure and the code table; raise AmountError (with the field)."""
    breakdown = _enum(Breakdown, raw.breakdown, "breakdown")
    phase = _enum(Phase, raw.phase, "phase")
    basis = _enum(Basis, raw.basis, "basis")
    funding = _enum(FundingSource, raw.funding_source, "funding_source")
    if not FIRST_YEAR <= raw.year <= LAST_YEAR:
        raise AmountError(f"year must be within the PRR period {FIRST_YEAR}-{LAST_YEAR}", "year")
    if raw.month is not None and not 1 <= raw.month <= 12:
        raise AmountError("month must be 1-12 (or absent for the whole year)", "month")
    try:
        amount = parse_money(raw.amount, "amount", allow_negative=phase in NEGATIVE_ALLOWED)
        rate = DEFAULT_VAT_RATE if raw.vat_rate is None else parse_vat_rate(raw.vat_rate)
    except MoneyError as exc:
        if "negative" in str(exc):
            raise AmountError(f"{exc}; only phase 'corrected' accepts negative amounts", exc.field) from exc
        raise AmountError(str(exc), exc.field) from exc

    eixo = raw.eixo
    sub = None
    if raw.subinvestment is not None:
        sub = structure.subinvestment_code(raw.subinvestment)
        if sub is None:
            raise AmountError(f"unknown sub-investment {raw.subinvestment!r}", "subinvestment")
        eixo = _same_eixo(eixo, structure.subinvestment_eixo[sub], "subinvestment")
    if raw.fund_item is not None:
        if raw.fund_item not in structure.fund_item_eixo:
            raise AmountError(f"unknown fund item {raw.fund_item!r}", "fund_item")
        eixo = _same_eixo(eixo, structure.fund_item_eixo[raw.fund_item], "fund_item")
    rubric = None
    if raw.rubric is not None:
        try:
            rubric = codes.validate(raw.rubric)
        except CodeError as exc:
            raise AmountError(str(exc), "rubric") from exc
    if eixo is None:
        raise AmountError("eixo is required (or given by the sub-investment or fund item)", "eixo")
    if eixo not in structure.eixos:
        raise AmountError(f"eixo {eixo} has no budget (Eixos {sorted(structure.eixos)} only)", "eixo")
    if breakdown in (Breakdown.SUBINVESTMENT, Breakdown.PROCUREMENT) and sub is None:
        raise AmountError(f"breakdown {breakdown.value} needs a sub-investment", "subinvestment")
    if breakdown is Breakdown.RUBRIC and (rubric is None or raw.fund_item is None):
        field_name = "rubric" if rubric is None else "fund_item"
        raise AmountError("breakdown rubric needs a rubric and a fund item", field_name)

    parts = split(amount, rate, basis)
    return AmountEntry(
        breakdown=breakdown,
        year=raw.year,
        month=raw.month,
        phase=phase,
        eixo=eixo,
        subinvestment=sub,
        fund_item=raw.fund_item,
        rubric=rubric,
        npd=raw.npd,
        funding_source=funding,
        vat_rate=rate,
        gross=parts.gross,
        net=parts.net,
        vat=parts.vat,
        description=raw.description,
        source=raw.source,
    )


def _same_eixo(given: int | None, actual: int, field_name: str) -> int:
    if given is not None and given != actual:
        raise AmountError(f"{field_name} belongs to eixo {actual}, not {given}", field_name)
    return actual


def seed_inputs(pb: PublishedBudget) -> list[AmountInput]:
    """The printed figures as amount inputs (gross, 23 % VAT, PRR funding), one per printed cell.

    Tabela 19 sub-investment rows (not the eixo rows or Totais, which are parents), the Anexo 5
    rubric lines (not the fund-item or subtotal rows) and the Anexo 4 lines.
    """
    out: list[AmountInput] = []
    for s in pb.subinvestments:
        for year, _key, phase in TABLE19_YEARS:
            out.append(
                AmountInput(
                    breakdown="subinvestment",
                    year=year,
                    phase=phase,
                    amount=str(s.table19[year]),
                    subinvestment=s.code_table19,
                    source="Tabela 19",
                )
            )
    for f in pb.annex5.fund_items:
        for r in f.rubrics:
            out.append(
                AmountInput(
                    breakdown="rubric",
                    year=ANNEX5_YEAR,
                    phase="planned",
                    amount=str(r.amount),
                    fund_item=f.code,
                    rubric=r.rubric_code,
                    description=r.description,
                    source="Anexo 5 / Tabela 25",
                )
            )
    for s in pb.subinvestments:
        for line in s.lines:
            out.append(
                AmountInput(
                    breakdown="procurement",
                    year=ANNEX4_YEAR,
                    phase="planned",
                    amount=str(line.amount),
                    subinvestment=s.code_table19,
                    npd=line.npd,
                    description=line.description,
                    source=f"Anexo 4 line {line.position}",
                )
            )
    return out

"""Planned vs executed reports over amount entries (pure; the API turns rows into JSON or CSV).

- planned   = initial (phase ``planned``) + corrections (phase ``corrected``): the corrected budget;
- variance  = executed - planned (negative: under-execution);
- execution_rate_pct = executed / planned x 100, 2 places half up; null when nothing is planned;
- cumulative execution = executed in every year up to and including ``up_to_year``, against the
  total cost (Figura 13 per eixo, Anexo 4 "total estimado" per sub-investment).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter

from budget.domain.amounts import AmountEntry, Breakdown, Phase
from budget.domain.economic_codes import lineage
from budget.domain.money import ZERO, ratio

DIMENSIONS = ("year", "month", "eixo", "subinvestment", "rubric", "fund_item", "funding_source")
DEFAULT_BREAKDOWN = {
    "rubric": Breakdown.RUBRIC,
    "fund_item": Breakdown.RUBRIC,
}


class ReportError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(slots=True)
class Totals:
    initial: Decimal = ZERO
    corrections: Decimal = ZERO
    committed: Decimal = ZERO
    executed: Decimal = ZERO
    planned_net: Decimal = ZERO
    planned_vat: Decimal = ZERO
    executed_net: Decimal = ZERO
    executed_vat: Decimal = ZERO
    executed_prr: Decimal = ZERO
    executed_national: Decimal = ZERO

    def add(self, e: AmountEntry) -> None:
        if e.phase is Phase.PLANNED:
            self.initial += e.gross
        elif e.phase is Phase.CORRECTED:
            self.corrections += e.gross
        elif e.phase is Phase.COMMITTED:
            self.committed += e.gross
        else:
            self.executed += e.gross
            self.executed_net += e.net
            self.executed_vat += e.vat
            self.executed_prr += e.prr
            self.executed_national += e.national
        if e.phase in (Phase.PLANNED, Phase.CORRECTED):
            self.planned_net += e.net
            self.planned_vat += e.vat

    @property
    def planned(self) -> Decimal:
        return self.initial + self.corrections

    @property
    def variance(self) -> Decimal:
        return self.executed - self.planned

    @property
    def execution_rate_pct(self) -> Decimal | None:
        return ratio(self.executed, self.planned)


@dataclass(frozen=True, slots=True)
class ReportRow:
    keys: Mapping[str, str | int | None]
    totals: Totals


@dataclass(frozen=True, slots=True)
class Report:
    group_by: tuple[str, ...]
    breakdown: Breakdown
    rows: tuple[ReportRow, ...]
    total: Totals = field(default_factory=Totals)


def _key_of(dim: str, rubric_level: int | None) -> Callable[[AmountEntry], str | int | None]:
    if dim == "rubric" and rubric_level is not None:
        level = rubric_level

        def rolled_up(e: AmountEntry) -> str | None:
            # roll the rubric up to the requested level (1 = agrupamento)
            if e.rubric is None:
                return None
            chain = lineage(e.rubric)
            depth = len(chain)
            return chain[depth - level] if depth >= level else None

        return rolled_up
    if dim == "funding_source":
        return lambda e: str(e.funding_source.value)
    return attrgetter(dim)  # a plain column: its value is the key


def _sort_key(keys: tuple[str | int | None, ...]) -> tuple[tuple[int, str], ...]:
    # None last; numbers sort numerically (zero-padded), strings lexically.
    return tuple((1, "") if k is None else (0, f"{k:08d}" if isinstance(k, int) else k) for k in keys)


def report_breakdown(group_by: Sequence[str], breakdown: Breakdown | None = None) -> Breakdown:
    """The breakdown a report totals: the one asked for, else the one its dimensions imply."""
    return breakdown or next(
        (DEFAULT_BREAKDOWN[d] for d in group_by if d in DEFAULT_BREAKDOWN), Breakdown.SUBINVESTMENT
    )


def planned_vs_executed(
    entries: Iterable[AmountEntry],
    group_by: Sequence[str],
    breakdown: Breakdown | None = None,
    rubric_level: int | None = None,
    year: int | None = None,
) -> Report:
    """Group entries of one breakdown and total each group's phases."""
    for dim in group_by:
        if dim not in DIMENSIONS:
            raise ReportError(f"cannot group by {dim!r}; use {', '.join(DIMENSIONS)}", "group_by")
    if rubric_level is not None and not 1 <= rubric_level <= 5:
        raise ReportError("rubric_level must be 1 (agrupamento) to 5 (subalínea)", "rubric_level")
    chosen = report_breakdown(group_by, breakdown)
    getters = [_key_of(d, rubric_level) for d in group_by]
    groups: dict[tuple[str | int | None, ...], Totals] = {}
    total = Totals()
    for e in entries:
        if e.breakdown is not chosen or (year is not None and e.year != year):
            continue
        key = tuple(g(e) for g in getters)
        totals = groups.get(key)
        if totals is None:  # (not setdefault: that built a Totals for every entry)
            totals = groups[key] = Totals()
        totals.add(e)
        total.add(e)
    rows = tuple(
        ReportRow(keys=dict(zip(group_by, k, strict=True)), totals=groups[k]) for k in sorted(groups, key=_sort_key)
    )
    return Report(group_by=tuple(group_by), breakdown=chosen, rows=rows, total=total)


@dataclass(frozen=True, slots=True)
class CumulativeRow:
    key: str | int
    total_cost: Decimal | None
    executed_to_date: Decimal
    planned_to_date: Decimal

    @property
    def execution_of_total_pct(self) -> Decimal | None:
        return None if self.total_cost is None else ratio(self.executed_to_date, self.total_cost)

    @property
    def remaining(self) -> Decimal | None:
        return None if self.total_cost is None else self.total_cost - self.executed_to_date


def cumulative(
    entries: Iterable[AmountEntry],
    by: str,
    total_costs: Mapping[str | int, Decimal | None],
    up_to_year: int,
) -> list[CumulativeRow]:
    """Cumulative execution (Tabela 19 breakdown) per eixo or sub-investment against its total cost."""
    if by not in ("eixo", "subinvestment"):
        raise ReportError("cumulative reports are by eixo or subinvestment", "by")
    executed: dict[str | int, Decimal] = dict.fromkeys(total_costs, ZERO)
    planned: dict[str | int, Decimal] = dict.fromkeys(total_costs, ZERO)
    for e in entries:
        if e.breakdown is not Breakdown.SUBINVESTMENT or e.year > up_to_year:
            continue
        key: str | int | None = e.eixo if by == "eixo" else e.subinvestment
        if key is None:
            continue
        if e.phase is Phase.EXECUTED:
            executed[key] = executed.get(key, ZERO) + e.gross
        elif e.phase in (Phase.PLANNED, Phase.CORRECTED):
            planned[key] = planned.get(key, ZERO) + e.gross
    keys = sorted(set(executed) | set(planned), key=lambda k: _sort_key((k,)))
    return [
        CumulativeRow(
            key=k,
            total_cost=total_costs.get(k),
            executed_to_date=executed.get(k, ZERO),
            planned_to_date=planned.get(k, ZERO),
        )
        for k in keys
    ]


@dataclass(frozen=True, slots=True)
class EixoYearFigures:
    eixo: int
    year: int
    planned: Decimal
    executed: Decimal

    @property
    def execution_ratio(self) -> Decimal | None:
        """executed / planned as a fraction (for the Prometheus gauge); None when nothing is planned."""
        return None if self.planned == 0 else self.executed / self.planned


def by_eixo_and_year(entries: Iterable[AmountEntry]) -> list[EixoYearFigures]:
    report = planned_vs_executed(entries, ("eixo", "year"), Breakdown.SUBINVESTMENT)
    out = []
    for row in report.rows:
        eixo, year = row.keys["eixo"], row.keys["year"]
        assert isinstance(eixo, int)
        assert isinstance(year, int)
        out.append(EixoYearFigures(eixo=eixo, year=year, planned=row.totals.planned, executed=row.totals.executed))
    return out


@dataclass(slots=True)
class _Tally:
    count: int = 0
    planned: Decimal = ZERO
    executed: Decimal = ZERO


class EixoYearTally:
    """``by_eixo_and_year`` kept up to date entry by entry (add / remove), for the gauges between reloads.

    Equal to ``by_eixo_and_year`` of the entries added and not removed (a group disappears with its last
    entry, as a recomputation would drop it); sums are exact Decimal, so the order of changes does not matter.
    """

    def __init__(self, entries: Iterable[AmountEntry] = ()) -> None:
        self._groups: dict[tuple[int, int], _Tally] = {}
        for e in entries:
            self.add(e)

    def _apply(self, e: AmountEntry, sign: int, count: int = 1) -> None:
        if e.breakdown is not Breakdown.SUBINVESTMENT:
            return
        key = (e.eixo, e.year)
        g = self._groups.get(key)
        if g is None:
            g = self._groups[key] = _Tally()
        g.count += sign * count
        if e.phase in (Phase.PLANNED, Phase.CORRECTED):
            g.planned += sign * e.gross
        elif e.phase is Phase.EXECUTED:
            g.executed += sign * e.gross
        if g.count <= 0:
            del self._groups[key]

    def add(self, e: AmountEntry, count: int = 1) -> None:
        """Add an entry; ``count`` > 1 for an entry that stands for that many amounts (their sums)."""
        self._apply(e, 1, count)

    def remove(self, e: AmountEntry) -> None:
        self._apply(e, -1)

    def figures(self) -> list[EixoYearFigures]:
        return [
            EixoYearFigures(eixo=eixo, year=year, planned=g.planned, executed=g.executed)
            for (eixo, year), g in sorted(self._groups.items())
        ]

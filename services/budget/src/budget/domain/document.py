"""The PRR budget execution document as plain tables (docs/domain.md §5; rendered as PDF, XLSX and CSV by
``budget.documents.render``).

Three tables over the stored amounts, each the same grouping as a ``/reports/planned-vs-executed`` JSON report so
their figures are the API's: by eixo and year and by eixo and sub-investment (Tabela 19 breakdown,
``group_by=eixo,year`` / ``eixo,subinvestment``) and by eixo and rubric (Anexo 5 breakdown, ``group_by=eixo,rubric``).
Each row: initial, corrections, planned (= initial + corrections), committed, executed (paid), variance
(= executed − planned) and the execution rate (executed / planned × 100, none when nothing is planned), plus a
total row. Nothing in it depends on the moment it is made, so the same amounts give the same document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from budget.domain.amounts import AmountEntry, Breakdown
from budget.domain.money import format_money
from budget.domain.reports import Report, Totals, planned_vs_executed

FIGURES = ("Initial", "Corrections", "Planned", "Committed", "Executed", "Variance", "Rate %")
NONE = "—"


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    # How many leading columns are keys (the rest are figures, right-aligned, numbers in a workbook).
    keys: int
    total: tuple[str, ...]


@dataclass(frozen=True)
class ExecutionDocument:
    title: str
    lines: tuple[str, ...]
    tables: tuple[Table, ...]


def figures(t: Totals) -> tuple[str, ...]:
    rate = t.execution_rate_pct
    return (
        format_money(t.initial),
        format_money(t.corrections),
        format_money(t.planned),
        format_money(t.committed),
        format_money(t.executed),
        format_money(t.variance),
        NONE if rate is None else str(rate),
    )


def _key(value: object) -> str:
    return NONE if value is None else str(value)


def _table(
    title: str, report: Report, columns: tuple[str, ...], names: Mapping[str, str] | None, name_of: str | None
) -> Table:
    rows = []
    for row in report.rows:
        keys = [_key(row.keys[d]) for d in report.group_by]
        if name_of is not None:
            keys.append((names or {}).get(str(row.keys[name_of]), ""))
        rows.append((*keys, *figures(row.totals)))
    blanks = ("",) * (len(columns) - 1)
    return Table(
        title,
        (*columns, *FIGURES),
        tuple(rows),
        keys=len(columns),
        total=("Total", *blanks, *figures(report.total)),
    )


def execution_document(
    entries: Iterable[AmountEntry],
    *,
    investment: str,
    published: str,
    subinvestment_names: Mapping[str, str],
    rubric_names: Mapping[str, str],
    year: int | None,
) -> ExecutionDocument:
    """The document of ``entries`` (amounts of both breakdowns; others are left out by the reports)."""
    kept = list(entries)
    by_year = planned_vs_executed(kept, ("eixo", "year"), Breakdown.SUBINVESTMENT, year=year)
    by_sub = planned_vs_executed(kept, ("eixo", "subinvestment"), Breakdown.SUBINVESTMENT, year=year)
    by_rubric = planned_vs_executed(kept, ("eixo", "rubric"), Breakdown.RUBRIC, year=year)
    lines = (
        investment,
        f"Published budget: {published}",
        f"Year: {year}" if year is not None else "Years: all",
        "EUR including VAT. Planned = initial + corrections; variance = executed (paid) − planned "
        "(negative: under-execution); rate = executed / planned × 100 (— when nothing is planned).",
        "Sub-investments: Tabela 19 figures and amounts recorded against them; rubrics: Anexo 5 economic "
        "classification by fund item. The two are parallel views of one budget and are not added together.",
    )
    return ExecutionDocument(
        title="PRR budget execution",
        lines=lines,
        tables=(
            _table("By eixo and year", by_year, ("Eixo", "Year"), None, None),
            _table(
                "By sub-investment", by_sub, ("Eixo", "Sub-investment", "Name"), subinvestment_names, "subinvestment"
            ),
            _table("By rubric", by_rubric, ("Eixo", "Rubric", "Name"), rubric_names, "rubric"),
        ),
    )

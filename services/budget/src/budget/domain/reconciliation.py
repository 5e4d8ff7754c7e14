"""Reconciliation of the published PRR tables: every parent against the sum of its children and
every figure printed in two tables against its twin. Mismatches are reported, never corrected.

``difference = printed - computed``; ``printed`` is the figure under test as it stands in the
source, ``computed`` the sum of its printed parts (or the twin figure of another table).
Checks with severity ``info`` compare figures that are not expected to agree exactly (Anexo 4
lists only the 2024 needs "a destacar"): they count as a mismatch only when they differ by 1 EUR
or more ("to the euro").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from budget.domain.economic_codes import CodeTable, agrupamento
from budget.domain.published import (
    SECTION42_COLUMNS,
    TABLE19_YEARS,
    PublishedBudget,
    Section42Row,
)


class Severity(StrEnum):
    ERROR = "error"  # the source contradicts itself
    INFO = "info"  # expected to differ; reported for information


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: str  # stable id of the check family
    path: str  # which figure: "eixo=1/year=2021"
    tables: tuple[str, ...]
    description: str
    printed: Decimal | str
    computed: Decimal | str
    difference: Decimal | None  # None for textual (percentage) checks
    severity: Severity

    @property
    def ok(self) -> bool:
        if self.difference is None:
            return self.printed == self.computed
        if self.severity is Severity.INFO:
            return abs(self.difference) < 1
        return self.difference == 0


def _sum(values: Iterable[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), Decimal(0))


def _default_spending(code: str) -> str:
    # DL 26/2002: agrupamentos 01-06 are current spending, 07-11 capital.
    return "current" if int(agrupamento(code)[2:]) <= 6 else "capital"


class _Collector:
    def __init__(self) -> None:
        self.results: list[CheckResult] = []

    def amount(
        self,
        check: str,
        path: str,
        tables: tuple[str, ...],
        description: str,
        printed: Decimal,
        computed: Decimal,
        severity: Severity = Severity.ERROR,
    ) -> None:
        self.results.append(
            CheckResult(check, path, tables, description, printed, computed, printed - computed, severity)
        )

    def text(
        self, check: str, path: str, tables: tuple[str, ...], description: str, printed: str, computed: str
    ) -> None:
        self.results.append(CheckResult(check, path, tables, description, printed, computed, None, Severity.ERROR))


T19 = ("Tabela 19",)
FIG13 = ("Figura 13",)
A5 = ("Anexo 5 / Tabela 25",)
S42 = ("Secção 4.2",)


def _table19(pb: PublishedBudget, c: _Collector) -> None:
    for eixo in pb.funded_eixos:
        subs = pb.subinvestments_of(eixo.number)
        for year, key, _phase in TABLE19_YEARS:
            printed = eixo.table19[year]
            if printed is None:
                continue
            c.amount(
                "table19.eixo_vs_subinvestments",
                f"eixo={eixo.number}/year={year}",
                T19,
                f"Tabela 19 Eixo {eixo.number} {key}: eixo row vs sum of its subinvestments",
                printed,
                _sum(s.table19[year] for s in subs),
            )
    for year, key, _phase in TABLE19_YEARS:
        total = pb.table19_totals[year]
        c.amount(
            "table19.totals_vs_eixos",
            f"year={year}",
            T19,
            f"Tabela 19 Totais {key}: Totais vs sum of the {len(pb.funded_eixos)} eixo rows",
            total,
            _sum(e.table19[year] for e in pb.funded_eixos),
        )
        c.amount(
            "table19.totals_vs_subinvestments",
            f"year={year}",
            T19,
            f"Tabela 19 Totais {key}: Totais vs sum of the {len(pb.subinvestments)} subinvestments",
            total,
            _sum(s.table19[year] for s in pb.subinvestments),
        )


def _figure13(pb: PublishedBudget, c: _Collector) -> None:
    eixos = pb.funded_eixos
    c.amount(
        "figure13.total_vs_eixos",
        "total",
        ("Secção 3.2", "Figura 13"),
        "Secção 3.2 / Figura 13: total cost vs sum of Figura 13 eixo totals",
        pb.total_cost,
        _sum(e.total_cost for e in eixos),
    )
    for e in eixos:
        if e.budget_2024_figure13 is not None and e.table19[2024] is not None:
            c.amount(
                "figure13_vs_table19.eixo_2024",
                f"eixo={e.number}",
                ("Figura 13", "Tabela 19"),
                f"Figura 13 Eixo {e.number} 2024 vs Tabela 19 Eixo {e.number} execução prevista 2024",
                e.budget_2024_figure13,
                e.table19[2024],
            )
    c.amount(
        "figure13_vs_table19.total_2024",
        "year=2024",
        ("Figura 13", "Tabela 19"),
        "Figura 13 2024 column total vs Tabela 19 Totais 2024",
        pb.table19_totals[2024],
        _sum(e.budget_2024_figure13 for e in eixos),
    )
    for e in eixos:
        assert e.total_cost is not None  # funded_eixos
        c.amount(
            "figure13_vs_annex4.eixo_total_vs_total_estimado",
            f"eixo={e.number}",
            ("Figura 13", "Anexo 4"),
            f'Figura 13 Eixo {e.number} total vs sum of Anexo 4 "total estimado" of its subinvestments',
            e.total_cost,
            _sum(s.total_estimated for s in pb.subinvestments_of(e.number)),
        )
    for e in eixos:
        if e.annex4_encargo is not None and e.total_cost is not None:
            c.amount(
                "annex4_vs_figure13.encargo",
                f"eixo={e.number}",
                ("Anexo 4", "Figura 13"),
                f"Anexo 4 Eixo {e.number} encargo vs Figura 13 Eixo {e.number} total",
                e.annex4_encargo,
                e.total_cost,
            )
    c.amount(
        "section32_text_vs_table19.total_2024",
        "year=2024",
        ("Secção 3.2", "Tabela 19"),
        "Secção 3.2 text 2024 execution vs Tabela 19 Totais 2024",
        pb.execution_2024_text,
        pb.table19_totals[2024],
    )


def _annex5(pb: PublishedBudget, c: _Collector) -> None:
    a5 = pb.annex5
    for g in a5.groups:
        for f in g.fund_items:
            c.amount(
                "annex5.fund_item_vs_rubrics",
                f"fund_item={f.code}",
                A5,
                f"Anexo 5 {f.code}: fund item vs sum of its rubric lines",
                f.amount,
                _sum(r.amount for r in f.rubrics),
            )
        c.amount(
            "annex5.group_vs_fund_items",
            f"group={g.name}",
            A5,
            f"Anexo 5 {g.name}: subtotal vs sum of its fund items",
            g.subtotal,
            _sum(f.amount for f in g.fund_items),
        )
        c.amount(
            "annex5.group_vs_rubrics",
            f"group={g.name}",
            A5,
            f"Anexo 5 {g.name}: subtotal vs sum of its rubric lines",
            g.subtotal,
            _sum(r.amount for f in g.fund_items for r in f.rubrics),
        )
    c.amount(
        "annex5.total_vs_groups",
        "total",
        A5,
        "Anexo 5 TOTAL vs " + " + ".join(g.name for g in a5.groups) + " subtotals",
        a5.total,
        _sum(g.subtotal for g in a5.groups),
    )
    c.amount(
        "annex5.total_vs_fund_items",
        "total",
        A5,
        f"Anexo 5 TOTAL vs sum of the {len(a5.fund_items)} fund items",
        a5.total,
        _sum(f.amount for f in a5.fund_items),
    )
    c.amount(
        "annex5.total_vs_rubrics",
        "total",
        A5,
        "Anexo 5 TOTAL vs sum of all rubric lines",
        a5.total,
        _sum(r.amount for f in a5.fund_items for r in f.rubrics),
    )
    c.amount(
        "annex5_vs_table19.total_2024",
        "year=2024",
        ("Anexo 5 / Tabela 25", "Tabela 19"),
        "Anexo 5 TOTAL vs Tabela 19 Totais 2024",
        a5.total,
        pb.table19_totals[2024],
    )
    for e in pb.funded_eixos:
        printed = e.table19[2024]
        if printed is None:
            continue
        c.amount(
            "table19_vs_annex5.eixo_2024",
            f"eixo={e.number}",
            ("Tabela 19", "Anexo 5 / Tabela 25"),
            f"Tabela 19 Eixo {e.number} 2024 vs Anexo 5 fund items of Eixo {e.number} (Adm. PREV + C Capital)",
            printed,
            _sum(f.amount for f in a5.fund_items if f.eixo == e.number),
        )


def _section42(pb: PublishedBudget, c: _Collector, spending_of: Callable[[str], str | None]) -> None:
    s42 = pb.section42
    a5 = pb.annex5
    subtotal_rows = {
        ("capital" if "capital" in r.description.lower() else "current"): r for r in s42.rows if r.code is None
    }
    both = ("Secção 4.2", "Anexo 5 / Tabela 25")
    c.amount(
        "section42_vs_annex5.prr_total_2024",
        "year=2024",
        both,
        "Secção 4.2 TOTAL PRR 2024 vs Anexo 5 TOTAL (= Tabela 19 Totais 2024)",
        s42.total.values["prr_2024"],
        a5.total,
    )
    for spending, row in subtotal_rows.items():
        group_total = _sum(g.subtotal for g in a5.groups if g.spending == spending)
        c.amount(
            f"section42_vs_annex5.prr_{spending}_2024",
            "year=2024",
            both,
            f"Secção 4.2 {row.description} PRR 2024 vs Anexo 5 "
            + " + ".join(g.name for g in a5.groups if g.spending == spending)
            + " subtotal",
            row.values["prr_2024"],
            group_total,
        )
    c.amount(
        "section42_vs_table19.prr_total_2023",
        "year=2023",
        ("Secção 4.2", "Tabela 19"),
        "Secção 4.2 TOTAL PRR 2023 vs Tabela 19 Totais execução prevista 2023",
        s42.total.values["prr_2023"],
        pb.table19_totals[2023],
    )
    # Column sums: each subtotal row vs its agrupamento rows; TOTAL vs the subtotal rows.
    coded = [r for r in s42.rows if r.code is not None]
    for col in (*SECTION42_COLUMNS, "variacao_abs"):
        for spending, row in subtotal_rows.items():
            children = [r for r in coded if r.code is not None and spending_of(r.code) == spending]
            c.amount(
                "section42.subtotal_vs_agrupamentos",
                f"column={col}/row={row.description}",
                S42,
                f"Secção 4.2 {col}: {row.description} vs " + "+".join(str(r.code) for r in children),
                row.values[col],
                _sum(r.values[col] for r in children),
            )
        c.amount(
            "section42.total_vs_subtotals",
            f"column={col}/row=TOTAL",
            S42,
            f"Secção 4.2 {col}: TOTAL vs " + " + ".join(r.description for r in subtotal_rows.values()),
            s42.total.values[col],
            _sum(r.values[col] for r in subtotal_rows.values()),
        )
    # Row sums: TOTAL = Corrente + PRR per year; V.abs. = TOTAL 2024 - TOTAL 2023; % = V.abs. / TOTAL 2023.
    for row in (*s42.rows, s42.total):
        label = row.code or row.description
        _section42_row(c, row, label)
    if s42.global_budget_2024_text is not None:
        c.amount(
            "section42.text_vs_total_2024",
            "year=2024",
            S42,
            "Secção 4.2 text global budget 2024 vs TOTAL 2024",
            s42.global_budget_2024_text,
            s42.total.values["total_2024"],
        )


def _pct_as_printed(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%".replace(".", ",")


def _section42_row(c: _Collector, row: Section42Row, label: str) -> None:
    v = row.values
    for year in (2023, 2024):
        c.amount(
            "section42.row_total_vs_parts",
            f"row={label}/year={year}",
            S42,
            f"Secção 4.2 {label}: TOTAL {year} vs Corrente + PRR",
            v[f"total_{year}"],
            v[f"corrente_{year}"] + v[f"prr_{year}"],
        )
    c.amount(
        "section42.row_variation_abs",
        f"row={label}",
        S42,
        f"Secção 4.2 {label}: V.abs. vs TOTAL 2024 - TOTAL 2023",
        v["variacao_abs"],
        v["total_2024"] - v["total_2023"],
    )
    if v["total_2023"] != 0:
        c.text(
            "section42.row_variation_pct",
            f"row={label}",
            S42,
            f"Secção 4.2 {label}: % vs V.abs. / TOTAL 2023 (1 decimal)",
            row.variacao_pct_as_printed,
            _pct_as_printed(v["variacao_abs"] * 100 / v["total_2023"]),
        )


def _annex4_info(pb: PublishedBudget, c: _Collector) -> None:
    for s in pb.subinvestments:
        if not s.lines:
            continue
        c.amount(
            "annex4_vs_table19.lines_2024",
            f"subinvestment={s.code_table19}",
            ("Anexo 4", "Tabela 19"),
            f"Anexo 4 {s.code_annex4}: Tabela 19 {s.code_table19} execução prevista 2024 vs sum of its lines",
            s.table19[2024],
            _sum(line.amount for line in s.lines),
            Severity.INFO,
        )


def run_checks(pb: PublishedBudget, codes: CodeTable | None = None) -> list[CheckResult]:
    """Every check, in a stable order (Tabela 19, Figura 13, Anexo 5, Secção 4.2, Anexo 4)."""
    spending_of: Callable[[str], str | None] = codes.spending_type if codes is not None else _default_spending
    c = _Collector()
    _table19(pb, c)
    _figure13(pb, c)
    _annex5(pb, c)
    _section42(pb, c, spending_of)
    _annex4_info(pb, c)
    return c.results


def mismatches(pb: PublishedBudget, codes: CodeTable | None = None) -> list[CheckResult]:
    return [r for r in run_checks(pb, codes) if not r.ok]

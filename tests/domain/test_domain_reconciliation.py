"""Reconciliation of published budget tables (budget.domain.reconciliation, docs/domain.md §5) on a small budget
whose every figure is chosen here, so each check's printed and computed sides are worked by hand below.

Eixo 1 (Figura 13 total 300, 2024 column 150; Anexo 4 encargo 300), Eixo 2 (total 200, 2024 column 101), and an
Eixo 5 without figures (not the body's). Tabela 19 (2021, 2022, 2023, 2024):
  Eixo 1 row 10, 20, —, 150   = 1.1.1 (4, 20, 0, 100) + 1.1.2 (5, 0, 0, 50) → 2021: 10 vs 9
  Eixo 2 row  5,  0, 7, 100   = 2.1.1 (5, 0, 7, 100)
  Totais     15, 20, 7, 250   → eixos 15, 20, 7, 250; subinvestments 14 (2021), 20, 7, 250
Anexo 5: Administração PRR 60 = F1 40 (rubrics 25 + 15) + F2 20 (rubric 21); Capital PRR 190 = F3 110 + F4 80;
TOTAL 250 (rubrics 251). Secção 4.2 rows D.02 / D.07, their two subtotals and TOTAL are consistent except the %
printed for D.02 ("433,4%" where 65 / 15 = 433,33 %).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from budget.domain.published import (
    Annex5,
    Eixo,
    FundGroup,
    FundItem,
    ProcurementLine,
    PublishedBudget,
    RubricLine,
    Section42,
    Section42Row,
    SubInvestment,
)
from budget.domain.reconciliation import (
    CheckResult,
    Severity,
    _default_spending,
    _pct_as_printed,
    mismatches,
    run_checks,
)


def t19(a: int | None, b: int | None, c: int | None, d: int | None) -> dict[int, D | None]:
    return {
        2021: None if a is None else D(a),
        2022: None if b is None else D(b),
        2023: None if c is None else D(c),
        2024: None if d is None else D(d),
    }


def eixo(number: int, total: int | None, fig13: int | None, row: dict[int, D | None], encargo: int | None) -> Eixo:
    return Eixo(
        number=number,
        name=f"Eixo {number}",
        name_annex3=None,
        ii_responsible=number != 5,
        total_cost=None if total is None else D(total),
        budget_2024_figure13=None if fig13 is None else D(fig13),
        table19=row,
        annex4_encargo=None if encargo is None else D(encargo),
    )


def sub(
    code: str, annex4: str, eixo_number: int, row: dict[int, D | None], total: int, lines: list[str]
) -> SubInvestment:
    return SubInvestment(
        code_table19=code,
        code_annex4=annex4,
        eixo=eixo_number,
        name_table19=code,
        name_section33=None,
        name_annex4=None,
        table19=row,  # type: ignore[arg-type]
        total_estimated=D(total),
        lines=tuple(ProcurementLine(code, i + 1, "line", None, D(a), a) for i, a in enumerate(lines)),
    )


def fund(code: str, eixo_number: int, spending: str, amount: int, *rubrics: tuple[str, int]) -> FundItem:
    return FundItem(code, code, eixo_number, spending, D(amount), tuple(RubricLine(r, r, D(a)) for r, a in rubrics))


def s42(code: str | None, description: str, values: tuple[int, ...], pct: str) -> Section42Row:
    keys = ("corrente_2023", "prr_2023", "total_2023", "corrente_2024", "prr_2024", "total_2024", "variacao_abs")
    return Section42Row(code, description, dict(zip(keys, map(D, values), strict=True)), pct)


def budget() -> PublishedBudget:
    return PublishedBudget(
        programme="PRR",
        component="C17",
        investment_code="i03",
        investment_name="test",
        total_cost=D(500),
        execution_2024_text=D(250),
        eixos=(
            eixo(1, 300, 150, t19(10, 20, None, 150), 300),
            eixo(2, 200, 101, t19(5, 0, 7, 100), None),
            eixo(5, None, None, t19(None, None, None, None), None),
        ),
        subinvestments=(
            sub("1.1.1", "1.1", 1, t19(4, 20, 0, 100), 200, ["60.00", "40.00"]),
            sub("1.1.2", "1.2", 1, t19(5, 0, 0, 50), 100, ["49.50"]),
            sub("2.1.1", "2.1", 2, t19(5, 0, 7, 100), 200, ["98.99"]),
            sub("2.1.2", "2.2", 2, t19(0, 0, 0, 0), 0, []),
        ),
        table19_totals={2021: D(15), 2022: D(20), 2023: D(7), 2024: D(250)},
        annex5=Annex5(
            groups=(
                FundGroup(
                    "Administração PRR",
                    "current",
                    D(60),
                    (
                        fund("F1", 1, "current", 40, ("D.02.02.05.01", 25), ("D.02.02.09", 15)),
                        fund("F2", 2, "current", 20, ("D.02.02.05.01", 21)),
                    ),
                ),
                FundGroup(
                    "Capital PRR",
                    "capital",
                    D(190),
                    (
                        fund("F3", 1, "capital", 110, ("D.07.01.08", 110)),
                        fund("F4", 2, "capital", 80, ("D.07.01.08", 80)),
                    ),
                ),
            ),
            total=D(250),
        ),
        section42=Section42(
            rows=(
                s42("D.02", "Aquisição de bens e serviços", (10, 5, 15, 20, 60, 80, 65), "433,4%"),
                s42("D.07", "Aquisição de bens de capital", (0, 2, 2, 0, 190, 190, 188), "9400,0%"),
                s42(None, "Despesas de Administração", (10, 5, 15, 20, 60, 80, 65), "433,3%"),
                s42(None, "Despesas de Capital", (0, 2, 2, 0, 190, 190, 188), "9400,0%"),
            ),
            total=s42(None, "TOTAL", (10, 7, 17, 20, 250, 270, 253), "1488,2%"),  # 253 / 17 = 14,88235…
            global_budget_2024_text=D(270),
        ),
    )


def test_exactly_the_planted_mismatches_in_order() -> None:
    found = [(r.check, r.path, r.tables, r.printed, r.computed, r.difference, r.severity) for r in mismatches(budget())]
    t19_, a5 = ("Tabela 19",), ("Anexo 5 / Tabela 25",)
    assert found == [
        ("table19.eixo_vs_subinvestments", "eixo=1/year=2021", t19_, D(10), D(9), D(1), Severity.ERROR),
        ("table19.totals_vs_subinvestments", "year=2021", t19_, D(15), D(14), D(1), Severity.ERROR),
        ("figure13_vs_table19.eixo_2024", "eixo=2", ("Figura 13", "Tabela 19"), D(101), D(100), D(1), Severity.ERROR),
        (
            "figure13_vs_table19.total_2024",
            "year=2024",
            ("Figura 13", "Tabela 19"),
            D(250),
            D(251),
            D(-1),
            Severity.ERROR,
        ),
        ("annex5.fund_item_vs_rubrics", "fund_item=F2", a5, D(20), D(21), D(-1), Severity.ERROR),
        ("annex5.group_vs_rubrics", "group=Administração PRR", a5, D(60), D(61), D(-1), Severity.ERROR),
        ("annex5.total_vs_rubrics", "total", a5, D(250), D(251), D(-1), Severity.ERROR),
        ("section42.row_variation_pct", "row=D.02", ("Secção 4.2",), "433,4%", "433,3%", None, Severity.ERROR),
        # Anexo 4 lines vs the 2024 forecast: 100 − 98.99 = 1.01, at least 1 EUR → informative mismatch
        (
            "annex4_vs_table19.lines_2024",
            "subinvestment=2.1.1",
            ("Anexo 4", "Tabela 19"),
            D(100),
            D("98.99"),
            D("1.01"),
            Severity.INFO,
        ),
    ]


def test_every_check_is_run_once() -> None:
    results = run_checks(budget())
    families: dict[str, int] = {}
    for r in results:
        families[r.check] = families.get(r.check, 0) + 1
    assert families == {
        # Eixo 1 has 3 printed years, Eixo 2 four; Eixo 5 has no figures
        "table19.eixo_vs_subinvestments": 7,
        "table19.totals_vs_eixos": 4,
        "table19.totals_vs_subinvestments": 4,
        "figure13.total_vs_eixos": 1,
        "figure13_vs_table19.eixo_2024": 2,
        "figure13_vs_table19.total_2024": 1,
        "figure13_vs_annex4.eixo_total_vs_total_estimado": 2,
        "annex4_vs_figure13.encargo": 1,  # only Eixo 1 prints an encargo
        "section32_text_vs_table19.total_2024": 1,
        "annex5.fund_item_vs_rubrics": 4,
        "annex5.group_vs_fund_items": 2,
        "annex5.group_vs_rubrics": 2,
        "annex5.total_vs_groups": 1,
        "annex5.total_vs_fund_items": 1,
        "annex5.total_vs_rubrics": 1,
        "annex5_vs_table19.total_2024": 1,
        "table19_vs_annex5.eixo_2024": 2,
        "section42_vs_annex5.prr_total_2024": 1,
        "section42_vs_annex5.prr_current_2024": 1,
        "section42_vs_annex5.prr_capital_2024": 1,
        "section42_vs_table19.prr_total_2023": 1,
        "section42.subtotal_vs_agrupamentos": 14,  # 7 columns × 2 subtotal rows
        "section42.total_vs_subtotals": 7,
        "section42.row_total_vs_parts": 10,  # 5 rows × 2 years
        "section42.row_variation_abs": 5,
        "section42.row_variation_pct": 5,
        "section42.text_vs_total_2024": 1,
        "annex4_vs_table19.lines_2024": 3,  # 2.1.2 lists no lines
    }
    assert len(results) == 86


def test_the_agreeing_checks_carry_both_sides() -> None:
    results = {(r.check, r.path): r for r in run_checks(budget())}
    r = results[("figure13.total_vs_eixos", "total")]  # 300 + 200 = 500
    assert (r.printed, r.computed, r.difference, r.ok) == (D(500), D(500), D(0), True)
    r = results[("table19.totals_vs_eixos", "year=2023")]  # Eixo 1 prints nothing for 2023: 7 = 0 + 7
    assert (r.printed, r.computed, r.ok) == (D(7), D(7), True)
    r = results[("table19_vs_annex5.eixo_2024", "eixo=1")]  # F1 40 + F3 110 = 150
    assert (r.printed, r.computed) == (D(150), D(150))
    r = results[("section42_vs_annex5.prr_capital_2024", "year=2024")]
    assert (r.printed, r.computed, r.ok) == (D(190), D(190), True)
    r = results[("section42.subtotal_vs_agrupamentos", "column=prr_2024/row=Despesas de Administração")]
    assert (r.printed, r.computed) == (D(60), D(60))  # D.02 only: D.07 is capital spending
    r = results[("section42.total_vs_subtotals", "column=variacao_abs/row=TOTAL")]
    assert (r.printed, r.computed) == (D(253), D(253))  # 65 + 188
    r = results[("section42.row_total_vs_parts", "row=TOTAL/year=2024")]
    assert (r.printed, r.computed) == (D(270), D(270))  # 20 + 250
    r = results[("section42.row_variation_abs", "row=D.07")]
    assert (r.printed, r.computed) == (D(188), D(188))  # 190 − 2
    r = results[("section42.row_variation_pct", "row=TOTAL")]
    assert (r.printed, r.computed, r.ok) == ("1488,2%", "1488,2%", True)
    r = results[("annex4_vs_table19.lines_2024", "subinvestment=1.1.2")]  # 50 − 49.50 = 0.50: equal to the euro
    assert (r.difference, r.severity, r.ok) == (D("0.50"), Severity.INFO, True)
    r = results[("section42.text_vs_total_2024", "year=2024")]
    assert (r.printed, r.computed, r.ok) == (D(270), D(270), True)


def test_a_zero_base_year_has_no_percentage_check() -> None:
    pb = budget()
    rows = (*pb.section42.rows[:1], s42("D.08", "x", (0, 0, 0, 0, 0, 0, 0), "-"), *pb.section42.rows[1:])
    pb = replace(pb, section42=Section42(rows, pb.section42.total, None))
    paths = [r.path for r in run_checks(pb) if r.check == "section42.row_variation_pct"]
    assert "row=D.08" not in paths
    assert "row=D.02" in paths
    assert not any(r.check == "section42.text_vs_total_2024" for r in run_checks(pb))


@pytest.mark.parametrize(
    ("difference", "severity", "ok"),
    [
        (D(0), Severity.ERROR, True),
        (D("0.01"), Severity.ERROR, False),
        (D("-0.01"), Severity.ERROR, False),
        (D("0.99"), Severity.INFO, True),
        (D("-0.99"), Severity.INFO, True),
        (D(1), Severity.INFO, False),
        (D(-1), Severity.INFO, False),
    ],
)
def test_check_result_ok(difference: D, severity: Severity, ok: bool) -> None:
    r = CheckResult("c", "p", ("T",), "d", D(10), D(10) - difference, difference, severity)
    assert r.ok is ok


def test_text_checks_compare_the_printed_text() -> None:
    assert CheckResult("c", "p", (), "d", "15,1%", "15,1%", None, Severity.ERROR).ok
    assert not CheckResult("c", "p", (), "d", "15,1%", "15,0%", None, Severity.ERROR).ok


@pytest.mark.parametrize(
    ("value", "printed"),
    [("15.09", "15,1%"), ("0.05", "0,1%"), ("0.04", "0,0%"), ("-2.25", "-2,3%"), ("100", "100,0%")],
)
def test_percentages_are_printed_like_the_source(value: str, printed: str) -> None:
    assert _pct_as_printed(D(value)) == printed


def test_each_family_names_its_tables_and_paths() -> None:
    tables: dict[str, set[tuple[str, ...]]] = {}
    paths: dict[str, list[str]] = {}
    for r in run_checks(budget()):
        tables.setdefault(r.check, set()).add(r.tables)
        paths.setdefault(r.check, []).append(r.path)
        assert r.description  # every check says in words what it compares
    assert {k: v for k, v in tables.items() if not k.startswith(("table19.", "annex5.", "section42."))} == {
        "figure13.total_vs_eixos": {("Secção 3.2", "Figura 13")},
        "figure13_vs_table19.eixo_2024": {("Figura 13", "Tabela 19")},
        "figure13_vs_table19.total_2024": {("Figura 13", "Tabela 19")},
        "figure13_vs_annex4.eixo_total_vs_total_estimado": {("Figura 13", "Anexo 4")},
        "annex4_vs_figure13.encargo": {("Anexo 4", "Figura 13")},
        "section32_text_vs_table19.total_2024": {("Secção 3.2", "Tabela 19")},
        "annex5_vs_table19.total_2024": {("Anexo 5 / Tabela 25", "Tabela 19")},
        "table19_vs_annex5.eixo_2024": {("Tabela 19", "Anexo 5 / Tabela 25")},
        "section42_vs_annex5.prr_total_2024": {("Secção 4.2", "Anexo 5 / Tabela 25")},
        "section42_vs_annex5.prr_current_2024": {("Secção 4.2", "Anexo 5 / Tabela 25")},
        "section42_vs_annex5.prr_capital_2024": {("Secção 4.2", "Anexo 5 / Tabela 25")},
        "section42_vs_table19.prr_total_2023": {("Secção 4.2", "Tabela 19")},
        "annex4_vs_table19.lines_2024": {("Anexo 4", "Tabela 19")},
    }
    for family in ("table19.eixo_vs_subinvestments", "table19.totals_vs_eixos", "table19.totals_vs_subinvestments"):
        assert tables[family] == {("Tabela 19",)}
    for family in ("annex5.fund_item_vs_rubrics", "annex5.group_vs_fund_items", "annex5.total_vs_rubrics"):
        assert tables[family] == {("Anexo 5 / Tabela 25",)}
    assert tables["section42.row_total_vs_parts"] == {("Secção 4.2",)}
    assert paths["figure13.total_vs_eixos"] == ["total"]
    assert paths["figure13_vs_annex4.eixo_total_vs_total_estimado"] == ["eixo=1", "eixo=2"]
    assert paths["annex4_vs_figure13.encargo"] == ["eixo=1"]
    assert paths["figure13_vs_table19.total_2024"] == ["year=2024"]
    assert paths["section32_text_vs_table19.total_2024"] == ["year=2024"]
    assert paths["annex5.group_vs_fund_items"] == ["group=Administração PRR", "group=Capital PRR"]
    assert paths["annex5.total_vs_groups"] == ["total"]
    assert paths["annex5.total_vs_fund_items"] == ["total"]
    assert paths["annex5.total_vs_rubrics"] == ["total"]
    assert paths["annex5_vs_table19.total_2024"] == ["year=2024"]
    assert paths["table19_vs_annex5.eixo_2024"] == ["eixo=1", "eixo=2"]
    assert paths["section42.row_variation_abs"] == [
        "row=D.02",
        "row=D.07",
        "row=Despesas de Administração",
        "row=Despesas de Capital",
        "row=TOTAL",
    ]
    assert paths["section42.total_vs_subtotals"][0] == "column=corrente_2023/row=TOTAL"
    assert paths["table19.totals_vs_eixos"] == ["year=2021", "year=2022", "year=2023", "year=2024"]
    first = run_checks(budget())[0]
    assert first.description == "Tabela 19 Eixo 1 execucao_2021: eixo row vs sum of its subinvestments"


def test_a_funded_eixo_without_a_2024_figure_is_not_compared() -> None:
    pb = budget()
    e2 = replace(pb.eixos[1], table19=t19(5, 0, 7, None))
    pb = replace(pb, eixos=(pb.eixos[0], e2, pb.eixos[2]))
    assert [r.path for r in run_checks(pb) if r.check == "figure13_vs_table19.eixo_2024"] == ["eixo=1"]
    assert [r.path for r in run_checks(pb) if r.check == "table19_vs_annex5.eixo_2024"] == ["eixo=1"]


@pytest.mark.parametrize(
    ("code", "spending"),
    [
        ("D.02.02.05.01", "current"),
        ("D.06", "current"),
        ("D.07.01", "capital"),
        ("D.10", "capital"),
        ("D.11", "capital"),
    ],
)
def test_default_spending_type_follows_the_agrupamento(code: str, spending: str) -> None:
    # DL 26/2002: agrupamentos 01–06 are current spending, 07–11 capital
    assert _default_spending(code) == spending


def test_every_family_names_its_tables_and_every_path() -> None:
    # The families the test above reads only in part: which tables each compares, and every path, in order.
    tables: dict[str, set[tuple[str, ...]]] = {}
    paths: dict[str, list[str]] = {}
    for r in run_checks(budget()):
        tables.setdefault(r.check, set()).add(r.tables)
        paths.setdefault(r.check, []).append(r.path)
    for family in ("annex5.group_vs_rubrics", "annex5.total_vs_groups", "annex5.total_vs_fund_items"):
        assert tables[family] == {("Anexo 5 / Tabela 25",)}, family
    for family in (
        "section42.subtotal_vs_agrupamentos",
        "section42.total_vs_subtotals",
        "section42.row_variation_abs",
        "section42.row_variation_pct",
        "section42.text_vs_total_2024",
    ):
        assert tables[family] == {("Secção 4.2",)}, family
    assert paths["section42_vs_annex5.prr_total_2024"] == ["year=2024"]
    assert paths["section42_vs_annex5.prr_current_2024"] == ["year=2024"]
    assert paths["section42_vs_annex5.prr_capital_2024"] == ["year=2024"]
    assert paths["section42_vs_table19.prr_total_2023"] == ["year=2023"]
    assert paths["section42.text_vs_total_2024"] == ["year=2024"]
    rows = ["D.02", "D.07", "Despesas de Administração", "Despesas de Capital", "TOTAL"]
    assert paths["section42.row_total_vs_parts"] == [f"row={r}/year={y}" for r in rows for y in (2023, 2024)]
    assert paths["section42.row_variation_pct"] == [f"row={r}" for r in rows]


def test_a_skipped_item_does_not_stop_the_ones_after_it() -> None:
    pb = budget()
    # Eixo 1 without a 2024 figure, Eixo 2 with one: only Eixo 2 is compared with Anexo 5
    e1 = replace(pb.eixos[0], table19=t19(10, 20, None, None))
    pb = replace(pb, eixos=(e1, pb.eixos[1], pb.eixos[2]))
    assert [r.path for r in run_checks(pb) if r.check == "table19_vs_annex5.eixo_2024"] == ["eixo=2"]
    # A subinvestment listing no lines first: the three that list lines are still compared with Tabela 19
    pb = budget()
    pb = replace(pb, subinvestments=(pb.subinvestments[3], *pb.subinvestments[:3]))
    assert [r.path for r in run_checks(pb) if r.check == "annex4_vs_table19.lines_2024"] == [
        "subinvestment=1.1.1",
        "subinvestment=1.1.2",
        "subinvestment=2.1.1",
    ]

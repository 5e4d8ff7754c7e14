"""The reconciliation must reproduce exactly the mismatches of data/README.md items 14-18
(errors) and 20 (informative) — figures below are typed from that README, not from the code."""

from decimal import Decimal
from typing import Any

from budget.domain.economic_codes import CodeTable
from budget.domain.published import PublishedBudget, parse_published
from budget.domain.reconciliation import Severity, mismatches, run_checks

D = Decimal

# (check id, path, printed, computed); difference = printed - computed
README_ERRORS = [
    # item 14: Tabela 19 eixo rows vs sum of their subinvestments
    ("table19.eixo_vs_subinvestments", "eixo=1/year=2021", D(419443), D(419442)),
    ("table19.eixo_vs_subinvestments", "eixo=1/year=2022", D(9619625), D(9619623)),
    ("table19.eixo_vs_subinvestments", "eixo=1/year=2023", D(32752234), D(32752235)),
    ("table19.eixo_vs_subinvestments", "eixo=2/year=2021", D(601613), D(601614)),
    ("table19.eixo_vs_subinvestments", "eixo=2/year=2024", D(5133391), D(5133390)),
    ("table19.eixo_vs_subinvestments", "eixo=3/year=2022", D(3282592), D(3282591)),
    ("table19.eixo_vs_subinvestments", "eixo=3/year=2023", D(4298991), D(4298992)),
    ("table19.eixo_vs_subinvestments", "eixo=4/year=2022", D(4160810), D(4160809)),
    # item 15: Totais
    ("table19.totals_vs_eixos", "year=2022", D(18987846), D(18987847)),
    ("table19.totals_vs_subinvestments", "year=2022", D(18987846), D(18987843)),
    ("table19.totals_vs_subinvestments", "year=2023", D(51381568), D(51381570)),
    ("table19.totals_vs_subinvestments", "year=2024", D(61488597), D(61488596)),
    # item 16: Anexo 5 / Tabela 25
    ("annex5.fund_item_vs_rubrics", "fund_item=DA3110504", D(10584248), D(10584247)),
    ("annex5.group_vs_fund_items", "group=Administração PRR", D(18483101), D(18483102)),
    ("annex5.total_vs_fund_items", "total", D(61488597), D(61488598)),
    # item 17: Anexo 5 by eixo vs Tabela 19 2024
    ("table19_vs_annex5.eixo_2024", "eixo=2", D(5133391), D(5083391)),
    ("table19_vs_annex5.eixo_2024", "eixo=3", D(4336762), D(4386762)),
    ("table19_vs_annex5.eixo_2024", "eixo=4", D(16048176), D(16048177)),
    # item 18: Secção 4.2
    ("section42_vs_annex5.prr_total_2024", "year=2024", D(61488598), D(61488597)),
    ("section42_vs_annex5.prr_current_2024", "year=2024", D(18483102), D(18483101)),
    ("section42.row_total_vs_parts", "row=Despesas de Capital/year=2024", D(78781916), D(35776421 + 43005496)),
    ("section42.row_total_vs_parts", "row=D.07/year=2024", D(78781916), D(35776421 + 43005496)),
    ("section42.row_total_vs_parts", "row=TOTAL/year=2024", D(129711340), D(68222743 + 61488598)),
]

# item 20 (informative): Tabela 19 2024 forecast vs sum of the Anexo 4 lines
README_INFO = [
    ("annex4_vs_table19.lines_2024", "subinvestment=1.1.1", D(10599782), D("9397307.50")),
    ("annex4_vs_table19.lines_2024", "subinvestment=1.1.6", D(11929511), D("9353089.36")),
    ("annex4_vs_table19.lines_2024", "subinvestment=1.4.3", D(7198708), D("6467184.06")),
]


def _as_tuples(results, severity):  # type: ignore[no-untyped-def]
    return [(r.check, r.path, r.printed, r.computed) for r in results if r.severity is severity]


def test_exactly_the_readme_errors(published: PublishedBudget, codes: CodeTable) -> None:
    found = mismatches(published, codes)
    assert _as_tuples(found, Severity.ERROR) == README_ERRORS
    for r in found:
        assert r.difference == r.printed - r.computed  # type: ignore[operator]


def test_exactly_the_readme_informative(published: PublishedBudget, codes: CodeTable) -> None:
    found = mismatches(published, codes)
    assert _as_tuples(found, Severity.INFO) == README_INFO
    assert len(found) == 23 + 3


def test_readme_item_20_twelve_agree_to_the_euro(published: PublishedBudget) -> None:
    info = [r for r in run_checks(published) if r.check == "annex4_vs_table19.lines_2024"]
    assert len(info) == 15
    assert sum(1 for r in info if r.ok) == 12
    # 1.1.2: 2.226.257 printed vs lines 2.226.257,39 -> differs by 0,39: equal to the euro
    r = next(r for r in info if r.path == "subinvestment=1.1.2")
    assert (r.computed, r.difference, r.ok) == (D("2226257.39"), D("-0.39"), True)


def test_readme_item_23_checks_that_agree(published: PublishedBudget) -> None:
    results = {(r.check, r.path): r for r in run_checks(published)}
    # Figura 13 eixo totals: 115.549.796 + 16.550.367 + 19.331.350 + 30.158.371 = 181.589.884
    r = results[("figure13.total_vs_eixos", "total")]
    assert r.computed == D(115549796 + 16550367 + 19331350 + 30158371) == D(181589884) == r.printed
    for eixo in (1, 2, 3, 4):
        assert results[("figure13_vs_annex4.eixo_total_vs_total_estimado", f"eixo={eixo}")].ok
        assert results[("figure13_vs_table19.eixo_2024", f"eixo={eixo}")].ok
    # Secção 4.2 percentage: Despesas de Administração 6.676.847 / 44.252.577 = 15,09 % -> "15,1%"
    pct = results[("section42.row_variation_pct", "row=Despesas de Administração")]
    assert (pct.printed, pct.computed, pct.ok) == ("15,1%", "15,1%", True)


def test_printed_figures_not_altered(published: PublishedBudget, seed_doc: dict[str, Any]) -> None:
    mismatches(published)
    assert published.eixo(1).table19[2021] == D(419443)
    assert published.table19_totals[2024] == D(61488597)
    assert published.section42.total.values["prr_2024"] == D(61488598)
    assert parse_published(seed_doc) == published


def test_matches_the_seed_reconciliation_block(published: PublishedBudget, seed_doc: dict[str, Any]) -> None:
    # Cross-check with the independent computation shipped in the seed document itself.
    seed = [(D(m["printed"]), D(m["computed"]), D(m["difference"])) for m in seed_doc["reconciliation"]["mismatches"]]
    mine = [(r.printed, r.computed, r.difference) for r in mismatches(published) if r.severity is Severity.ERROR]
    assert mine == seed
    all_checks = seed_doc["reconciliation"]["all_checks"]
    errors = [r for r in run_checks(published) if r.severity is Severity.ERROR]
    assert len(errors) == len(all_checks) == 116


def test_a_changed_figure_is_reported(seed_doc: dict[str, Any]) -> None:
    import copy

    doc = copy.deepcopy(seed_doc)
    doc["subinvestments"][0]["execucao_2021"] = 1  # 1.1.1 2021: 0 -> 1
    found = {(r.check, r.path): r for r in mismatches(parse_published(doc))}
    # Eixo 1 2021 was 419.443 vs 419.442; now 419.443 vs 419.443 -> agrees
    assert ("table19.eixo_vs_subinvestments", "eixo=1/year=2021") not in found
    # Totais 2021 7.407.127 vs subinvestments now 7.407.128
    r = found[("table19.totals_vs_subinvestments", "year=2021")]
    assert (r.printed, r.computed, r.difference) == (D(7407127), D(7407128), D(-1))

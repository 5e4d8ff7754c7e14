"""Pure domain: amount validation against structure and code table; reports and roll-ups."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from budget.domain.amounts import AmountEntry, AmountError, AmountInput, Breakdown, Structure, build_entry, seed_inputs
from budget.domain.economic_codes import CodeTable
from budget.domain.money import split_gross, split_net
from budget.domain.published import PublishedBudget
from budget.domain.reports import ReportError, by_eixo_and_year, cumulative, planned_vs_executed

D = Decimal


@pytest.fixture(scope="module")
def structure(published: PublishedBudget) -> Structure:
    return Structure.from_published(published)


def _seed_entries(published: PublishedBudget, structure: Structure, codes: CodeTable) -> list[AmountEntry]:
    return [build_entry(i, structure, codes) for i in seed_inputs(published)]


def test_seed_inputs_cover_every_printed_leaf(published: PublishedBudget) -> None:
    inputs = seed_inputs(published)
    assert len(inputs) == 15 * 4 + 19 + 109
    # Anexo 4 amounts keep their cents as printed: 1.611.717,22 EUR
    first_line = next(i for i in inputs if i.breakdown == "procurement")
    assert (first_line.amount, first_line.npd) == ("1611717.22", "2322000121")


def test_both_code_schemes_and_eixo_from_position(structure: Structure, codes: CodeTable) -> None:
    e = build_entry(
        AmountInput(breakdown="subinvestment", year=2024, phase="executed", amount="10.00", subinvestment="4.3"),
        structure,
        codes,
    )
    assert (e.subinvestment, e.eixo) == ("1.4.3", 4)
    e = build_entry(
        AmountInput(
            breakdown="rubric", year=2024, phase="planned", amount="1", fund_item="CPRR03", rubric="D.07.01.07.06.02"
        ),
        structure,
        codes,
    )
    assert (e.eixo, e.gross) == (3, D("1.00"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"breakdown": "rubric", "fund_item": "DA3110501"}, "rubric"),  # rubric breakdown without rubric
        ({"breakdown": "procurement", "subinvestment": None, "eixo": 1}, "subinvestment"),
        ({"phase": "paid"}, "phase"),
        ({"month": 13}, "month"),
        ({"amount": "-3"}, "amount"),
        ({"subinvestment": None, "eixo": 5}, "eixo"),  # Eixo 5 has no budget
        ({"funding_source": "eu"}, "funding_source"),
    ],
)
def test_build_entry_refusals(structure: Structure, codes: CodeTable, changes: dict[str, object], field: str) -> None:
    raw = AmountInput(breakdown="subinvestment", year=2024, phase="executed", amount="1.00", subinvestment="1.1.1")
    for key, value in changes.items():
        setattr(raw, key, value)
    with pytest.raises(AmountError) as info:
        build_entry(raw, structure, codes)
    assert info.value.field == field


def test_reports_from_seed(published: PublishedBudget, structure: Structure, codes: CodeTable) -> None:
    entries = _seed_entries(published, structure, codes)
    by_sub = planned_vs_executed(entries, ("subinvestment",), year=2022)
    rows = {r.keys["subinvestment"]: r.totals for r in by_sub.rows}
    # Eixo 3 2022: 1.3.1 3.245.898 + 1.3.2 36.693 = 3.282.591 (the printed eixo row says 3.282.592)
    assert rows["1.3.1"].executed + rows["1.3.2"].executed == D(3245898 + 36693) == D(3282591)
    eixo_year = {(f.eixo, f.year): f for f in by_eixo_and_year(entries)}
    assert eixo_year[(3, 2022)].executed == D("3282591.00")
    assert eixo_year[(3, 2022)].execution_ratio is None  # nothing planned for 2022
    assert eixo_year[(3, 2024)].planned == D(3855000 + 481762)
    rubric = planned_vs_executed(entries, ("rubric",), rubric_level=3)
    assert rubric.breakdown is Breakdown.RUBRIC
    level3 = {r.keys["rubric"]: r.totals.planned for r in rubric.rows}
    # D.02.02.14 (estudos, pareceres): 143.910 (DA3110501) + 617.440 (DA3110504)
    assert level3["D.02.02.14"] == D(143910 + 617440)
    # level 3 of a level-2-only code does not exist; D.02.02.25 is itself level 3
    assert level3["D.02.02.25"] == D(30750)
    procurement = planned_vs_executed(entries, ("subinvestment",), Breakdown.PROCUREMENT)
    assert {r.keys["subinvestment"]: r.totals.planned for r in procurement.rows}["1.1.1"] == D("9397307.50")
    with pytest.raises(ReportError):
        planned_vs_executed(entries, ("colour",))


def test_execution_rate_and_variance(structure: Structure, codes: CodeTable) -> None:
    def entry(phase: str, amount: str) -> AmountEntry:
        raw = AmountInput(breakdown="subinvestment", year=2025, phase=phase, amount=amount, subinvestment="1.2.1")
        return build_entry(raw, structure, codes)

    entries = [entry("planned", "300.00"), entry("corrected", "-100.00"), entry("executed", "150.00")]
    t = planned_vs_executed(entries, ("eixo",)).rows[0].totals
    # planned 300 - 100 = 200; executed 150 -> 75.00 %, variance 150 - 200 = -50
    assert (t.planned, t.executed, t.execution_rate_pct, t.variance) == (D(200), D(150), D("75.00"), D(-50))
    rows = cumulative(entries, "eixo", {2: D(1000)}, up_to_year=2025)
    assert (rows[0].executed_to_date, rows[0].execution_of_total_pct, rows[0].remaining) == (D(150), D("15.00"), D(850))
    assert cumulative(entries, "eixo", {2: D(1000)}, up_to_year=2024)[0].executed_to_date == 0


cents = st.integers(min_value=0, max_value=10**12).map(lambda c: Decimal(c).scaleb(-2))
rates = st.sampled_from([D("0.23"), D("0.13"), D("0.06"), D("0"), D("0.2225")])


@given(cents, rates)
def test_gross_split_always_sums_to_gross(gross: Decimal, rate: Decimal) -> None:
    s = split_gross(gross, rate)
    assert s.net + s.vat == s.gross == gross
    assert s.net.as_tuple().exponent == -2
    assert s.vat >= 0
    # the VAT is within half a cent (times the rate) of the exact VAT on the net
    assert abs(s.vat - s.net * rate) <= D("0.005") * (1 + rate)


@given(cents, rates)
def test_net_split_rounds_vat_half_up(net: Decimal, rate: Decimal) -> None:
    s = split_net(net, rate)
    assert s.gross == s.net + s.vat
    assert abs(s.vat - net * rate) <= D("0.005")

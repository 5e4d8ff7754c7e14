"""Pure pieces of the budget and planner pages: money typed in a language read exactly, the bars' scale, and the
readable difference of two plan documents."""

from __future__ import annotations

from decimal import Decimal

import pytest

from console.budget_view import BAR_WIDTH, eixo_bars, typed_money
from console.plan_diff import diff_documents


@pytest.mark.parametrize(
    ("typed", "lang", "sent"),
    [
        ("1 230,50", "pt-PT", "1230.50"),
        ("1.230,50", "pt-BR", "1230.50"),
        ("1\u00a0230,50", "pt-PT", "1230.50"),  # a no-break space, as a pt-PT number is printed
        ("1230.50", "pt-PT", "1230.50"),  # the API's own form, in any language
        ("1 230,5", "pt-PT", "1230.5"),  # never padded: the API refuses it, naming the field
        ("1.230", "pt-PT", "1230"),  # thousands, not a decimal point: refused for lacking cents
        ("-500,00", "pt-PT", "-500.00"),
        ("1,230.50", "en", "1230.50"),
        ("1 230,50", "en", "1 230,50"),  # not an English number: sent as typed, the API names the field
        ("12,5,0", "pt-PT", "12,5,0"),
    ],
)
def test_money_as_typed_is_read_digit_for_digit(typed: str, lang: str, sent: str) -> None:
    assert typed_money(typed, lang) == sent


def test_bars_share_one_scale() -> None:
    rows = [
        {"eixo": 1, "year": 2024, "planned": "1000.00", "executed": "250.00", "execution_rate_pct": "25.00"},
        {"eixo": 2, "year": 2024, "planned": "500.00", "executed": "0.00", "execution_rate_pct": "0.00"},
        {"eixo": 1, "year": 2023, "planned": "0.00", "executed": "100.00", "execution_rate_pct": None},
    ]
    groups = eixo_bars(rows, {1: "Um", 2: "Dois"})
    assert [(g.eixo, [b.year for b in g.bars]) for g in groups] == [(1, [2023, 2024]), (2, [2024])]
    e1_2024 = groups[0].bars[1]
    # the largest figure (1000) is the full width; 250 is a quarter of it, 500 a half
    assert (e1_2024.planned_width, e1_2024.executed_width) == (BAR_WIDTH, BAR_WIDTH // 4)
    assert groups[1].bars[0].planned_width == BAR_WIDTH // 2
    assert groups[1].bars[0].executed_width == 0
    assert e1_2024.planned == Decimal("1000.00")


def test_plan_diff_names_added_removed_and_changed_fields() -> None:
    before = {
        "plan": {"title": "Plano"},
        "indicators": [
            {"code": "A", "name": "Alfa", "weight": "50", "meta": "10", "scoring_rule": {"kind": "general"}},
            {"code": "B", "name": "Beta", "weight": "50", "meta": "20"},
        ],
        "operational_objectives": [{"code": "OP1", "name": "Um", "weight": "100"}],
    }
    after = {
        "plan": {"title": "Plano 2"},
        "indicators": [
            {"code": "A", "name": "Alfa", "weight": "60", "meta": "12", "scoring_rule": {"kind": "ratio"}},
            {"code": "C", "name": "Gama", "weight": "40", "meta": "5"},
        ],
        "operational_objectives": [{"code": "OP1", "name": "Um", "weight": "100"}],
    }
    diff = diff_documents(before, after)
    assert [(c.path, c.before, c.after) for c in diff.plan] == [("title", "Plano", "Plano 2")]
    indicators = next(c for c in diff.collections if c.name == "indicators")
    assert [i["code"] for i in indicators.added] == ["C"]
    assert [i["code"] for i in indicators.removed] == ["B"]
    (a,) = indicators.changed
    # weights and metas first, then the rest by path
    assert [(c.path, c.before, c.after) for c in a.changes] == [
        ("weight", "50", "60"),
        ("meta", "10", "12"),
        ("scoring_rule.kind", "general", "ratio"),
    ]
    assert next(c for c in diff.collections if c.name == "operational_objectives").empty
    assert diff_documents(before, before).empty

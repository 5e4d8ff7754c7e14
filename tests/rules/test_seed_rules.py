"""The translation of the seed tables' `scoring:` blocks into rule documents (metas_rules.seed_rules), on small
inputs shaped like the Acordo's tables; each expected document is written out by hand."""

from __future__ import annotations

from typing import Any

import pytest

from metas_rules import parse_rule
from metas_rules.seed_rules import (
    SEED_DERIVED_EXCLUDES,
    indicator_rule_from_seed,
    product_rule_from_seed,
    quar_rule,
)


def ind(rule: str, **scoring: Any) -> dict[str, Any]:
    return {"scoring": {"rule": rule, **scoring}}


def test_simple_kinds() -> None:
    assert indicator_rule_from_seed(ind("general")) == {"kind": "general"}
    assert indicator_rule_from_seed(ind("ratio")) == {"kind": "ratio", "scale": 100}
    assert indicator_rule_from_seed(ind("ratio_times_10")) == {"kind": "ratio", "scale": 10}
    assert indicator_rule_from_seed(ind("ratio_times_10_with_floor", zero_below_execution_percent=70.0)) == {
        "kind": "ratio",
        "scale": 10,
        "zero_below_result": "70.0",
    }
    assert quar_rule() == {"kind": "quar_realization", "ceiling": "125", "below_band": "band_edge"}


def test_mean_of_the_team_grades() -> None:
    # "excluídas a Procuradoria e Auditoria Seccional"
    assert SEED_DERIVED_EXCLUDES == ("procuradoria", "auditoria_seccional")
    assert indicator_rule_from_seed(ind("ratio_times_10", depends_on="the grades of the other teams")) == {
        "kind": "derived_from_teams",
        "exclude_units": ["procuradoria", "auditoria_seccional"],
        "team_grade_scale": 10,
        "scale": 10,
    }
    other = indicator_rule_from_seed(ind("ratio_times_10", depends_on="x"), derived_excludes=("a",))
    assert other["exclude_units"] == ["a"]


def test_threshold_with_meta_table() -> None:
    rule = indicator_rule_from_seed(
        ind(
            "threshold_with_meta_table",
            meta_table=[
                {
                    "reference_index_as_printed": "Índice de Referência > 50%",
                    "reference_index": {"min": 50, "min_inclusive": False, "max": None, "max_inclusive": None},
                    "meta_max_idle_percent": 20,
                },
                {
                    "reference_index": {"min": 0, "min_inclusive": True, "max": 15, "max_inclusive": True},
                    "meta_max_idle_percent": 5,
                },
            ],
        )
    )
    assert rule == {
        "kind": "threshold",
        "pass_when": "at_most_meta",
        "meta_table": {
            "rows": [
                {
                    "intervals": [{"min": "50", "min_inclusive": False, "max": None, "max_inclusive": True}],
                    "value": "20",
                    "label": "Índice de Referência > 50%",
                },
                {
                    "intervals": [{"min": "0", "min_inclusive": True, "max": "15", "max_inclusive": True}],
                    "value": "5",
                    "label": None,
                },
            ],
            "gap": "error",
        },
    }
    assert parse_rule(rule).kind == "threshold"


def test_purchasing_plan_buckets_then_score_table() -> None:
    bucket_rows = [
        {"range_as_printed": "70% ≤ execução ≤ 130%", "intervals": [{"min": 70, "max": 130}], "value": 1},
        {
            "range_as_printed": "50% ≤ execução < 70% ou 130% < execução ≤ 150%",
            "intervals": [
                {"min": 50, "max": 70, "max_inclusive": False},
                {"min": 130, "min_inclusive": False, "max": 150},
            ],
            "value": 0.7,
        },
    ]
    rule = indicator_rule_from_seed(
        ind(
            "bucket_tables_then_score_table",
            x={"buckets": bucket_rows},
            y={"buckets": bucket_rows[:1]},
            score_table=[
                {
                    "aproveitamento_as_printed": "De 70% a 100% (Inclusive)",
                    "interval": {"min": 70, "max": 100},
                    "nota": 100,
                },
                {"interval": {"min": None, "max": 70, "max_inclusive": False}, "nota": 0},
            ],
        )
    )
    closed = {"min_inclusive": True, "max_inclusive": True}
    assert rule == {
        "kind": "weighted_composite",
        "components": [
            {
                "code": "X",
                "name": "Execução quantitativa",
                "weight": "0.5",
                "buckets": {
                    "rows": [
                        {
                            "intervals": [{"min": "70", "max": "130", **closed}],
                            "value": "1",
                            "label": "70% ≤ execução ≤ 130%",
                        },
                        {
                            "intervals": [
                                {"min": "50", "min_inclusive": True, "max": "70", "max_inclusive": False},
                                {"min": "130", "min_inclusive": False, "max": "150", "max_inclusive": True},
                            ],
                            "value": "0.7",
                            "label": "50% ≤ execução < 70% ou 130% < execução ≤ 150%",
                        },
                    ],
                    "gap": "error",
                },
            },
            {
                "code": "Y",
                "name": "Execução qualitativa",
                "weight": "0.5",
                "buckets": {
                    "rows": [
                        {
                            "intervals": [{"min": "70", "max": "130", **closed}],
                            "value": "1",
                            "label": "70% ≤ execução ≤ 130%",
                        }
                    ],
                    "gap": "error",
                },
            },
        ],
        "multiplier": "100",
        "table": {
            "rows": [
                {
                    "intervals": [{"min": "70", "max": "100", **closed}],
                    "value": "100",
                    "label": "De 70% a 100% (Inclusive)",
                },
                {
                    "intervals": [{"min": None, "min_inclusive": True, "max": "70", "max_inclusive": False}],
                    "value": "0",
                    "label": None,
                },
            ],
            "gap": "error",
        },
    }
    assert parse_rule(rule).kind == "weighted_composite"


def test_regionalisation_composite_reads_gaps_as_the_row_below() -> None:
    rule = indicator_rule_from_seed(
        ind(
            "weighted_composite_then_step_table",
            components=[
                {"code": "%ATrefis", "name": "física", "weight": 0.3},
                {"code": "%Refin", "weight": 0.4},
            ],
            score_table=[{"faixa_as_printed": "De 90% até 100%", "interval": {"min": 90, "max": 100}, "nota": 100}],
        )
    )
    assert rule == {
        "kind": "weighted_composite",
        "components": [
            {"code": "%ATrefis", "name": "física", "weight": "0.3"},
            {"code": "%Refin", "name": None, "weight": "0.4"},
        ],
        "multiplier": "1",
        "table": {
            "rows": [
                {
                    "intervals": [{"min": "90", "min_inclusive": True, "max": "100", "max_inclusive": True}],
                    "value": "100",
                    "label": "De 90% até 100%",
                }
            ],
            "gap": "row_below",
        },
    }


def test_unknown_rules_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^unknown seed indicator rule 'magic'$"):
        indicator_rule_from_seed(ind("magic"))
    with pytest.raises(ValueError, match=r"^unknown seed product rule 'magic'$"):
        product_rule_from_seed({"scoring": {"rule": "magic"}})


def test_product_rules() -> None:
    product = {
        "scoring": {"rule": "delay_bands"},
        "delay_bands": [
            {"band_as_printed": "Realizado em dia", "days_late_min": 0, "days_late_max": 0, "nota": 100},
            {"days_late_min": 361, "days_late_max": None, "nota": 0.0},
        ],
    }
    assert product_rule_from_seed(product) == {
        "kind": "delay_table",
        "bands": [
            {"days_min": 0, "days_max": 0, "score": "100", "label": "Realizado em dia"},
            {"days_min": 361, "days_max": None, "score": "0.0", "label": None},
        ],
        "beyond_score": "0",
    }
    general = {"scoring": {"rule": "general"}}
    assert product_rule_from_seed(general) == {"kind": "delay_table"}
    # "303 processos revisados": a no-V0 ratio against the quantity
    assert product_rule_from_seed(general, quantity_target="303") == {"kind": "ratio", "scale": 100, "target": "303"}

"""Edges of the engine's fast paths (docs/domain.md §2.1–2.3): scores of exactly 0 and 100 keep 2 places, the fast
rule kinds record how to explain themselves instead of the steps, a team grade counts only scored goals and names
the goals it set aside or misses, step-table rows and rule copies. Figures worked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from rules_seed_facts import acordo_product

from metas_rules import parse_rule
from metas_rules.engine import (
    AcordoPlan,
    IndicatorFacts,
    Observation,
    Score,
    WeightedItem,
    evaluate_acordo,
    score_indicator,
    team_score,
)
from metas_rules.tables import StepRow

GENERAL = parse_rule({"kind": "general"})


def _native(facts: IndicatorFacts, result: str) -> str:
    score = score_indicator(facts, Observation(result=D(result)))
    assert score.status == "scored"
    native = score.to_dict()["native"]
    assert isinstance(native, str)
    return native


def test_general_scores_of_exactly_0_and_100_keep_two_places() -> None:
    no_v0 = IndicatorFacts(code="G", rule=GENERAL, meta=D(80))
    assert _native(no_v0, "0") == "0.00"  # 0 / 80 × 100 = 0.00, already inside [0, 100]
    assert _native(no_v0, "80") == "100.00"  # 80 / 80 × 100 = 100.00
    ambitious = IndicatorFacts(code="G", rule=GENERAL, meta=D(80), reference_value=D(60))
    assert _native(ambitious, "60") == "0.00"  # (60 − 60) / (80 − 60) × 100 = 0.00
    assert _native(ambitious, "80") == "100.00"  # (80 − 60) / 20 × 100 = 100.00


def test_ratio_score_of_exactly_0_keeps_two_places() -> None:
    for scale in (100, 10):
        facts = IndicatorFacts(code="R", rule=parse_rule({"kind": "ratio", "scale": scale}), meta=D(80))
        assert _native(facts, "0") == "0.00"  # 0 / 80 × scale = 0.00


def test_fast_rule_kinds_record_how_to_explain_not_the_steps() -> None:
    facts = IndicatorFacts(code="R", rule=parse_rule({"kind": "ratio", "scale": 100}), meta=D(80))
    score = score_indicator(facts, Observation(result=D(60)))
    assert score[Score._steps_at] is None  # the explanation is built when read
    assert score.value == D("75.00")  # 60 / 80 × 100
    assert score.steps[0].result == "75.00"
    missing = score_indicator(facts, Observation())
    assert missing.status == "missing"
    assert missing[Score._steps_at] == ()


def test_team_grade_counts_only_goals_with_the_status_scored() -> None:
    # a pending goal carrying a figure is not a score: (80 × 2) / 2 = 80.00, incomplete
    items = [
        WeightedItem("g1", D(2), Score("g1", "scored", D(80))),
        WeightedItem("g2", D(1), Score("g2", "pending", D(20))),
        WeightedItem("g3", D(1), Score("g3", "set_aside", D(20))),
    ]
    grade = team_score("U", items)
    assert (grade.value, grade.complete, grade.set_aside, grade.missing) == (D("80.00"), False, ("g3",), ("g2",))


def test_acordo_team_names_the_goals_it_sets_aside_or_misses() -> None:
    cartilha = acordo_product("diretoria_saude", "01")  # nothing delivered: missing
    unit = cartilha.unit_code
    assert unit is not None
    plan = AcordoPlan(
        (unit,),
        (
            IndicatorFacts(code="ia", rule=GENERAL, meta=D(80), unit_code=unit, weight=D(60)),
            IndicatorFacts(code="ib", rule=GENERAL, meta=D(80), unit_code=unit, weight=D(20)),
        ),
        (cartilha,),
        cutoff=date(2015, 1, 30),
    )
    obs = {"ia": Observation(result=D(60)), "ib": Observation(result=D(80), set_aside=True)}
    result = evaluate_acordo(plan, obs, {})
    team = result.teams[unit]
    # ia: 60 / 80 × 100 = 75.00 is the only scored goal; ib set aside; the product has no delivery
    assert team.value == D("75.00")
    assert team.set_aside == ("ib",)
    assert team.missing == (cartilha.code,)
    assert not team.complete


def test_step_row_contains_any_of_its_intervals_bounds_included_or_not() -> None:
    row = StepRow.model_validate(
        {
            "intervals": [
                {"min": "0", "max": "10", "max_inclusive": False},
                {"min": "20", "max": "30"},
            ],
            "value": "50",
        }
    )
    assert [row.contains(D(x)) for x in ("-0.01", "0", "9.99", "10", "15", "20", "30", "30.01")] == [
        False,
        True,
        True,
        False,
        False,
        True,
        True,
        False,
    ]


def test_model_copy_is_shallow_unless_asked_deep() -> None:
    row = StepRow.model_validate({"intervals": [{"min": "0", "max": "10"}], "value": "50"})
    assert row.model_copy().intervals[0] is row.intervals[0]
    deep = row.model_copy(deep=True)
    assert deep.intervals[0] is not row.intervals[0]
    assert deep == row
    updated = row.model_copy(update={"value": D(70)})
    assert updated.value == D(70)
    assert updated.intervals[0] is row.intervals[0]


def test_a_score_pushed_to_a_bound_keeps_two_places() -> None:
    # V0 60, meta 80: result 50 → (50 − 60) / 20 × 100 = −50.00, bounded to 0.00; result 90 → 150.00, bounded to
    # 100.00 (docs/domain.md §1: every score keeps 2 places, also at a bound).
    ambitious = IndicatorFacts(code="G", rule=GENERAL, meta=D(80), reference_value=D(60))
    assert _native(ambitious, "50") == "0.00"
    assert _native(ambitious, "90") == "100.00"
    no_v0 = IndicatorFacts(code="G", rule=GENERAL, meta=D(80))
    assert _native(no_v0, "100") == "100.00"  # 100 / 80 × 100 = 125.00, bounded to 100.00

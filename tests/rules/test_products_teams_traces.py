"""Products, team grades, productivity, team order and the whole Acordo evaluation: scores and their explanations,
worked by hand from docs/domain.md §2.2–2.3 (the Acordo's Anexo IV and its own product tables)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest

from metas_rules.engine import (
    AcordoPlan,
    Delivery,
    DependencyCycleError,
    IndicatorFacts,
    Observation,
    ProductFacts,
    StageFacts,
    WeightedItem,
    evaluate_acordo,
    last_business_day_of_january,
    product_cutoff,
    productivity,
    score_product,
    team_dependencies,
    team_order,
    team_score,
)
from metas_rules.engine.trace import Score
from metas_rules.rules import DelayTableRule, DerivedFromTeamsRule, GeneralRule, RatioRule
from metas_rules.tables import DelayBand

CUTOFF = date(2015, 1, 30)  # last business day of January 2015 (31 January is a Saturday)
DUE = date(2014, 11, 30)


def own_table(**kw: Any) -> DelayTableRule:
    """The delay table every product of the Acordo prints (docs/domain.md §2.2.1)."""
    spans = [(0, 0, "100"), (1, 15, "90"), (16, 30, "80"), (31, 45, "70"), (46, 60, "60"), (61, 360, "50")]
    return DelayTableRule(bands=[DelayBand(days_min=a, days_max=b, score=D(s)) for a, b, s in spans], **kw)


def product(rule: Any = None, due: date | None = DUE, stages: tuple[StageFacts, ...] = ()) -> ProductFacts:
    return ProductFacts(code="P", rule=rule or own_table(), due_date=due, stages=stages)


def steps(score: Score) -> list[dict[str, Any]]:
    return [s.to_dict() for s in score.steps]


def delivered(on: date) -> Delivery:
    return Delivery(status="delivered", delivered_on=on)


# ---------------------------------------------------------------- full delivery (§2.2.1)


def test_delivered_late_trace() -> None:
    # due 30/11/2014, delivered 15/12/2014: 15 calendar days late → band "1–15" → 90
    s = score_product(product(), delivered(date(2014, 12, 15)), cutoff=CUTOFF)
    assert (s.status, s.value, s.native, s.rule_kind) == ("scored", D("90"), D("90"), "delay_table")
    assert steps(s) == [
        {
            "description": "calendar days late",
            "formula": "days late = max(0, delivered on − due date)",
            "values": {"due date": "2014-11-30", "delivered on": "2014-12-15"},
            "result": "15",
            "table_row": None,
        },
        {
            "description": "delay table: days late → score",
            "formula": None,
            "values": {"days late": "15"},
            "result": "90",
            "table_row": "band 2: 1-15 days late -> 90",
        },
    ]


@pytest.mark.parametrize(
    ("on", "late", "score", "band"),
    [
        (date(2014, 11, 20), 0, "100", "band 1: 0-0 days late -> 100"),  # early counts as on time
        (date(2014, 11, 30), 0, "100", "band 1: 0-0 days late -> 100"),  # on the due date
        (date(2014, 12, 1), 1, "90", "band 2: 1-15 days late -> 90"),
        (date(2014, 12, 16), 16, "80", "band 3: 16-30 days late -> 80"),
        (date(2014, 12, 30), 30, "80", "band 3: 16-30 days late -> 80"),
        (date(2014, 12, 31), 31, "70", "band 4: 31-45 days late -> 70"),
        (date(2015, 1, 29), 60, "60", "band 5: 46-60 days late -> 60"),
        # on the cut-off day itself: still scored by its delay (1 Dec … 30 Jan = 61 days) → 50
        (date(2015, 1, 30), 61, "50", "band 6: 61-360 days late -> 50"),
    ],
)
def test_delay_bands_on_both_sides_of_each_edge(on: date, late: int, score: str, band: str) -> None:
    s = score_product(product(), delivered(on), cutoff=CUTOFF)
    assert s.value == D(score)
    assert steps(s)[0]["result"] == str(late)
    assert steps(s)[1]["table_row"] == band


def test_delivered_after_the_cut_off_is_not_evaluated() -> None:
    # 31/01/2015 is one day after the cut-off: 0 whatever the table says
    s = score_product(product(), delivered(date(2015, 1, 31)), cutoff=CUTOFF)
    assert s.value == 0
    assert steps(s) == [
        {
            "description": "delivered after the cut-off (last business day of January of the next year): not evaluated",
            "formula": None,
            "values": {"delivered on": "2015-01-31", "cut-off": "2015-01-30"},
            "result": "0",
            "table_row": None,
        }
    ]


def test_beyond_the_last_band_and_no_cut_off() -> None:
    # no cut-off (rule or argument): due 01/01/2014; 27/12/2014 = 360 days → 50, 28/12/2014 = 361 → beyond → 0
    rule = own_table(cutoff="none")
    due = date(2014, 1, 1)
    assert score_product(product(rule, due), delivered(date(2014, 12, 27)), cutoff=CUTOFF).value == D("50")
    beyond = score_product(product(rule, due), delivered(date(2014, 12, 28)), cutoff=CUTOFF)
    assert beyond.value == 0
    assert steps(beyond)[1]["table_row"] == "beyond the last band -> 0"
    # the default rule honours a cut-off only when one is given: cutoff=None → 183 days → 50
    assert score_product(product(), delivered(date(2015, 6, 1)), cutoff=None).value == D("50")


def test_general_delay_table_edges() -> None:
    # Anexo IV general table: on time 100; 1–30 80; 31–60 70; 61–90 60; 91–120 50; more than 120 → 0
    rule = DelayTableRule(cutoff="none")
    due = date(2014, 1, 1)
    for days, score in ((0, "100"), (1, "80"), (30, "80"), (31, "70"), (90, "60"), (91, "50"), (120, "50")):
        on = date.fromordinal(due.toordinal() + days)
        assert score_product(product(rule, due), delivered(on), cutoff=None).value == D(score), days
    late = score_product(product(rule, due), delivered(date.fromordinal(due.toordinal() + 121)), cutoff=None)
    assert (late.value, steps(late)[1]["table_row"]) == (D("0"), "band 6: 121+ days late -> 0")


# ---------------------------------------------------------------- undelivered: pending, missing, cut-off (§2.2.2)


def test_undelivered_before_at_and_after_the_due_date_and_the_cut_off() -> None:
    on_due = score_product(product(), None, cutoff=CUTOFF, as_of=DUE)
    assert (on_due.status, on_due.reason, on_due.value) == ("pending", "due 2014-11-30, not delivered yet", None)
    after_due = score_product(product(), Delivery(), cutoff=CUTOFF, as_of=date(2014, 12, 1))
    assert (after_due.status, after_due.reason) == ("missing", "no delivery registered")
    on_cutoff = score_product(product(), None, cutoff=CUTOFF, as_of=CUTOFF)
    assert on_cutoff.status == "missing"
    after_cutoff = score_product(product(), None, cutoff=CUTOFF, as_of=date(2015, 1, 31))
    assert (after_cutoff.status, after_cutoff.value) == ("scored", D("0"))
    assert steps(after_cutoff)[0]["values"] == {
        "due date": "2014-11-30",
        "cut-off": "2015-01-30",
        "evaluated on": "2015-01-31",
    }
    assert steps(after_cutoff)[0]["description"].startswith("nothing delivered by the cut-off")
    assert score_product(product(), None, cutoff=CUTOFF).status == "missing"  # no evaluation date
    assert score_product(product(), None, cutoff=None, as_of=date(2016, 1, 1)).status == "missing"


def test_declared_not_delivered() -> None:
    undelivered = Delivery(status="not_delivered")
    pending = score_product(product(), undelivered, cutoff=CUTOFF, as_of=DUE)
    assert pending.status == "pending"
    zero = score_product(product(), undelivered, cutoff=CUTOFF, as_of=date(2014, 12, 1))
    assert (zero.status, zero.value) == ("scored", D("0"))
    assert steps(zero)[0]["description"] == "not delivered: score 0"
    assert steps(zero)[0]["values"] == {"due date": "2014-11-30"}
    # "delivered" without a date counts as not delivered
    assert score_product(product(), Delivery(status="delivered"), cutoff=CUTOFF).value == 0


# ---------------------------------------------------------------- partial delivery (§2.2.3)


@pytest.mark.parametrize(("given", "score"), [("0", "0.00"), ("50", "50.00"), ("12.345", "12.35")])
def test_partial_scores_on_the_edges_are_accepted(given: str, score: str) -> None:
    s = score_product(
        product(), Delivery(status="partial", partial_score=D(given), justification="metade"), cutoff=None
    )
    assert str(s.value) == score  # rounded half up
    assert steps(s)[0]["description"] == "partial delivery: committee score (0–50)"
    assert steps(s)[0]["values"] == {"justification": "metade"}


@pytest.mark.parametrize(
    ("given", "why", "reason"),
    [
        ("50.01", "ok", "partial-delivery score 50.01 is outside 0–50"),
        ("-0.01", "ok", "partial-delivery score -0.01 is outside 0–50"),
        (None, "ok", "partial delivery without the committee's score"),
        ("10", "   ", "partial-delivery score without a justification"),
        ("10", None, "partial-delivery score without a justification"),
    ],
)
def test_partial_scores_refused(given: str | None, why: str | None, reason: str) -> None:
    d = Delivery(status="partial", partial_score=None if given is None else D(given), justification=why)
    s = score_product(product(), d, cutoff=None)
    assert (s.status, s.reason, s.value) == ("not_scorable", reason, None)


def test_partial_maximum_is_the_rules() -> None:
    rule = own_table(partial_max=D("30"))
    ok = score_product(product(rule), Delivery(status="partial", partial_score=D(30), justification="x"), cutoff=None)
    assert ok.value == D("30.00")
    assert steps(ok)[0]["description"] == "partial delivery: committee score (0–30)"
    no = score_product(product(rule), Delivery(status="partial", partial_score=D(31), justification="x"), cutoff=None)
    assert no.reason == "partial-delivery score 31 is outside 0–30"


# ---------------------------------------------------------------- stages (§2.2.4)


STAGES = (
    StageFacts("S1", date(2014, 6, 30)),
    StageFacts("S2", date(2014, 9, 30)),
    StageFacts("S3", date(2014, 11, 30)),
)
STAGE_DELIVERIES = Delivery(
    stages={
        "S1": delivered(date(2014, 6, 30)),  # on time → 100
        "S2": delivered(date(2014, 10, 20)),  # 20 days → 80
        "S3": delivered(date(2015, 1, 29)),  # 60 days → 60
    }
)


def test_stages_mean_trace() -> None:
    # (100 + 80 + 60) / 3 = 80.00
    s = score_product(product(due=None, stages=STAGES), STAGE_DELIVERIES, cutoff=CUTOFF)
    assert s.value == D("80.00")
    assert [x["description"] for x in steps(s)[:2]] == [
        "stage S1: calendar days late",
        "stage S1: delay table: days late → score",
    ]
    assert steps(s)[-1] == {
        "description": "product score from its stages",
        "formula": "score = mean of the stage scores",
        "values": {"S1": "100.00", "S2": "80.00", "S3": "60.00"},
        "result": "80.00",
        "table_row": None,
    }


def test_stages_mean_rounds_half_up() -> None:
    # 100, 80, 50: 230 / 3 = 76.666… → 76.67
    deliveries = Delivery(stages={**STAGE_DELIVERIES.stages, "S3": delivered(date(2015, 1, 30))})
    assert score_product(product(due=None, stages=STAGES), deliveries, cutoff=CUTOFF).value == D("76.67")


def test_stages_weighted_trace() -> None:
    # weights 1, 1, 2: (100 × 1 + 80 × 1 + 60 × 2) / 4 = 300 / 4 = 75.00
    weighted = tuple(StageFacts(s.code, s.due_date, D(w)) for s, w in zip(STAGES, ("1", "1", "2"), strict=True))
    s = score_product(product(due=None, stages=weighted), STAGE_DELIVERIES, cutoff=CUTOFF)
    assert s.value == D("75.00")
    assert steps(s)[-1]["formula"] == "score = Σ stage score × weight / Σ weight"
    # weights 3, 1, 0: (300 + 80 + 0) / 4 = 95.00 — a zero weight leaves the stage out of both sums
    other = tuple(StageFacts(s.code, s.due_date, D(w)) for s, w in zip(STAGES, ("3", "1", "0"), strict=True))
    assert score_product(product(due=None, stages=other), STAGE_DELIVERIES, cutoff=CUTOFF).value == D("95.00")
    zero = tuple(StageFacts(s.code, s.due_date, D(0)) for s in STAGES)
    nothing = score_product(product(due=None, stages=zero), STAGE_DELIVERIES, cutoff=CUTOFF)
    assert (nothing.status, nothing.reason) == ("not_scorable", "stage weights sum to 0")
    # one stage without a weight: the plain mean
    mixed = (StageFacts("S1", STAGES[0].due_date, D(5)), STAGES[1], STAGES[2])
    assert score_product(product(due=None, stages=mixed), STAGE_DELIVERIES, cutoff=CUTOFF).value == D("80.00")


def test_stages_honour_the_cut_off() -> None:
    # S3 delivered the day after the cut-off → 0: (100 + 80 + 0) / 3 = 60.00
    late = Delivery(stages={**STAGE_DELIVERIES.stages, "S3": delivered(date(2015, 1, 31))})
    assert score_product(product(due=None, stages=STAGES), late, cutoff=CUTOFF).value == D("60.00")
    nothing = score_product(product(due=None, stages=STAGES), None, cutoff=CUTOFF, as_of=date(2014, 1, 1))
    assert (nothing.status, nothing.code) == ("pending", "P")


def test_a_pending_stage_makes_the_product_pending() -> None:
    partly = Delivery(stages={"S1": delivered(date(2014, 6, 30))})
    s = score_product(product(due=None, stages=STAGES), partly, cutoff=CUTOFF, as_of=date(2014, 8, 1))
    assert (s.status, s.reason) == ("pending", "stage S2: due 2014-09-30, not delivered yet")
    assert len(s.steps) == 2  # the first stage's steps are kept


def test_a_missing_or_unscorable_stage_keeps_the_earlier_stages_steps() -> None:
    # S1 delivered on its due date 30/06/2014: 0 days late → band 1 (on time) → 100. These two steps stay in the
    # explanation whatever stops a later stage.
    s1_steps = [
        {
            "description": "stage S1: calendar days late",
            "formula": "days late = max(0, delivered on − due date)",
            "values": {"due date": "2014-06-30", "delivered on": "2014-06-30"},
            "result": "0",
            "table_row": None,
        },
        {
            "description": "stage S1: delay table: days late → score",
            "formula": None,
            "values": {"days late": "0"},
            "result": "100",
            "table_row": "band 1: 0-0 days late -> 100",
        },
    ]
    # S2 (due 30/09/2014) has nothing registered when evaluated on 01/10/2014, after its due date and before the
    # cut-off of 30/01/2015 → missing (§2.2.2)
    partly = Delivery(stages={"S1": delivered(date(2014, 6, 30))})
    missing = score_product(product(due=None, stages=STAGES), partly, cutoff=CUTOFF, as_of=date(2014, 10, 1))
    assert (missing.status, missing.reason) == ("missing", "stage S2: no delivery registered")
    assert steps(missing) == s1_steps
    # S2 delivered in part without the committee's score → not scorable (§2.2.3)
    unscored = Delivery(stages={"S1": delivered(date(2014, 6, 30)), "S2": Delivery(status="partial")})
    bad = score_product(product(due=None, stages=STAGES), unscored, cutoff=CUTOFF)
    assert (bad.status, bad.reason) == ("not_scorable", "stage S2: partial delivery without the committee's score")
    assert steps(bad) == s1_steps
    # every stage scored but the weights sum to 0: the three stages' six steps are kept, no product score step
    zero = tuple(StageFacts(s.code, s.due_date, D(0)) for s in STAGES)
    nothing = score_product(product(due=None, stages=zero), STAGE_DELIVERIES, cutoff=CUTOFF)
    assert nothing.status == "not_scorable"
    # S1 0 days → 100; S2 20/10 − 30/09 = 20 days → 80; S3 29/01/2015 − 30/11/2014 = 60 days → 60
    assert [x["result"] for x in steps(nothing)] == ["0", "100", "20", "80", "60", "60"]


# ---------------------------------------------------------------- other product cases


def test_product_statuses() -> None:
    no_due = score_product(product(due=None), delivered(DUE), cutoff=None)
    assert (no_due.status, no_due.reason) == ("not_scorable", "the product has no due date")
    pending = score_product(product(), None, cutoff=CUTOFF, as_of=DUE)
    missing = score_product(product(), None, cutoff=CUTOFF, as_of=date(2014, 12, 1))
    scored = score_product(product(), delivered(DUE), cutoff=CUTOFF)
    for s in (no_due, pending, missing, scored):
        assert (s.code, s.rule_kind, type(s.steps)) == ("P", "delay_table", tuple), s.status
    # a rule without a cut-off ignores the one given: 30/11/2014 → 15/02/2015 = 77 days → 50, not 0
    free = own_table(cutoff="none")
    assert score_product(product(free), delivered(date(2015, 2, 15)), cutoff=CUTOFF).value == D("50")
    # "not delivered" with a date is still not delivered
    declared = Delivery(status="not_delivered", delivered_on=DUE)
    assert score_product(product(), declared, cutoff=CUTOFF).value == 0
    aside = score_product(product(), Delivery(set_aside=True), cutoff=None)
    assert (aside.status, aside.reason, aside.rule_kind) == ("set_aside", "set aside by the committee", "delay_table")


def test_quantity_products() -> None:
    # "303 processos revisados": 250 / 303 × 100 = 82.508… → 82.51
    facts = ProductFacts(code="Q", rule=RatioRule(target=D(303)), unit_code="dp", weight=D(10))
    s = score_product(facts, Delivery(quantity=D(250)), cutoff=CUTOFF)
    assert (s.status, s.value, s.code) == ("scored", D("82.51"), "Q")
    assert score_product(facts, Delivery(quantity=D(303)), cutoff=CUTOFF).value == D("100.00")
    assert score_product(facts, Delivery(), cutoff=CUTOFF).status == "missing"
    assert score_product(facts, None, cutoff=CUTOFF).status == "missing"
    general = score_product(ProductFacts(code="G", rule=GeneralRule()), Delivery(quantity=D(1)), cutoff=CUTOFF)
    assert (general.status, general.rule_kind, general.code) == ("not_scorable", "general", "G")
    assert general.reason == "a product scored by the general rule needs a quantity target (use kind ratio with target)"


# ---------------------------------------------------------------- team grade (§2.3)


def item(code: str, weight: str, value: str | None, status: str = "scored") -> WeightedItem:
    return WeightedItem(code, D(weight), Score(code, status, None if value is None else D(value)))  # type: ignore[arg-type]


def test_team_grade_trace() -> None:
    # weights 30 / 30 / 40, scores 100 / 80 / 50: (3000 + 2400 + 2000) / 100 = 74.00
    t = team_score("t", [item("a", "30", "100"), item("b", "30", "80"), item("c", "40", "50")])
    assert (t.value, t.complete, t.set_aside, t.missing) == (D("74.00"), True, (), ())
    assert [s.to_dict() for s in t.steps] == [
        {
            "description": "team grade = Σ(score × weight) / Σ weight",
            "formula": "100 × 30 + 80 × 30 + 50 × 40 over 100",
            "values": {"a": "100 × 30", "b": "80 × 30", "c": "50 × 40"},
            "result": "74.00",
            "table_row": None,
        }
    ]


def test_team_grade_set_aside_redistributes_trace() -> None:
    # c set aside: (3000 + 2400) / 60 = 90.00; effective weights 30 × 100 / 60 = 50 each
    t = team_score("t", [item("a", "30", "100"), item("b", "30", "80"), item("c", "40", None, "set_aside")])
    assert (t.value, t.complete, t.set_aside, t.missing) == (D("90.00"), True, ("c",), ())
    first = t.steps[0].to_dict()
    assert first["description"] == "weights of the goals left out are shared among the others in proportion"
    assert first["formula"] == "effective weight = weight × Σ all weights / Σ remaining weights"
    assert first["values"] == {"left out": "c", "left-out weight": "40", "a": "30 → 50.00", "b": "30 → 50.00"}
    assert t.steps[1].to_dict()["formula"] == "100 × 30 + 80 × 30 over 60"


def test_team_grade_missing_goal_makes_it_incomplete() -> None:
    # a 50 → 91.25, b 30 → 77.5, c 20 missing: (4562.5 + 2325) / 80 = 86.09375 → 86.09, incomplete
    t = team_score("t", [item("a", "50", "91.25"), item("b", "30", "77.5"), item("c", "20", None, "missing")])
    assert (t.value, t.complete, t.missing, t.set_aside) == (D("86.09"), False, ("c",), ())
    assert t.steps[0].to_dict()["values"]["left out"] == "c"
    assert t.steps[0].to_dict()["values"]["left-out weight"] == "20"
    d = t.to_dict()
    assert (d["value"], d["complete"], d["missing"], d["unit_code"], d["set_aside"]) == ("86.09", False, ["c"], "t", [])
    assert set(d) == {"unit_code", "value", "complete", "set_aside", "missing", "steps"}
    assert len(d["steps"]) == 2


def test_team_grade_without_any_scored_goal() -> None:
    t = team_score("t", [item("a", "50", None, "set_aside"), item("b", "50", None, "pending")])
    assert (t.value, t.complete, t.set_aside, t.missing) == (None, False, ("a",), ("b",))
    assert t.steps[0].to_dict()["description"] == "no scored goal: no team grade"
    assert t.steps[0].to_dict()["values"] == {"set aside": "a", "missing": "b"}
    assert t.to_dict()["value"] is None


def test_team_grade_with_remaining_weights_of_zero() -> None:
    # the only scored goal weighs 0 and the other is set aside: no grade (this divided 0 by 0 before the fix)
    t = team_score("t", [item("a", "0", "100"), item("b", "10", None, "set_aside")])
    assert (t.value, t.complete) == (None, False)
    assert t.steps[-1].to_dict()["description"] == "the remaining weights sum to 0: no team grade"
    alone = team_score("t", [item("a", "0", "100")])
    assert alone.value is None
    assert (t.unit_code, t.set_aside, t.missing) == ("t", ("b",), ())
    weightless = team_score("w", [item("a", "0", "100"), item("b", "0", None, "missing")])
    assert (weightless.unit_code, weightless.set_aside, weightless.missing) == ("w", (), ("b",))


def test_productivity_trace_and_plan_weights() -> None:
    # 0.70 × 90 + 0.30 × 74 = 63 + 22.2 = 85.20
    value, step = productivity(D(90), D("74.00"))
    assert value == D("85.20")
    assert step.to_dict() == {
        "description": "productivity = N1 weight × N1 + N2 weight × N2",
        "formula": "0.70 × N1 + 0.30 × N2",
        "values": {"N1": "90", "N2": "74.00"},
        "result": "85.20",
        "table_row": None,
    }
    # a plan's own weights: 0.5 × 90 + 0.5 × 74 = 82.00
    value, step = productivity(D(90), D(74), n1_weight=D("0.5"), n2_weight=D("0.5"))
    assert (value, step.formula) == (D("82.00"), "0.5 × N1 + 0.5 × N2")


# ---------------------------------------------------------------- team order


def test_team_order_keeps_input_order_among_ready_teams() -> None:
    assert team_order(["c", "a", "b"], {}) == ["c", "a", "b"]
    # a chain read backwards: a reads b, b reads c
    assert team_order(["a", "b", "c"], {"a": ["b"], "b": ["c"]}) == ["c", "b", "a"]
    # dependencies on teams outside the plan are ignored; duplicates count once
    assert team_order(["a", "b", "a"], {"a": ["zz"], "b": ["a"]}) == ["a", "b"]


def test_team_order_names_only_the_teams_in_the_cycle() -> None:
    with pytest.raises(DependencyCycleError, match=r"^dependency cycle between teams: a, b$"):
        team_order(["c", "b", "a"], {"a": ["b"], "b": ["a"]})
    with pytest.raises(DependencyCycleError, match=r"teams: s$"):
        team_order(["s"], {"s": ["s"]})


# ---------------------------------------------------------------- the whole Acordo evaluation


def small_plan(**kw: Any) -> AcordoPlan:
    """Two teams: `ops` (an indicator and a product), `board` (the mean of the other grades, 0–10)."""
    return AcordoPlan(
        units=("board", "ops"),
        indicators=(
            IndicatorFacts(code="ops-I", rule=RatioRule(), meta=D(200), unit_code="ops", weight=D(60)),
            IndicatorFacts(
                code="board-I",
                rule=DerivedFromTeamsRule(),
                meta=D(10),
                unit_code="board",
                weight=D(100),
            ),
        ),
        products=(ProductFacts(code="ops-P", rule=own_table(), due_date=DUE, unit_code="ops", weight=D(40)),),
        **kw,
    )


def test_acordo_evaluation_honours_the_plans_cut_off() -> None:
    obs = {"ops-I": Observation(result=D(180))}  # 180 / 200 × 100 = 90.00
    late = {"ops-P": delivered(date(2015, 1, 31))}  # one day after the cut-off → 0
    cut = evaluate_acordo(small_plan(cutoff=CUTOFF), obs, late)
    assert cut.order == ("ops", "board")  # the derived team after the team it reads
    assert cut.products["ops-P"].value == 0
    # ops = (90 × 60 + 0 × 40) / 100 = 54.00; board: 5.40 / 10 × 10 = 5.40 → 54.00
    assert cut.teams["ops"].value == D("54.00")
    assert cut.indicators["board-I"].value == D("54.00")
    # without a cut-off the same delivery is 62 days late → 50: ops = (5400 + 2000) / 100 = 74.00
    open_ = evaluate_acordo(small_plan(), obs, late)
    assert open_.products["ops-P"].value == D("50")
    assert open_.teams["ops"].value == D("74.00")
    assert open_.productivity == {}  # no N1 given


def test_acordo_evaluation_uses_the_plans_productivity_weights() -> None:
    obs = {"ops-I": Observation(result=D(200))}
    deliveries = {"ops-P": delivered(DUE)}
    result = evaluate_acordo(small_plan(n1_weight=D("0.6"), n2_weight=D("0.4")), obs, deliveries, n1=D(80))
    # ops = 100; productivity = 0.6 × 80 + 0.4 × 100 = 48 + 40 = 88.00 (the defaults would give 86.00)
    assert result.productivity["ops"][0] == D("88.00")
    assert result.productivity["ops"][1].formula == "0.6 × N1 + 0.4 × N2"
    default = evaluate_acordo(small_plan(), obs, deliveries, n1=D(80))
    assert default.productivity["ops"][0] == D("86.00")  # 0.70 × 80 + 0.30 × 100 = 56 + 30
    d = result.to_dict()
    assert d["order"] == ["ops", "board"]
    assert d["productivity"]["ops"]["value"] == "88.00"
    assert d["teams"]["ops"]["value"] == "100.00"
    assert d["indicators"]["ops-I"]["value"] == "100.00"
    assert d["products"]["ops-P"]["value"] == "100.00"
    assert d["productivity"]["ops"]["step"]["formula"] == "0.6 × N1 + 0.4 × N2"


def test_acordo_evaluation_pending_product_and_team_without_grade() -> None:
    # evaluated on the due date with nothing delivered: the product is pending, ops is graded on its indicator
    result = evaluate_acordo(small_plan(cutoff=CUTOFF), {"ops-I": Observation(result=D(100))}, {}, as_of=DUE, n1=D(1))
    assert result.products["ops-P"].status == "pending"
    assert (result.teams["ops"].value, result.teams["ops"].complete) == (D("50.00"), False)
    # nothing at all registered: no team grade, so no productivity for it
    empty = evaluate_acordo(small_plan(), {}, {}, n1=D(90))
    assert empty.teams["ops"].value is None
    assert empty.teams["ops"].unit_code == "ops"
    assert "ops" not in empty.productivity
    # the derived indicator reads every team of the plan, graded or not
    assert (empty.indicators["board-I"].status, empty.indicators["board-I"].reason) == (
        "not_scorable",
        "team grades missing for ops",
    )


def test_team_dependencies() -> None:
    plan = small_plan()
    assert team_dependencies(plan) == {"board": {"ops"}, "ops": set()}
    orphan = AcordoPlan(
        units=("a",), indicators=(IndicatorFacts(code="x", rule=DerivedFromTeamsRule(), meta=D(1), unit_code=None),)
    )
    assert team_dependencies(orphan) == {"a": set()}
    outside = AcordoPlan(
        units=("a",), indicators=(IndicatorFacts(code="x", rule=DerivedFromTeamsRule(), meta=D(1), unit_code="zz"),)
    )
    assert team_dependencies(outside) == {"a": set(), "zz": {"a"}}


# ---------------------------------------------------------------- the January cut-off date (§2.2.2)


def test_cut_off_follows_the_calendar_given() -> None:
    # weekdays only: 31/01/2015 is a Saturday → Friday 30/01/2015
    assert product_cutoff(2014) == date(2015, 1, 30)
    assert last_business_day_of_january(2015) == date(2015, 1, 30)
    # a calendar where 30/01/2015 is a holiday: Thursday 29
    closed_30 = lambda d: d.weekday() < 5 and d != date(2015, 1, 30)  # noqa: E731
    assert product_cutoff(2014, closed_30) == date(2015, 1, 29)
    # 31/01/2024 is a Wednesday: the day itself
    assert product_cutoff(2023) == date(2024, 1, 31)
    with pytest.raises(ValueError, match=r"^January 2015 has no business day$"):
        last_business_day_of_january(2015, lambda d: False)

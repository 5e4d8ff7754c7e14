"""Property tests: scores stay in range, move the right way with polarity, inverses round-trip."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from metas_rules import parse_rule
from metas_rules.engine import IndicatorFacts, Observation, quar_rate, required_result, score_indicator
from metas_rules.engine.teams import WeightedItem, team_score
from metas_rules.engine.trace import Score

values = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2, allow_nan=False)
polarities = st.sampled_from(["higher_is_better", "lower_is_better"])
RULES = [
    {"kind": "general"},
    {"kind": "general", "lower_execution": "inverse_ratio"},
    {"kind": "ratio", "scale": 100},
    {"kind": "ratio", "scale": 10, "zero_below_result": "70"},
    {"kind": "threshold"},
]


def facts(rule: dict[str, str], polarity: str, meta: Decimal, v0: Decimal | None) -> IndicatorFacts:
    return IndicatorFacts(
        code="p",
        rule=parse_rule(rule),
        polarity=polarity,
        meta=meta,
        reference_value=v0,  # type: ignore[arg-type]
    )


@settings(deadline=None)
@given(st.sampled_from(RULES), polarities, values, st.none() | values, values)
def test_scores_stay_in_range_with_two_places(
    rule: dict[str, str], polarity: str, meta: Decimal, v0: Decimal | None, result: Decimal
) -> None:
    assume(v0 is None or v0 != meta)
    s = score_indicator(facts(rule, polarity, meta, v0), Observation(result=result))
    assert s.status == "scored"
    assert s.value is not None
    assert Decimal(0) <= s.value <= Decimal(100)
    assert s.value == s.value.quantize(Decimal("0.01"))
    assert s.steps  # every score carries an explanation


@settings(deadline=None)
@given(st.sampled_from(RULES[:2]), polarities, values, st.none() | values, values, values)
def test_general_rule_moves_with_polarity(
    rule: dict[str, str], polarity: str, meta: Decimal, v0: Decimal | None, r1: Decimal, r2: Decimal
) -> None:
    assume(v0 is None or v0 != meta)
    f = facts(rule, polarity, meta, v0)
    low, high = min(r1, r2), max(r1, r2)
    s_low = score_indicator(f, Observation(result=low)).value
    s_high = score_indicator(f, Observation(result=high)).value
    assert s_low is not None
    assert s_high is not None
    if polarity == "higher_is_better":
        assert s_high >= s_low
    else:
        assert s_high <= s_low


GOAL_SCORES = st.decimals(min_value=0, max_value=100, places=2)
quar_inputs = st.tuples(
    st.decimals(min_value=Decimal("10"), max_value=Decimal("1000"), places=1),  # meta
    st.decimals(min_value=Decimal("0"), max_value=Decimal("5"), places=1),  # tolerance
    st.decimals(min_value=Decimal("1"), max_value=Decimal("100"), places=1),  # distance of VC from the band
)


@settings(deadline=None)
@given(quar_inputs, polarities, values, values)
def test_quar_rate_is_monotone_and_capped(
    mtv: tuple[Decimal, Decimal, Decimal], polarity: str, r1: Decimal, r2: Decimal
) -> None:
    m, t, gap = mtv
    vc = m + t + gap if polarity == "higher_is_better" else m - t - gap
    assume(vc > 0)
    low, high = min(r1, r2), max(r1, r2)
    a, _ = quar_rate(low, m, t, vc, polarity)  # type: ignore[arg-type]
    b, _ = quar_rate(high, m, t, vc, polarity)  # type: ignore[arg-type]
    assert Decimal(0) <= a <= Decimal(125)
    assert Decimal(0) <= b <= Decimal(125)
    assert (b >= a) if polarity == "higher_is_better" else (b <= a)


@settings(deadline=None)
@given(quar_inputs, polarities, st.decimals(min_value=Decimal("1"), max_value=Decimal("125"), places=2))
def test_quar_inverse_reaches_the_target(mtv: tuple[Decimal, Decimal, Decimal], polarity: str, target: Decimal) -> None:
    m, t, gap = mtv
    vc = m + t + gap if polarity == "higher_is_better" else m - t - gap
    assume(vc > 0 and m - t > 0)
    f = IndicatorFacts(
        code="q",
        rule=parse_rule({"kind": "quar_realization"}),
        polarity=polarity,  # type: ignore[arg-type]
        meta=m,
        tolerance=t,
        critical_value=vc,
    )
    answer = required_result(f, target)
    assert answer.status == "solved"
    assert answer.achieved is not None
    assert answer.achieved >= target


@settings(deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 50), st.decimals(min_value=0, max_value=100, places=2)), min_size=1, max_size=8)
)
def test_team_score_is_within_its_goal_scores(parts: list[tuple[int, Decimal]]) -> None:
    items = [WeightedItem(f"g{i}", Decimal(w), Score(f"g{i}", "scored", v)) for i, (w, v) in enumerate(parts)]
    grade = team_score("t", items).value
    assert grade is not None
    assert min(v for _, v in parts) <= grade <= max(v for _, v in parts)


@settings(deadline=None)
@given(
    st.sampled_from(RULES[:4]),
    polarities,
    values,
    st.none() | values,
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100"), places=2),
)
def test_inverse_of_an_indicator_reaches_its_target(
    rule: dict[str, str], polarity: str, meta: Decimal, v0: Decimal | None, target: Decimal
) -> None:
    assume(v0 is None or v0 != meta)
    f = facts(rule, polarity, meta, v0)
    answer = required_result(f, target)
    assert answer.status == "solved", answer.reason
    assert answer.value is not None
    check = score_indicator(f, Observation(result=answer.value)).value
    assert check is not None
    assert check >= target

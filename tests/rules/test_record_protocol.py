"""The result record's protocol (equality, inequality, hashing, repr, `Score.lazy`) and `clamp` at its edges.

`Record`'s contract (docs/domain.md §1 and its docstring): a result whose steps are built on demand behaves as the
frozen dataclass of its public fields — equal to the same result with its steps recorded, the same hash, the
dataclass-style repr. Figures are chosen by hand.
"""

from __future__ import annotations

from decimal import Decimal

from metas_rules.decimal_ops import clamp
from metas_rules.engine.trace import Score, Step


def _explain(code: str) -> tuple[Step, ...]:
    return (Step(f"result of {code} read", raw_result=Decimal("94.70")),)


def _recorded() -> Score:
    return Score("I1", "scored", Decimal("94.70"), Decimal("9.47"), 10, "ratio", _explain("I1"))


def _lazy() -> Score:
    return Score.lazy("I1", Decimal("94.70"), Decimal("9.47"), 10, "ratio", (_explain, "I1"))


def test_clamp_returns_the_value_itself_on_either_bound() -> None:
    low, high = Decimal("0"), Decimal("100")
    at_low, at_high = Decimal("0.00"), Decimal("100.00")  # equal to the bounds, written with two places
    assert clamp(at_low, low, high) is at_low
    assert str(clamp(at_low, low, high)) == "0.00"
    assert clamp(at_high, low, high) is at_high
    assert str(clamp(at_high, low, high)) == "100.00"
    assert clamp(Decimal("-0.01"), low, high) is low
    assert clamp(Decimal("100.01"), low, high) is high


def test_score_lazy_builds_a_scored_result_with_its_steps() -> None:
    s = _lazy()
    assert type(s) is Score
    assert s.code == "I1"
    assert s.status == "scored"
    assert s.scored
    assert (s.value, s.native, s.scale, s.rule_kind, s.reason, s.extra) == (
        Decimal("94.70"),
        Decimal("9.47"),
        10,
        "ratio",
        None,
        (),
    )
    assert [st.description for st in s.steps] == ["result of I1 read"]
    assert s.to_dict()["status"] == "scored"


def test_equal_records_are_not_unequal_and_hash_alike() -> None:
    a, b = _lazy(), _recorded()
    assert a is not b
    assert a == b
    assert b == a
    assert not (a != b)
    assert not (b != a)
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert {a: "x"}[b] == "x"


def test_different_records_are_unequal_and_hash_apart() -> None:
    a = _recorded()
    c = Score("I1", "scored", Decimal("94.71"), Decimal("9.47"), 10, "ratio", _explain("I1"))
    d = Score("I2", "missing", reason="no result")
    assert a != c
    assert not (a == c)
    assert hash(a) != hash(c) != hash(d) != hash(a)
    assert len({a, c, d}) == 3


def test_a_record_is_unequal_to_what_is_not_a_record_of_its_class() -> None:
    a = _recorded()
    assert a != "I1"
    assert not (a == "I1")


def test_repr_reads_like_the_dataclass_of_the_public_fields() -> None:
    s = Score("Q1", "missing", reason="no result")
    assert repr(s) == (
        "Score(code='Q1', status='missing', value=None, native=None, scale=100, rule_kind=None, steps=(), "
        "reason='no result', extra=())"
    )
    assert repr(_lazy()).startswith("Score(code='I1', status='scored', value=Decimal('94.70'), native=Decimal('9.47')")

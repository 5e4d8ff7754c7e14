"""Interval and step tables (bounds on both sides and on the edge, overlaps, gap policies with several
candidates) and the exact problems plan validation reports for each rule kind (docs/domain.md §2.1)."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from pydantic import ValidationError

from metas_rules import (
    DelayBand,
    DelayTableRule,
    DerivedFromTeamsRule,
    GeneralRule,
    Interval,
    QuarRealizationRule,
    RatioRule,
    StepRow,
    StepTable,
    StepTableRule,
    ThresholdRule,
    WeightedCompositeRule,
    dump_rule,
    parse_rule,
    rule_problems,
    rule_scale,
)
from metas_rules.rules import CompositeComponent, rule_json_schema
from metas_rules.tables import TableLookupError


def iv(lo: str | None = None, hi: str | None = None, lo_in: bool = True, hi_in: bool = True) -> Interval:
    return Interval(
        min=None if lo is None else D(lo),
        max=None if hi is None else D(hi),
        min_inclusive=lo_in,
        max_inclusive=hi_in,
    )


# ---------------------------------------------------------------- intervals


@pytest.mark.parametrize(
    ("interval", "x", "inside"),
    [
        (iv("10", "20"), "10", True),
        (iv("10", "20"), "9.99", False),
        (iv("10", "20"), "20", True),
        (iv("10", "20"), "20.01", False),
        (iv("10", "20", lo_in=False), "10", False),
        (iv("10", "20", lo_in=False), "10.01", True),
        (iv("10", "20", hi_in=False), "20", False),
        (iv("10", "20", hi_in=False), "19.99", True),
        (iv(None, "5"), "-1000000", True),
        (iv("5", None), "1000000", True),
        (iv("5", "5"), "5", True),
    ],
)
def test_interval_contains_on_both_sides_of_each_bound(interval: Interval, x: str, inside: bool) -> None:
    assert interval.contains(D(x)) is inside


def test_interval_below_and_above() -> None:
    closed, open_top = iv("10", "20"), iv("10", "20", lo_in=False, hi_in=False)
    assert closed.is_below(D("20.01"))
    assert not closed.is_below(D("20"))
    assert open_top.is_below(D("20"))
    assert not open_top.is_below(D("19.99"))
    assert closed.is_above(D("9.99"))
    assert not closed.is_above(D("10"))
    assert open_top.is_above(D("10"))
    assert not open_top.is_above(D("10.01"))
    assert not iv("10", None).is_below(D("1e9"))
    assert not iv(None, "10").is_above(D("-1e9"))


def test_interval_describe() -> None:
    assert iv("25", "50", lo_in=False).describe() == "(25, 50]"
    assert iv("100", None).describe() == "[100, +inf)"
    assert iv(None, "80", hi_in=False).describe() == "(-inf, 80)"
    assert iv("0.5", "1").describe() == "[0.5, 1]"


def test_empty_intervals_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"empty interval \[5, 3\]"):
        iv("5", "3")
    with pytest.raises(ValidationError, match=r"empty interval \(5, 5\]"):
        iv("5", "5", lo_in=False)
    with pytest.raises(ValidationError, match=r"empty interval \[5, 5\)"):
        iv("5", "5", hi_in=False)


def test_null_inclusivity_reads_as_the_default() -> None:
    parsed = Interval.model_validate({"min": "1", "min_inclusive": None, "max": "2", "max_inclusive": None})
    assert (parsed.min_inclusive, parsed.max_inclusive) == (True, True)
    assert Interval.model_validate({"min": "1", "min_inclusive": False}).min_inclusive is False


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        (iv("0", "15"), iv("10", "20"), True),  # overlapping, not just touching
        (iv("0", "10"), iv("10", "20"), True),  # touching on an inclusive edge
        (iv("0", "10", hi_in=False), iv("10", "20"), False),
        (iv("0", "10"), iv("10", "20", lo_in=False), False),
        (iv("0", "1"), iv("2", "3"), False),
        (iv(None, "5"), iv("3", None), True),
        (iv(None, "5", hi_in=False), iv("5", None), False),
        (iv(None, None), iv("7", "8"), True),
        (iv("5", "5"), iv("5", "7", lo_in=False), False),  # equal lower bounds: inclusive only if both are
        (iv("3", "5", hi_in=False), iv("5", "5"), False),  # equal upper bounds: likewise
        (iv("5", "5"), iv("5", "7"), True),
        (iv("3", "5"), iv("5", "5"), True),
    ],
)
def test_interval_overlaps_is_symmetric(a: Interval, b: Interval, overlap: bool) -> None:
    assert a.overlaps(b) is overlap
    assert b.overlaps(a) is overlap


# ---------------------------------------------------------------- step tables


SPREAD = StepTable(
    rows=[
        StepRow(intervals=[iv("0", "10")], value=D(1), label="A"),
        StepRow(intervals=[iv("20", "30")], value=D(2)),
        StepRow(intervals=[iv("40", "50", lo_in=False)], value=D(3)),
    ],
)


@pytest.mark.parametrize(
    ("gap", "x", "row", "value"),
    [
        ("row_below", "35", 2, "2"),  # rows 1 and 2 lie below 35: the nearest (max 30) wins
        ("row_below", "15", 1, "1"),
        ("row_below", "40", 2, "2"),  # 40 is not in (40, 50]: row 2 is the nearest below
        ("row_above", "15", 2, "2"),  # rows 2 and 3 lie above 15: the nearest (min 20) wins
        ("row_above", "35", 3, "3"),
        ("row_above", "-5", 1, "1"),
    ],
)
def test_gap_policies_choose_the_nearest_of_several_rows(gap: str, x: str, row: int, value: str) -> None:
    table = SPREAD.model_copy(update={"gap": gap})
    hit = table.lookup(D(x))
    assert (hit.index + 1, hit.row.value, hit.via_gap) == (row, D(value), gap)
    assert hit.describe().endswith(f"[gap resolved by policy {gap}]")


def test_gap_policies_without_a_candidate_and_direct_hits() -> None:
    with pytest.raises(TableLookupError, match=r"^55 falls in no row of the table \(gap policy row_above\)$"):
        SPREAD.model_copy(update={"gap": "row_above"}).lookup(D("55"))
    with pytest.raises(TableLookupError, match=r"gap policy row_below"):
        SPREAD.model_copy(update={"gap": "row_below"}).lookup(D("-5"))
    with pytest.raises(TableLookupError, match=r"gap policy error"):
        SPREAD.lookup(D("15"))
    hit = SPREAD.lookup(D("10"))
    assert (hit.index, hit.via_gap, hit.describe()) == (0, None, "row 1: [0, 10] -> 1 (A)")


def test_rows_with_several_intervals() -> None:
    table = StepTable(
        rows=[
            StepRow(intervals=[iv("0", "10"), iv("60", "70")], value=D(5)),
            StepRow(intervals=[iv("80", "90")], value=D(9)),
        ],
        gap="row_above",
    )
    assert table.lookup(D("65")).row.value == 5
    assert table.lookup(D("50")).row.value == 5  # the nearest interval above 50 is row 1's [60, 70]
    assert table.lookup(D("75")).row.value == 9
    below = table.model_copy(update={"gap": "row_below"})
    assert below.lookup(D("50")).row.value == 5  # [0, 10] of row 1
    assert below.lookup(D("95")).index == 1
    assert StepRow.model_validate({"interval": {"min": "1"}, "value": "2"}).intervals == [iv("1", None)]


def test_table_overlaps_lists_each_pair_of_rows() -> None:
    table = StepTable(
        rows=[
            StepRow(intervals=[iv("0", "10"), iv("5", "8")], value=D(1)),  # overlapping within a row: fine
            StepRow(intervals=[iv("10", "20")], value=D(2)),
            StepRow(intervals=[iv("15", "30")], value=D(3)),
        ]
    )
    assert table.overlaps() == [
        "rows 1 [0, 10] and 2 [10, 20] overlap",
        "rows 2 [10, 20] and 3 [15, 30] overlap",
    ]
    assert SPREAD.overlaps() == []


def test_delay_band() -> None:
    band = DelayBand(days_min=1, days_max=30, score=D(80))
    assert (band.contains(0), band.contains(1), band.contains(30), band.contains(31)) == (False, True, True, False)
    assert band.describe() == "1-30 days late -> 80"
    open_band = DelayBand(days_min=121, score=D(0))
    assert open_band.contains(10**6)
    assert not open_band.contains(120)
    assert open_band.describe() == "121+ days late -> 0"
    with pytest.raises(ValidationError):
        DelayBand(days_min=-1, score=D(0))
    with pytest.raises(ValidationError):
        DelayBand(days_min=0, score=D("100.01"))


# ---------------------------------------------------------------- rule documents


def test_rule_scale() -> None:
    assert rule_scale(RatioRule(scale=10)) == 10
    assert rule_scale(RatioRule()) == 100
    assert rule_scale(DerivedFromTeamsRule(scale=10)) == 10
    assert rule_scale(DerivedFromTeamsRule(scale=100)) == 100
    assert rule_scale(GeneralRule()) == 100


def test_dump_rule_writes_decimals_as_text() -> None:
    dumped = dump_rule(RatioRule(scale=10, zero_below_result=D("70.00")))
    assert dumped == {"kind": "ratio", "scale": 10, "target": None, "zero_below_result": "70.00"}
    schema = rule_json_schema()
    assert set(schema["discriminator"]["mapping"]) == {
        "general",
        "ratio",
        "threshold",
        "step_table",
        "weighted_composite",
        "derived_from_teams",
        "quar_realization",
        "delay_table",
    }


def problems(rule: Any, polarity: str = "higher_is_better", meta: str | None = "10", **kw: Any) -> list[str]:
    return rule_problems(rule, polarity=polarity, meta=None if meta is None else D(meta), **kw)  # type: ignore[arg-type]


def test_item_kind_problems() -> None:
    assert problems(ThresholdRule(), item="product") == ["rule kind 'threshold' cannot score a product"]
    assert problems(RatioRule(target=D(3)), meta=None, item="product") == []
    assert problems(DelayTableRule(), meta=None, item="product") == []
    assert problems(DelayTableRule(), meta=None) == ["rule kind 'delay_table' scores products, not indicators"]


def test_general_rule_problems() -> None:
    rule = GeneralRule()
    assert problems(rule, meta=None) == ["meta is required (general rule)"]
    assert problems(rule, meta="0") == ["meta is 0: the no-V0 formula result / meta would divide by zero"]
    # ambitious targets do not divide by the meta: meta 0 above V0 −1 (higher) or below V0 5 (lower) is fine
    assert problems(rule, meta="0", reference_value=D(-1)) == []
    assert problems(rule, "lower_is_better", meta="0", reference_value=D(5)) == []
    # not ambitious: the OBS2 percentage divides by the meta
    obs2 = ["meta is 0: the OBS2 percentage of execution would divide by zero"]
    assert problems(rule, meta="0", reference_value=D(5)) == obs2
    assert problems(rule, meta="0", reference_value=D(0)) == obs2
    assert problems(rule, "lower_is_better", meta="0", reference_value=D(-1)) == obs2
    assert problems(rule, meta="10", reference_value=D(10)) == []
    bad_table = GeneralRule(obs2_table=StepTable(rows=[StepRow(intervals=[iv("0", "10")], value=D(1))] * 2))
    assert problems(bad_table, meta=None) == [
        "obs2_table: rows 1 [0, 10] and 2 [0, 10] overlap",
        "meta is required (general rule)",
    ]


def test_ratio_rule_problems() -> None:
    assert problems(RatioRule(target=D(0))) == ["target is 0: the ratio would divide by zero"]
    assert problems(RatioRule(target=D(5)), meta=None) == []
    assert problems(RatioRule(), meta=None) == ["meta is required (ratio result / meta)"]
    assert problems(RatioRule(), meta="0") == ["meta is 0: ratio result / meta would divide by zero"]


def test_threshold_rule_problems() -> None:
    assert problems(ThresholdRule(), meta=None) == ["meta is required (threshold without a meta_table)"]
    table = StepTable(
        rows=[StepRow(intervals=[iv("0", "10")], value=D(5)), StepRow(intervals=[iv("5", None)], value=D(3))]
    )
    assert problems(ThresholdRule(meta_table=table), meta=None) == [
        "meta_table: rows 1 [0, 10] and 2 [5, +inf) overlap"
    ]
    assert problems(ThresholdRule(pass_when="at_most_meta")) == [
        "pass_when 'at_most_meta' contradicts polarity 'higher_is_better'"
    ]
    assert problems(ThresholdRule(pass_when="at_least_meta"), "lower_is_better") == [
        "pass_when 'at_least_meta' contradicts polarity 'lower_is_better'"
    ]
    assert problems(ThresholdRule(pass_when="at_most_meta"), "lower_is_better") == []
    assert problems(ThresholdRule(pass_when="at_least_meta")) == []
    assert problems(ThresholdRule(pass_score=D(10), fail_score=D(20))) == ["pass_score is below fail_score"]
    assert problems(ThresholdRule(pass_score=D(20), fail_score=D(20))) == []


def test_step_table_rule_problems() -> None:
    rows = [StepRow(intervals=[iv("0", "50", hi_in=False)], value=D(0)), StepRow(intervals=[iv("50")], value=D(100))]
    ok = StepTableRule(table=StepTable(rows=rows))
    assert problems(ok) == []
    assert problems(ok, meta=None) == ["meta is required (percentage of execution against the meta)"]
    assert problems(ok.model_copy(update={"input": "result"}), meta=None) == []
    overlapping = StepTableRule(table=StepTable(rows=[*rows, StepRow(intervals=[iv("60", "70")], value=D(50))]))
    assert problems(overlapping, meta=None) == [  # both problems are listed
        "table: rows 2 [50, +inf) and 3 [60, 70] overlap",
        "meta is required (percentage of execution against the meta)",
    ]
    out = StepTable(
        rows=[StepRow(intervals=[iv("0", "1")], value=D("-0.01")), StepRow(intervals=[iv("2")], value=D("100.01"))]
    )
    assert problems(StepTableRule(input="result", table=out)) == [
        "table: row 1 score -0.01 is outside 0-100",
        "table: row 2 score 100.01 is outside 0-100",
    ]


def test_composite_rule_problems() -> None:
    def comp(code: str, weight: str, **kw: Any) -> CompositeComponent:
        return CompositeComponent(code=code, weight=D(weight), **kw)

    assert problems(WeightedCompositeRule(components=[comp("A", "0.5"), comp("B", "0.5")]), meta=None) == []
    assert problems(WeightedCompositeRule(components=[comp("A", "0.5"), comp("A", "0.5")])) == [
        "component codes are not unique"
    ]
    assert problems(WeightedCompositeRule(components=[comp("A", "0.5"), comp("B", "0.4")])) == [
        "component weights sum to 0.9, not 1"
    ]
    overlapping = StepTable(
        rows=[StepRow(intervals=[iv("0", "10")], value=D(1)), StepRow(intervals=[iv("10")], value=D(0))]
    )
    assert problems(WeightedCompositeRule(components=[comp("X", "1", buckets=overlapping)])) == [
        "component X buckets: rows 1 [0, 10] and 2 [10, +inf) overlap"
    ]
    scored = StepTable(
        rows=[StepRow(intervals=[iv("0", "10")], value=D(1)), StepRow(intervals=[iv("10")], value=D(101))]
    )
    assert problems(WeightedCompositeRule(components=[comp("X", "1")], table=scored)) == [
        "table: rows 1 [0, 10] and 2 [10, +inf) overlap",
        "table: row 2 score 101 is outside 0-100",
    ]


def test_derived_rule_problems() -> None:
    assert problems(DerivedFromTeamsRule(), meta=None) == ["meta is required (mean of team grades / meta)"]
    assert problems(DerivedFromTeamsRule(include_units=["a"], exclude_units=["a"])) == [
        "a unit is both included and excluded"
    ]
    assert problems(DerivedFromTeamsRule(include_units=["a"], exclude_units=["b"])) == []


def quar_problems(polarity: str, m: str, t: str | None, vc: str | None, **rule: Any) -> list[str]:
    return rule_problems(
        QuarRealizationRule(**rule),
        polarity=polarity,  # type: ignore[arg-type]
        meta=D(m),
        tolerance=None if t is None else D(t),
        critical_value=None if vc is None else D(vc),
    )


def test_quar_rule_problems() -> None:
    assert quar_problems("higher_is_better", "100", None, None) == [
        "tolerance, critical_value required by the QUAR realization rule"
    ]
    assert quar_problems("higher_is_better", "100", "5", "120") == []
    assert quar_problems("higher_is_better", "100", "5", "105.01") == []
    assert quar_problems("higher_is_better", "100", "5", "105") == [
        "critical value 105 must be above meta + tolerance 105 for higher-is-better"
    ]
    assert quar_problems("higher_is_better", "100", "-1", "120") == ["tolerance is negative"]
    assert quar_problems("higher_is_better", "5", "5", "20") == ["below-band divisor 0 must be positive"]
    assert quar_problems("higher_is_better", "5", "5", "20", below_band="meta") == []
    assert quar_problems("higher_is_better", "6", "5", "20") == []  # a divisor of 1 is fine
    assert quar_problems("higher_is_better", "0", "0", "20", below_band="meta") == [
        "below-band divisor 0 must be positive"
    ]
    assert quar_problems("lower_is_better", "30", "2", "10") == []
    assert quar_problems("lower_is_better", "30", "2", "27.99") == []
    assert quar_problems("lower_is_better", "30", "2", "28") == [
        "critical value 28 must be below meta − tolerance 28 for lower-is-better"
    ]
    assert quar_problems("lower_is_better", "30", "2", "-1") == [
        "critical value is negative for a lower-is-better indicator"
    ]
    assert quar_problems("lower_is_better", "30", "2", "0") == []
    missing_meta = rule_problems(QuarRealizationRule(), polarity="higher_is_better", meta=None)
    assert missing_meta == ["meta, tolerance, critical_value required by the QUAR realization rule"]


def delay(*bands: tuple[int, int | None, str], **kw: Any) -> DelayTableRule:
    return DelayTableRule(bands=[DelayBand(days_min=a, days_max=b, score=D(s)) for a, b, s in bands], **kw)


def test_delay_rule_problems() -> None:
    def p(rule: DelayTableRule) -> list[str]:
        return problems(rule, meta=None, item="product")

    assert p(delay((0, 0, "100"), (1, 30, "80"), (31, None, "0"))) == []
    assert p(delay((1, 30, "80"))) == ["band 1 starts at 1, expected 0"]
    assert p(delay((0, 30, "80"), (32, 40, "70"))) == ["band 2 starts at 32, expected 31"]
    assert p(delay((0, 30, "80"), (30, 40, "70"))) == ["band 2 starts at 30, expected 31"]
    assert p(delay((0, None, "80"), (1, 3, "70"))) == ["band 1 is open-ended but is not the last band"]
    assert p(delay((0, 0, "100"), (1, 0, "70"))) == ["band 2 ends before it starts"]
    assert p(delay((0, 0, "80"), (1, 5, "90"))) == ["a later (more delayed) band scores more than an earlier one"]
    assert p(delay((0, 0, "80"), (1, 5, "80"))) == []
    assert p(delay((0, 0, "40"), (1, 5, "30"))) == ["partial_max exceeds the on-time score"]
    assert p(delay((0, 0, "40"), (1, 5, "30"), partial_max=D(40))) == []


def test_parse_rule_reads_the_seed_shapes() -> None:
    rule = parse_rule(
        {
            "kind": "threshold",
            "pass_when": "at_most_meta",
            "meta_table": {"rows": [{"intervals": [{"min": "50", "min_inclusive": False}], "value": "20"}]},
        }
    )
    assert isinstance(rule, ThresholdRule)
    assert rule.meta_table is not None
    assert rule.meta_table.rows[0].intervals[0].describe() == "(50, +inf)"


def test_dec_builds_decimals_from_text_and_integers() -> None:
    from metas_rules.decimal_ops import dec

    assert dec("1.50") == D("1.50")
    assert str(dec("1.50")) == "1.50"
    assert dec(7) == D(7)
    given = D("2.5")
    assert dec(given) is given  # a Decimal passes through unchanged

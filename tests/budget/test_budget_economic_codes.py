from datetime import date
from decimal import Decimal

import pytest

from budget.domain.economic_codes import (
    CodeError,
    CodeTable,
    ancestors,
    level,
    lineage,
    load_code_tables,
    parse_code,
    roll_up,
    table_in_force,
)


def test_parse_and_levels() -> None:
    assert parse_code("D.02.02.05.01") == ("02", "02", "05", "01")
    assert level("D.02") == 1
    assert level("D.07.01.08.06.02") == 5


@pytest.mark.parametrize("bad", ["D", "D.2", "D.02.2", "R.02", "D.02.02.05.01.01.01", "d.02", "D..02", "D.02."])
def test_malformed_codes(bad: str) -> None:
    with pytest.raises(CodeError):
        parse_code(bad)


def test_prefixes() -> None:
    assert ancestors("D.02.02.05.01") == ["D.02.02.05", "D.02.02", "D.02"]
    assert lineage("D.02.02.05.01") == ["D.02.02.05.01", "D.02.02.05", "D.02.02", "D.02"]
    assert ancestors("D.07") == []


def test_roll_up_anexo5_da3110501() -> None:
    # DA3110501 rubric lines: 224.866 + 2.177.100 (D.02.02.05.*), 143.910 (D.02.02.14.01), 1.511.560 (D.02.02.20.03.99)
    totals = roll_up(
        [
            ("D.02.02.05.01", Decimal(224866)),
            ("D.02.02.05.02", Decimal(2177100)),
            ("D.02.02.14.01", Decimal(143910)),
            ("D.02.02.20.03.99", Decimal(1511560)),
        ]
    )
    assert totals["D.02.02.05"] == Decimal(224866 + 2177100) == Decimal(2401966)
    assert totals["D.02.02.20"] == totals["D.02.02.20.03"] == Decimal(1511560)
    assert totals["D.02"] == totals["D.02.02"] == Decimal(4057436)  # = printed fund item 4.057.436


def test_code_table_validates(codes: CodeTable) -> None:
    assert codes.version == "2024.1"
    assert codes.validate("D.07.01.08.06.02") == "D.07.01.08.06.02"
    assert codes.spending_type("D.02.02.25") == "current"
    assert codes.spending_type("D.07.01.07.06.02") == "capital"
    with pytest.raises(CodeError, match="unknown"):
        codes.validate("D.02.02.99")
    with pytest.raises(CodeError, match="malformed"):
        codes.validate("02.02")


def test_code_table_needs_parents() -> None:
    with pytest.raises(CodeError, match="no parent"):
        CodeTable(version="x", valid_from=date(2024, 1, 1), codes={"D.02": "a", "D.02.02.05": "b"})


def test_versions_in_force() -> None:
    doc = {
        "versions": [
            {"version": "2", "valid_from": "2025-01-01", "codes": {"D.02": "x", "D.02.03": "new"}},
            {"version": "1", "valid_from": "2021-01-01", "codes": {"D.02": "x"}},
        ]
    }
    tables = load_code_tables(doc)
    assert [t.version for t in tables] == ["1", "2"]
    assert table_in_force(tables, date(2024, 6, 1)).version == "1"
    assert table_in_force(tables, date(2025, 1, 1)).validate("D.02.03") == "D.02.03"
    with pytest.raises(CodeError):
        table_in_force(tables, date(2024, 6, 1)).validate("D.02.03")
    with pytest.raises(CodeError):
        table_in_force(tables, date(2020, 1, 1))


def test_every_seed_rubric_is_in_the_table(published, codes: CodeTable) -> None:  # type: ignore[no-untyped-def]
    rubrics = {r.rubric_code for f in published.annex5.fund_items for r in f.rubrics}
    assert len(rubrics) == 8
    for code in rubrics:
        codes.validate(code)
    for row in published.section42.rows:
        if row.code:
            codes.validate(row.code)

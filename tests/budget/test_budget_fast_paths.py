"""The fast paths of the budget service give what the slow ones gave (PostgreSQL and SQLite):

- amounts read as plain rows equal the ORM rows converted by ``to_entry`` (all of them, and filtered);
- the reports and the gauges from amounts grouped and summed in SQL equal the pure domain functions on
  every amount (the seed, and the seed with random amounts: hypothesis);
- the gauge snapshot kept up to date write by write equals ``by_eixo_and_year`` recomputed (random
  histories of adds and removes, and real POST / PATCH / DELETE through the API, without a reload);
- a rolled-back write leaves the gauges alone;
- the code tables cached per process are the stored ones, and a new version is seen at once.
"""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from budget.api.reports import _totals
from budget.application.context import BudgetCache, code_tables
from budget.db import models as m
from budget.db import repositories as repo
from budget.domain.amounts import AmountEntry, Breakdown, FundingSource, Phase
from budget.domain.economic_codes import CodeTable
from budget.domain.reports import (
    EixoYearFigures,
    EixoYearTally,
    Report,
    by_eixo_and_year,
    cumulative,
    planned_vs_executed,
    report_breakdown,
)
from budget.metrics import COLLECTOR, record_change, refresh_once
from metas_kit.db import Database

SUB_111 = {"breakdown": "subinvestment", "subinvestment": "1.1.1"}


def _entry(breakdown: Breakdown, eixo: int, year: int, phase: Phase, gross: Decimal) -> AmountEntry:
    return AmountEntry(
        breakdown=breakdown,
        year=year,
        month=None,
        phase=phase,
        eixo=eixo,
        subinvestment="1.1.1",
        fund_item=None,
        rubric=None,
        npd=None,
        funding_source=FundingSource.PRR,
        vat_rate=Decimal("0.23"),
        gross=gross,
        net=gross,
        vat=Decimal("0.00"),
    )


entries_st = st.builds(
    _entry,
    st.sampled_from(list(Breakdown)),
    st.integers(1, 3),
    st.integers(2021, 2023),
    st.sampled_from(list(Phase)),
    st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(entries_st, st.booleans()), max_size=40), st.randoms(use_true_random=False))
def test_tally_of_adds_and_removes_equals_the_recomputation(history: list[tuple[AmountEntry, bool]], rnd: Any) -> None:
    tally = EixoYearTally()
    kept: list[AmountEntry] = []
    removed: list[AmountEntry] = []
    for e, stays in history:
        tally.add(e)
        (kept if stays else removed).append(e)
    rnd.shuffle(removed)
    for e in removed:  # removed in another order than added
        tally.remove(e)
    assert tally.figures() == by_eixo_and_year(kept)
    assert EixoYearTally(kept).figures() == by_eixo_and_year(kept)


def test_tally_by_hand() -> None:
    e1 = _entry(Breakdown.SUBINVESTMENT, 1, 2024, Phase.PLANNED, Decimal("100.00"))
    e2 = _entry(Breakdown.SUBINVESTMENT, 1, 2024, Phase.CORRECTED, Decimal("-10.50"))
    e3 = _entry(Breakdown.SUBINVESTMENT, 1, 2024, Phase.EXECUTED, Decimal("45.25"))
    e4 = _entry(Breakdown.SUBINVESTMENT, 2, 2021, Phase.COMMITTED, Decimal("7.00"))
    e5 = _entry(Breakdown.RUBRIC, 1, 2024, Phase.EXECUTED, Decimal("999.00"))  # not in the gauges
    tally = EixoYearTally([e1, e2, e3, e4, e5])
    # eixo 1 2024: planned 100.00 - 10.50 = 89.50, executed 45.25; eixo 2 2021: a committed amount only
    assert tally.figures() == [
        EixoYearFigures(1, 2024, Decimal("89.50"), Decimal("45.25")),
        EixoYearFigures(2, 2021, Decimal("0"), Decimal("0")),
    ]
    tally.remove(e4)  # its group goes with its last entry
    tally.remove(e3)
    assert tally.figures() == [EixoYearFigures(1, 2024, Decimal("89.50"), Decimal("0"))]


async def _orm_entries(session: Any) -> list[AmountEntry]:
    rows = await session.scalars(select(m.BudgetAmount).order_by(m.BudgetAmount.id))
    return [repo.to_entry(r) for r in rows]


async def _add_varied_amounts(api: httpx.AsyncClient, writer: dict[str, str]) -> None:
    bodies: list[dict[str, Any]] = [
        {**SUB_111, "year": 2023, "month": 2, "phase": "executed", "amount": "1230.01"},
        {**SUB_111, "year": 2024, "phase": "corrected", "amount": "-55.55", "description": "anulação"},
        {**SUB_111, "year": 2025, "phase": "committed", "amount": "106.00", "vat_rate": "0.06"},
        {**SUB_111, "year": 2022, "phase": "executed", "amount": "99.99", "funding_source": "oe"},
        {"breakdown": "rubric", "year": 2024, "month": 6, "phase": "executed", "amount": "24.60"}
        | {"fund_item": "DA3110502", "rubric": "D.02.02.20.02"},
        {**SUB_111, "year": 2024, "phase": "planned", "amount": "81.30", "basis": "net"},
    ]
    for body in bodies:
        resp = await api.post("/v1/budget/amounts", json=body, headers=writer)
        assert resp.status_code == 201, resp.text


async def test_plain_rows_equal_the_orm_entries(
    api: httpx.AsyncClient, api_app: FastAPI, writer: dict[str, str]
) -> None:
    await _add_varied_amounts(api, writer)
    db: Database = api_app.state.db
    async with db.sessionmaker() as session:
        slow = await _orm_entries(session)
        assert len(slow) == 188 + 6  # the seed's amounts and the six above
        assert await repo.all_entries(session) == slow
        for breakdown in Breakdown:
            for year in (None, 2022, 2024):
                expected = [e for e in slow if e.breakdown is breakdown and (year is None or e.year == year)]
                assert await repo.all_entries(session, breakdown=breakdown, year=year) == expected
        assert [e.vat_rate for e in slow if e.vat_rate == Decimal("0.06")] == [Decimal("0.06")]


async def _recomputed(api_app: FastAPI) -> list[EixoYearFigures]:
    async with api_app.state.db.sessionmaker() as session:
        return by_eixo_and_year(await _orm_entries(session))


def _figure(eixo: int, year: int) -> EixoYearFigures:
    return next(f for f in COLLECTOR.figures if (f.eixo, f.year) == (eixo, year))


async def test_writes_change_the_gauges_without_a_reload(
    api: httpx.AsyncClient, api_app: FastAPI, writer: dict[str, str]
) -> None:
    await refresh_once(api_app)  # the gauges are process-wide: start from this app's database
    tally = COLLECTOR.tally
    before = _figure(1, 2023)
    resp = await api.post(
        "/v1/budget/amounts", json={**SUB_111, "year": 2023, "phase": "executed", "amount": "500.00"}, headers=writer
    )
    assert resp.status_code == 201, resp.text
    assert _figure(1, 2023).executed == before.executed + Decimal("500.00")
    assert list(COLLECTOR.figures) == await _recomputed(api_app)
    # 500.00 -> 700.00 and moved from executed to planned
    resp = await api.patch(
        f"/v1/budget/amounts/{resp.json()['id']}",
        json={"amount": "700.00", "phase": "planned"},
        headers={**writer, "if-match": resp.headers["etag"]},
    )
    assert resp.status_code == 200, resp.text
    assert _figure(1, 2023).executed == before.executed
    assert _figure(1, 2023).planned == before.planned + Decimal("700.00")
    assert list(COLLECTOR.figures) == await _recomputed(api_app)
    resp = await api.delete(
        f"/v1/budget/amounts/{resp.json()['id']}", headers={**writer, "if-match": resp.headers["etag"]}
    )
    assert resp.status_code == 204, resp.text
    assert _figure(1, 2023) == before
    assert list(COLLECTOR.figures) == await _recomputed(api_app)
    assert COLLECTOR.tally is tally  # changed in place, never reloaded
    metrics = (await api.get("/metrics")).text
    assert f'metas_budget_executed_eur{{eixo="1",year="2023"}} {float(before.executed)}' in metrics


async def test_a_rolled_back_write_leaves_the_gauges(api_app: FastAPI) -> None:
    await refresh_once(api_app)
    before = list(COLLECTOR.figures)
    entry = _entry(Breakdown.SUBINVESTMENT, 1, 2023, Phase.EXECUTED, Decimal("12.34"))
    async with api_app.state.db.sessionmaker() as session:
        repo.add_amount(session, entry, code_table_version=None)
        await session.flush()
        await record_change(session, None, entry)
        await session.rollback()
    assert list(COLLECTOR.figures) == before
    async with api_app.state.db.sessionmaker() as session:
        repo.add_amount(session, entry, code_table_version=None)
        await session.flush()
        await record_change(session, None, entry)
        assert list(COLLECTOR.figures) == before  # not before the commit
        await session.commit()
    assert _figure(1, 2023).executed == next(f for f in before if (f.eixo, f.year) == (1, 2023)).executed + Decimal(
        "12.34"
    )
    assert list(COLLECTOR.figures) == await _recomputed(api_app)


async def test_code_tables_are_cached_and_a_new_version_is_seen(api_app: FastAPI) -> None:
    async with api_app.state.db.sessionmaker() as session:
        cache = BudgetCache()
        first = await code_tables(session, cache)
        again = await code_tables(session, cache)
        assert again == first
        assert again[-1] is first[-1]  # the same objects: not read again
        assert [t.version for t in first] == ["2024.1"]
        new = CodeTable(
            version="2099.1",
            valid_from=date(2099, 1, 1),
            codes={"D.01": "Despesas com o pessoal"},
            source="test",
            current=frozenset({"D.01"}),
            capital=frozenset(),
        )
        assert await repo.add_code_table(session, new)
        tables = await code_tables(session, cache)
        assert [t.version for t in tables] == ["2024.1", "2099.1"]
        assert tables[-1].codes == {"D.01": "Despesas com o pessoal"}
        assert tables[-1].current == frozenset({"D.01"})
        await session.rollback()
    async with api_app.state.db.sessionmaker() as session:
        assert [t.version for t in await code_tables(session, cache)] == ["2024.1"]


async def test_the_context_in_one_query_is_the_latest_published_budget_and_the_code_table_versions(
    api_app: FastAPI,
) -> None:
    async with api_app.state.db.sessionmaker() as session:
        row, key = await repo.context_heads(session)
        latest = await repo.latest_published(session)
        assert row is not None
        assert latest is not None
        assert row.id == latest.id
        assert row.sha256 == latest.sha256
        assert key == await repo.code_table_key(session)
        assert [k[0] for k in key] == ["2024.1"]
        # An older and a newer version: every version, oldest first, whatever order they were added in.
        for version, valid in (("2099.1", date(2099, 1, 1)), ("1999.1", date(1999, 1, 1))):
            empty = CodeTable(version, valid, {}, "test", frozenset(), frozenset())
            assert await repo.add_code_table(session, empty)
        _, key = await repo.context_heads(session)
        assert [k[0] for k in key] == ["1999.1", "2024.1", "2099.1"]
        assert key == await repo.code_table_key(session)
        # A newer published budget is the one read.
        session.add(
            m.PublishedBudget(
                investment_code=latest.investment_code, label="v2", source_file="v2.json", sha256="f" * 64, document={}
            )
        )
        await session.flush()
        row, _ = await repo.context_heads(session)
        assert row is not None
        assert row.sha256 == "f" * 64
        assert row.id > latest.id
        # Another investment has no published budget: nothing, and no versions read for it.
        assert await repo.context_heads(session, "C99-i99") == (None, ())
        await session.rollback()


# ---- SQL grouping against the domain on every amount ---------------------------------------------------

POSITIONS = [
    # (breakdown, eixo, sub-investment, fund item, rubric)
    (Breakdown.SUBINVESTMENT, 1, "1.1.1", None, None),
    (Breakdown.SUBINVESTMENT, 1, "1.1.2", None, None),
    (Breakdown.SUBINVESTMENT, 2, "1.2.1", None, None),
    (Breakdown.SUBINVESTMENT, 4, "1.4.2", None, None),
    (Breakdown.RUBRIC, 2, None, "DA3110502", "D.02.02.20.02"),
    (Breakdown.RUBRIC, 2, None, "DA3110502", "D.02.02.20"),
    (Breakdown.RUBRIC, 2, None, "CPRR02", "D.07.01.08.06.02"),
    (Breakdown.PROCUREMENT, 1, "1.1.1", None, None),
]


@st.composite
def stored_amounts(draw: st.DrawFn) -> AmountEntry:
    breakdown, eixo, sub, fund, rubric = draw(st.sampled_from(POSITIONS))
    phase = draw(st.sampled_from(list(Phase)))
    # up to 10^12 EUR a line (beyond the seed's largest total by far); only corrections may be negative
    low = -(10**14) if phase is Phase.CORRECTED else 0
    gross_cents = draw(st.integers(low, 10**14) | st.integers(low, 10**4))
    net_cents = draw(st.integers(min(0, gross_cents), max(0, gross_cents)))
    return AmountEntry(
        breakdown=breakdown,
        year=draw(st.integers(2021, 2026)),
        month=draw(st.none() | st.integers(1, 12)),
        phase=phase,
        eixo=eixo,
        subinvestment=sub,
        fund_item=fund,
        rubric=rubric,
        npd=None,
        funding_source=draw(st.sampled_from(list(FundingSource))),
        vat_rate=Decimal("0.23"),
        gross=Decimal(gross_cents).scaleb(-2),
        net=Decimal(net_cents).scaleb(-2),
        vat=Decimal(gross_cents - net_cents).scaleb(-2),
    )


def _rendered(report: Report) -> list[Any]:
    return [(dict(r.keys), _totals(r.totals)) for r in report.rows] + [_totals(report.total)]


REPORTS = [
    (["eixo", "year"], None, None, None),
    (["eixo", "year"], None, None, 2024),
    (["rubric"], None, None, None),
    (["rubric"], None, 2, None),
    (["fund_item", "funding_source"], None, None, None),
    (["year", "month", "subinvestment"], None, None, None),
    (["eixo"], Breakdown.PROCUREMENT, None, None),
    (["subinvestment", "funding_source"], Breakdown.SUBINVESTMENT, None, 2023),
]


async def _compare_grouped_with_domain(url: str, amounts: list[AmountEntry]) -> None:
    db = Database(url)
    try:
        async with db.sessionmaker() as session:
            for e in amounts:
                repo.add_amount(session, e, code_table_version=None)
            await session.flush()
            every = await repo.all_entries(session)
            assert len(every) >= 188 + len(amounts)
            for dims, asked, level, year in REPORTS:
                chosen = report_breakdown(dims, asked)
                grouped = await repo.grouped_entries(session, breakdown=chosen, year=year)
                expected = planned_vs_executed(every, dims, asked, rubric_level=level, year=year)
                got = planned_vs_executed(grouped, dims, chosen, rubric_level=level, year=year)
                assert got == expected, (dims, asked, level, year)
                assert _rendered(got) == _rendered(expected)
            sub = await repo.grouped_entries(session, breakdown=Breakdown.SUBINVESTMENT)
            for by in ("eixo", "subinvestment"):
                costs: dict[str | int, Decimal | None] = {1: Decimal("1000.00"), "1.1.1": None}
                assert cumulative(sub, by, costs, 2024) == cumulative(every, by, costs, 2024)
            tally = EixoYearTally()
            for entry, count in await repo.counted_groups(session, breakdown=Breakdown.SUBINVESTMENT):
                tally.add(entry, count)
            assert tally.figures() == by_eixo_and_year(every)
            # a snapshot loaded grouped keeps a group until its last amount goes
            for e in amounts:
                tally.remove(e)
            assert tally.figures() == by_eixo_and_year(every[: len(every) - len(amounts)])
            await session.rollback()
    finally:
        await db.dispose()


def test_sql_groups_equal_the_domain_on_the_seed(db_url: str) -> None:
    asyncio.run(_compare_grouped_with_domain(db_url, []))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(stored_amounts(), max_size=30))
def test_sql_groups_equal_the_domain_on_random_amounts(db_url: str, amounts: list[AmountEntry]) -> None:
    asyncio.run(_compare_grouped_with_domain(db_url, amounts))

"""The planned-vs-executed report byte for byte on a small hand-computed dataset, the statements it costs, and its
409 when no budget is loaded (PostgreSQL and SQLite).

The seed's amounts are removed and seven are written through the API; every figure below is worked out by hand
from the rules of budget.domain.money (gross-first split: net = round_half_up(gross / 1.23, 2), vat = gross - net)
and budget.domain.reports (planned = initial + corrections, variance = executed - planned, rate = executed / planned
x 100 to 2 places half up).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, event, insert, select

from budget.db import models as m

REPORT = "/v1/budget/reports/planned-vs-executed"
SUB_111 = {"breakdown": "subinvestment", "subinvestment": "1.1.1"}  # eixo 1
SUB_121 = {"breakdown": "subinvestment", "subinvestment": "1.2.1"}  # eixo 2
AMOUNTS: list[dict[str, Any]] = [
    {**SUB_111, "year": 2023, "phase": "planned", "amount": "1000.00"},  # net 813.01, vat 186.99
    {**SUB_111, "year": 2023, "phase": "corrected", "amount": "-100.00"},  # net -81.30, vat -18.70
    {**SUB_111, "year": 2023, "month": 5, "phase": "executed", "amount": "123.00"},  # net 100.00, vat 23.00
    {**SUB_111, "year": 2024, "phase": "executed", "amount": "50.00", "funding_source": "oe"},  # 40.65 + 9.35
    {**SUB_111, "year": 2024, "phase": "committed", "amount": "10.00"},  # net 8.13, vat 1.87
    {**SUB_121, "year": 2021, "phase": "planned", "amount": "200.00", "basis": "net", "vat_rate": "0.06"},  # 212.00
    # another breakdown (Anexo 5): not in a sub-investment report
    {"breakdown": "rubric", "year": 2024, "phase": "executed", "amount": "24.60"}
    | {"fund_item": "DA3110502", "rubric": "D.02.02.20.02"},
]


def _totals(*values: str | None) -> dict[str, str | None]:
    names = (
        "initial",
        "corrections",
        "planned",
        "committed",
        "executed",
        "variance",
        "execution_rate_pct",
        "planned_net",
        "planned_vat",
        "executed_net",
        "executed_vat",
        "executed_prr",
        "executed_national",
    )
    assert len(values) == len(names)
    return dict(zip(names, values, strict=True))


Z = "0.00"
EIXO_YEAR = {
    "group_by": ["eixo", "year"],
    "breakdown": "subinvestment",
    "year": None,
    "rows": [
        # 1000 - 100 planned; 123 executed: variance 123 - 900, rate 12300 / 900 = 13.666… → 13.67;
        # planned net 813.01 - 81.30, vat 186.99 - 18.70; PRR pays the net, the national budget the VAT
        {"eixo": 1, "year": 2023}
        | _totals(
            *("1000.00", "-100.00", "900.00", Z, "123.00", "-777.00", "13.67"),
            *("731.71", "168.29", "100.00", "23.00", "100.00", "23.00"),
        ),
        # nothing planned: no rate; executed by the national budget (oe): all of it national, nothing PRR
        {"eixo": 1, "year": 2024}
        | _totals(Z, Z, Z, "10.00", "50.00", "50.00", None, Z, Z, "40.65", "9.35", Z, "50.00"),
        # entered net: 200.00 + 6 % = 212.00 gross; nothing executed: rate 0.00
        {"eixo": 2, "year": 2021} | _totals("212.00", Z, "212.00", Z, Z, "-212.00", Z, "200.00", "12.00", Z, Z, Z, Z),
    ],
    # rate 17300 / 1112 = 15.5575… → 15.56
    "total": _totals(
        *("1212.00", "-100.00", "1112.00", "10.00", "173.00", "-939.00", "15.56"),
        *("931.71", "180.29", "140.65", "32.35", "100.00", "73.00"),
    ),
}


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


@contextmanager
def _statements(app: FastAPI) -> Iterator[list[str]]:
    """The SQL the app's read engine runs meanwhile."""
    seen: list[str] = []
    engine = app.state.db.read_engine.sync_engine

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


@pytest.fixture(scope="module")
async def small(api: httpx.AsyncClient, api_app: FastAPI, writer: dict[str, str]) -> httpx.AsyncClient:
    async with api_app.state.db.sessionmaker() as session, session.begin():
        await session.execute(delete(m.BudgetAmount))
    for body in AMOUNTS:
        resp = await api.post("/v1/budget/amounts", json=body, headers=writer)
        assert resp.status_code == 201, resp.text
    return api


async def test_report_by_eixo_and_year_byte_for_byte(small: httpx.AsyncClient, reader: dict[str, str]) -> None:
    resp = await small.get(REPORT, params={"group_by": "eixo,year"}, headers=reader)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.content == _compact(EIXO_YEAR)


async def test_report_reads_the_amounts_in_one_statement(
    small: httpx.AsyncClient, api_app: FastAPI, reader: dict[str, str]
) -> None:
    await small.get(REPORT, params={"group_by": "eixo,year"}, headers=reader)  # caches warm
    with _statements(api_app) as seen:
        resp = await small.get(REPORT, params={"group_by": "eixo,year"}, headers=reader)
    assert resp.content == _compact(EIXO_YEAR)
    queries = [s for s in seen if not s.startswith("BEGIN")]  # SQLite's explicit BEGIN of the read transaction
    assert len(queries) == 1, queries
    assert "FROM budget_amount" in queries[0]
    assert "EXISTS" in queries[0]  # whether a budget is loaded, asked in the same statement


async def test_a_loaded_budget_without_amounts_reports_zeros(
    small: httpx.AsyncClient, api_app: FastAPI, reader: dict[str, str]
) -> None:
    with _statements(api_app) as seen:
        resp = await small.get(REPORT, params={"group_by": "eixo,year", "year": 2099}, headers=reader)
    assert resp.status_code == 200
    assert resp.json() == {**EIXO_YEAR, "year": 2099, "rows": [], "total": _totals(*[Z] * 6, None, *[Z] * 6)}
    # no amount came back, so the context was read to tell "no amounts" from "no budget loaded"
    assert any("published_budget" in s and "budget_amount" not in s for s in seen)


async def test_grouped_by_rubric_still_names_the_rubrics(small: httpx.AsyncClient, reader: dict[str, str]) -> None:
    resp = await small.get(REPORT, params={"group_by": "rubric", "rubric_level": 2}, headers=reader)
    assert resp.status_code == 200
    assert [(r["rubric"], r["rubric_name"], r["executed"]) for r in resp.json()["rows"]] == [
        ("D.02.02", "Aquisição de serviços", "24.60")
    ]


@pytest.mark.parametrize("group_by", ["eixo,year", "rubric", "colour"])
async def test_no_budget_loaded_is_409(empty_api: httpx.AsyncClient, reader: dict[str, str], group_by: str) -> None:
    resp = await empty_api.get(REPORT, params={"group_by": group_by}, headers=reader)
    assert resp.status_code == 409
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["type"].endswith("/budget-not-loaded")


async def test_amounts_without_a_published_budget_or_code_table_are_409(
    small: httpx.AsyncClient, api_app: FastAPI, reader: dict[str, str]
) -> None:
    """Runs last in this module: it removes what the others read."""

    async def refused() -> None:
        for group_by in ("eixo,year", "rubric"):
            resp = await small.get(REPORT, params={"group_by": group_by}, headers=reader)
            assert resp.status_code == 409, resp.text
            assert resp.json()["type"].endswith("/budget-not-loaded")

    published = m.PublishedBudget
    async with api_app.state.db.sessionmaker() as session, session.begin():
        kept = [dict(row) for row in (await session.execute(select(published.__table__))).mappings()]
        await session.execute(delete(published))
    await refused()  # code tables but no published budget
    async with api_app.state.db.sessionmaker() as session, session.begin():
        await session.execute(insert(published), kept)
        await session.execute(delete(m.EconomicCode))
        await session.execute(delete(m.CodeTableVersion))
    await refused()  # a published budget but no code table

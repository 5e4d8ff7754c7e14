"""The seeded service on PostgreSQL and SQLite: structure, reports, reconciliation, metrics (read-only).

Golden figures are the printed ones (data/README.md and the seed tables), with the sums written out.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from budget.metrics import refresh_once


async def _get(api: httpx.AsyncClient, reader: dict[str, str], path: str, **params: Any) -> Any:
    resp = await api.get(path, params=params, headers=reader)
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_structure_both_code_schemes(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    s = await _get(api, reader, "/v1/budget/structure")
    assert (s["programme"], s["component"], s["investment"]["code"]) == (
        "PRR – Plano de Recuperação e Resiliência",
        "C17",
        "C17-i03",
    )
    assert s["investment"]["total_cost_eur"] == "181589884.00"
    assert [e["number"] for e in s["eixos"]] == [1, 2, 3, 4, 5]
    assert sum(len(e["subinvestments"]) for e in s["eixos"]) == 15
    # Anexo 3: Eixo 1 -> OE1 / OP1-OP4; Eixo 3 has no OE printed (README item 22)
    assert (s["eixos"][0]["strategic_objective"], s["eixos"][0]["operational_objectives"]) == (
        "OE1",
        ["OP1", "OP2", "OP3", "OP4"],
    )
    assert (s["eixos"][2]["strategic_objective"], s["eixos"][2]["operational_objectives"]) == (None, ["OP8"])
    eixo5 = s["eixos"][4]
    assert (eixo5["ii_responsible"], eixo5["total_cost_eur"], eixo5["subinvestments"]) == (False, None, [])
    # Tabela 19 code 1.4.3 and Anexo 4 code 4.3 are the same sub-investment
    a = await _get(api, reader, "/v1/budget/subinvestments/1.4.3")
    b = await _get(api, reader, "/v1/budget/subinvestments/4.3")
    assert a == b
    assert (a["eixo"], a["total_estimated_eur"], len(a["procurement_lines"])) == (4, "14500000.00", 22)
    line = a["procurement_lines"][0]
    assert line["amount_eur"] == line["amount_as_printed"].replace(".", "").replace(",", ".").removesuffix(" EUR")


async def test_unknown_subinvestment_is_problem_json(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    resp = await api.get("/v1/budget/subinvestments/9.9", headers=reader)
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["type"].endswith("/not-found")


async def test_reads_need_a_token(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    resp = await api.get("/v1/budget/structure")
    assert resp.status_code == 401


async def test_economic_code_roll_up(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    c = await _get(api, reader, "/v1/budget/economic-codes/D.02.02.05.01")
    assert [x["code"] for x in c["rolls_up_to"]] == ["D.02.02.05", "D.02.02", "D.02"]
    assert (c["level"], c["spending_type"]) == (4, "current")
    resp = await api.get("/v1/budget/economic-codes/D.02.02.99", headers=reader)
    assert resp.status_code == 404


async def test_seed_amount_counts(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    # 15 sub-investments x 4 years of Tabela 19 + 19 Anexo 5 rubric lines + 109 Anexo 4 lines
    counts = {}
    for breakdown in ("subinvestment", "rubric", "procurement"):
        page = await _get(api, reader, "/v1/budget/amounts", breakdown=breakdown, limit=500)
        counts[breakdown] = len(page["items"])
        assert page["next_cursor"] is None
    assert counts == {"subinvestment": 15 * 4, "rubric": 19, "procurement": 109}


async def test_pagination_cursor(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    first = await _get(api, reader, "/v1/budget/amounts", limit=100)
    assert len(first["items"]) == 100
    second = await _get(api, reader, "/v1/budget/amounts", limit=100, cursor=first["next_cursor"])
    assert len(second["items"]) == 188 - 100
    assert {i["id"] for i in first["items"]}.isdisjoint({i["id"] for i in second["items"]})


async def test_report_by_year(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    r = await _get(api, reader, "/v1/budget/reports/planned-vs-executed", group_by="year")
    rows = {row["year"]: row for row in r["rows"]}
    assert r["breakdown"] == "subinvestment"
    # 2021 executed: 80.904 + 338.538 + 209.293 + 263.094 + 129.227 + 3.727.775 + 468.962 + 2.189.334
    assert rows[2021]["executed"] == str(80904 + 338538 + 209293 + 263094 + 129227 + 3727775 + 468962 + 2189334) + ".00"
    assert rows[2021]["executed"] == "7407127.00"  # = Tabela 19 Totais 2021 (consistent)
    assert (rows[2021]["planned"], rows[2021]["execution_rate_pct"]) == ("0.00", None)
    # 2024 is forecast: sum of the 15 sub-investments = 61.488.596 (README item 15), nothing executed yet
    assert rows[2024]["planned"] == "61488596.00"
    assert (rows[2024]["executed"], rows[2024]["execution_rate_pct"]) == ("0.00", "0.00")
    assert rows[2024]["variance"] == "-61488596.00"
    assert rows[2023]["planned"] == "51381570.00"
    assert rows[2022]["executed"] == "18987843.00"


async def test_report_by_eixo_where_source_consistent(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    r = await _get(api, reader, "/v1/budget/reports/planned-vs-executed", group_by="eixo", year=2024)
    rows = {row["eixo"]: row["planned"] for row in r["rows"]}
    # Tabela 19 2024 eixo rows agree with their sub-investments except Eixo 2 (5.133.391 vs 5.133.390)
    assert rows == {1: "35970268.00", 2: "5133390.00", 3: "4336762.00", 4: "16048176.00"}


async def test_report_by_rubric_rolled_up(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    r = await _get(api, reader, "/v1/budget/reports/planned-vs-executed", group_by="rubric", rubric_level=1)
    assert r["breakdown"] == "rubric"
    rows = {row["rubric"]: row["planned"] for row in r["rows"]}
    # D.02: DA3110501 4.057.436 + DA3110502 3.354.656 + DA3110503 486.762 + DA3110504 lines 10.584.247
    assert rows["D.02"] == str(4057436 + 3354656 + 486762 + 10584247) + ".00" == "18483101.00"
    assert rows["D.07"] == str(31912832 + 1728735 + 3900000 + 5463929) + ".00" == "43005496.00"
    assert r["total"]["planned"] == "61488597.00"  # = Anexo 5 TOTAL as printed


async def test_report_by_fund_item_uses_rubric_lines(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    r = await _get(api, reader, "/v1/budget/reports/planned-vs-executed", group_by="fund_item")
    rows = {row["fund_item"]: row["planned"] for row in r["rows"]}
    # DA3110504 is printed 10.584.248 but its lines add 4.565.625 + 617.440 + 5.370.432 + 30.750
    assert rows["DA3110504"] == str(4565625 + 617440 + 5370432 + 30750) + ".00" == "10584247.00"
    assert rows["CPRR01"] == "31912832.00"
    assert len(rows) == 8


async def test_report_by_subinvestment_csv(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    resp = await api.get(
        "/v1/budget/reports/planned-vs-executed",
        params={"group_by": "subinvestment,year", "format": "csv"},
        headers=reader,
    )
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert len(rows) == 15 * 4 + 1
    row = next(r for r in rows if r["subinvestment"] == "1.1.1" and r["year"] == "2022")
    assert (row["executed"], row["planned"]) == ("1811563.00", "0.00")
    assert rows[-1]["subinvestment"] == "TOTAL"


async def test_bad_group_by_is_problem(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    resp = await api.get("/v1/budget/reports/planned-vs-executed", params={"group_by": "colour"}, headers=reader)
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["path"] == "group_by"


async def test_cumulative_against_total_cost(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    r = await _get(api, reader, "/v1/budget/reports/cumulative", by="eixo", up_to_year=2022)
    row = next(x for x in r["rows"] if x["eixo"] == 1)
    # Eixo 1 executed 2021 + 2022 from its sub-investments: 419.442 + 9.619.623 = 10.039.065
    assert row["executed_to_date"] == "10039065.00"
    assert row["total_cost"] == "115549796.00"
    # 10.039.065 / 115.549.796 = 0.0868807... -> 8.69 %
    assert row["execution_of_total_pct"] == "8.69"
    assert row["remaining"] == str(115549796 - 10039065) + ".00"


async def test_reconciliation_endpoint_matches_readme(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    r = await _get(api, reader, "/v1/budget/reconciliation")
    assert (r["mismatch_count"], r["informative_count"]) == (23, 3)
    items = [(i["check"], i["path"], i["printed"], i["computed"], i["difference"]) for i in r["items"]]
    # spot checks typed from data/README.md items 15, 16, 18, 17, 20
    assert ("table19.totals_vs_subinvestments", "year=2024", "61488597.00", "61488596.00", "1.00") in items
    assert ("annex5.total_vs_fund_items", "total", "61488597.00", "61488598.00", "-1.00") in items
    assert ("section42_vs_annex5.prr_total_2024", "year=2024", "61488598.00", "61488597.00", "1.00") in items
    assert ("table19_vs_annex5.eixo_2024", "eixo=2", "5133391.00", "5083391.00", "50000.00") in items
    assert ("annex4_vs_table19.lines_2024", "subinvestment=1.1.6", "11929511.00", "9353089.36", "2576421.64") in items
    alias = await _get(api, reader, "/v1/reconciliation")
    assert alias["items"] == r["items"]
    full = await _get(api, reader, "/v1/budget/reconciliation", include_ok="true")
    assert full["checks_run"] == len(full["items"]) == 131


async def test_reconciliation_does_not_alter_printed_figures(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    await _get(api, reader, "/v1/budget/reconciliation")
    s = await _get(api, reader, "/v1/budget/structure")
    assert s["eixos"][0]["table19_eur"]["2021"] == "419443.00"  # printed, not the computed 419.442
    fund = await _get(api, reader, "/v1/budget/fund-items")
    da4 = next(f for f in fund["items"] if f["code"] == "DA3110504")
    assert da4["amount_2024_eur"] == "10584248.00"


async def test_metrics_gauges(api: httpx.AsyncClient, api_app: FastAPI) -> None:
    # the gauges are process-wide: refresh from this app's database (another test's app may have run since)
    await refresh_once(api_app)
    text = (await api.get("/metrics")).text
    assert 'metas_budget_planned_eur{eixo="1",year="2024"} 3.5970268e+07' in text
    # Eixo 1 2021 executed from its sub-investments: 80.904 + 338.538 = 419.442
    assert 'metas_budget_executed_eur{eixo="1",year="2021"} 419442.0' in text
    assert 'metas_budget_execution_ratio{eixo="1",year="2024"} 0.0' in text
    assert 'metas_budget_execution_ratio{eixo="1",year="2021"}' not in text  # nothing planned for 2021


async def test_published_eixo_totals_reproduced_where_consistent(
    api: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    """Every printed Tabela 19 eixo row equals the report's eixo x year figure, except README item 14's eight."""
    structure = await _get(api, reader, "/v1/budget/structure")
    printed = {
        (e["number"], int(y)): v for e in structure["eixos"] for y, v in e["table19_eur"].items() if v is not None
    }
    report = await _get(api, reader, "/v1/budget/reports/planned-vs-executed", group_by="eixo,year")
    # 2021-2022 are printed as execution, 2023-2024 as forecast (planned)
    computed = {(r["eixo"], r["year"]): r["executed"] if r["year"] <= 2022 else r["planned"] for r in report["rows"]}
    assert len(printed) == len(computed) == 4 * 4
    differing = sorted(k for k in printed if printed[k] != computed[k])
    assert differing == [(1, 2021), (1, 2022), (1, 2023), (2, 2021), (2, 2024), (3, 2022), (3, 2023), (4, 2022)]


async def test_published_budget_versions_verbatim(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    listing = await _get(api, reader, "/v1/budget/published-budgets")
    assert len(listing["items"]) == 1
    pid = listing["items"][0]["id"]
    resp = await api.get(f"/v1/budget/published-budgets/{pid}", headers=reader)
    doc = resp.json()
    # printed as in the source: Secção 3.2 "61.488.597EUR", Secção 4.2 PRR 2024 total 61.488.598
    assert doc["investment"]["execucao_global_prevista_2024_eur"] == 61488597
    assert doc["section_4_2_budget"]["total_row"]["prr_2024"] == 61488598
    again = await api.get(
        f"/v1/budget/published-budgets/{pid}", headers={**reader, "if-none-match": resp.headers["etag"]}
    )
    assert again.status_code == 304
    r = await _get(api, reader, "/v1/budget/reconciliation", published_id=pid)
    assert r["mismatch_count"] == 23
    missing = await api.get("/v1/budget/reconciliation", params={"published_id": pid + 1000}, headers=reader)
    assert missing.status_code == 404


async def test_rubric_rows_carry_names(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    r = await _get(api, reader, "/v1/budget/reports/planned-vs-executed", group_by="rubric", rubric_level=2)
    names = {row["rubric"]: row["rubric_name"] for row in r["rows"]}
    assert names == {"D.02.02": "Aquisição de serviços", "D.07.01": "Investimentos"}


@pytest.mark.parametrize(
    "cursor",
    ["abc", "eyJuIjoiYWJjIn0", "eyJpZCI6WzFdfQ", "x" * 3000, "[" * 2000],  # junk, {"n":"abc"}, {"id":[1]}, long, deep
)
async def test_tampered_cursors_are_a_400_problem(
    api: httpx.AsyncClient, reader: dict[str, str], auth: Any, cursor: str
) -> None:
    for url in ("/v1/budget/amounts", "/v1/audit"):
        headers = reader if url != "/v1/audit" else auth("auditor")
        resp = await api.get(url, params={"cursor": cursor}, headers=headers)
        assert resp.status_code == 400, (url, resp.status_code, resp.text[:200])
        assert resp.headers["content-type"].startswith("application/problem+json")
    # a cursor this service issued goes on where the page ended
    page = (await api.get("/v1/budget/amounts", params={"limit": 1}, headers=reader)).json()
    assert page["next_cursor"]
    again = await api.get("/v1/budget/amounts", params={"cursor": page["next_cursor"], "limit": 1}, headers=reader)
    assert again.status_code == 200
    assert again.json()["items"][0]["id"] > page["items"][0]["id"]

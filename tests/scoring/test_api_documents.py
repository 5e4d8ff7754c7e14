"""Official documents of a stored evaluation (QUAR table, Acordo report) read back from the PDF, XLSX and CSV and
compared with the API's figures."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from scoring_support import IPSM, IPSM_COMMITTEE, PLANNER, QUAR, VIEWER, Service, org_token, pdf_text

CAUSE = "Migração de centro de dados atrasou a monitorização"


async def _evaluate(svc: Service, body: dict[str, Any]) -> dict[str, Any]:
    response = await svc.http.post("/v1/evaluations", json=body, headers=PLANNER)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def _download(svc: Service, run_id: str, fmt: str) -> bytes:
    response = await svc.http.get(f"/v1/evaluations/{run_id}/report", params={"format": fmt}, headers=VIEWER)
    assert response.status_code == 200, response.text
    assert f".{fmt}" in response.headers["content-disposition"]
    return response.content


def sheet_rows(content: bytes, name: str) -> list[tuple[Any, ...]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [tuple(r) for r in book[name].iter_rows(values_only=True)]


def same(cell: Any, api: str | None) -> bool:
    return api is not None and Decimal(str(cell)) == Decimal(api)


async def test_quar_table_in_pdf_xlsx_and_csv_matches_the_api(service: Service) -> None:
    run = await _evaluate(service, {"plan_id": QUAR, "period_to": "2024-12", "committee": {"causes": {"Ind.3": CAUSE}}})
    indicators = run["results"]["indicators"]
    pdf = await _download(service, run["id"], "pdf")
    text = pdf_text(pdf)
    assert "Final rate: 102.57 %" in text
    assert "Desempenho satisfatório" in text
    # the self-assessment: Ind.3's deviation (98.48 − 100 = −1.52) and its justification; Ind.1 exceeded (+25.00)
    assert "Autoavaliação" in text
    assert f"Ind.3 99.0 97 -1.52 -2.02 {CAUSE}" in text
    assert "Ind.1 90 100 25.00 11.11 —" in text

    xlsx = await _download(service, run["id"], "xlsx")
    header, *rows = sheet_rows(xlsx, "QUAR")
    assert header[1] == "Indicator"
    assert header[8] == "Rate %"
    assert {r[1] for r in rows} == set(indicators)
    for r in rows:
        assert same(r[8], indicators[r[1]]["value"]), r
    objectives = sheet_rows(xlsx, "Objectives")[1:]
    for r in objectives:
        assert same(r[4], run["summary"]["objectives"][r[0]]), r
    parameters = sheet_rows(xlsx, "Parameters")[1:]
    assert {r[0]: Decimal(str(r[3])) for r in parameters} == {
        k: Decimal(v) for k, v in run["summary"]["parameters"].items()
    }

    table = list(csv.DictReader(io.StringIO((await _download(service, run["id"], "csv")).decode())))
    assert {r["Indicator"]: Decimal(r["Rate %"]) for r in table} == {
        code: Decimal(s["value"]) for code, s in indicators.items()
    }
    # Ind.3: R 97 < M − T = 98.5 → 98.48, Não atingiu
    ind3 = next(r for r in table if r["Indicator"] == "Ind.3")
    assert (ind3["Result"], ind3["Rate %"], ind3["Classification"]) == ("97", "98.48", "Não atingiu")
    # the same figures (and bytes) on a second download, from the stored snapshot
    assert await _download(service, run["id"], "pdf") == pdf
    assert sheet_rows(await _download(service, run["id"], "xlsx"), "QUAR") == [header, *rows]


async def test_acordo_report_per_team_matches_the_api(service: Service) -> None:
    run = await _evaluate(service, {"plan_id": IPSM, "period_to": "2014-12", "n1": "90", "committee": IPSM_COMMITTEE})
    text = pdf_text(await _download(service, run["id"], "pdf"))
    for unit, grade in run["summary"]["teams"].items():
        assert f"Team grade (N2): {grade}" in text, unit
    # productivity DS = 0.70 × 90 + 0.30 × 94.67 = 91.40
    assert "Productivity: 91.40" in text
    assert "N1 90, N2 94.67" in text
    xlsx = await _download(service, run["id"], "xlsx")
    header, *rows = sheet_rows(xlsx, "DS products")
    assert header == ("Product", "Name", "Due date", "Delivered on", "Days late", "Score", "Weight")
    late = next(r for r in rows if r[0] == "DS-P01")
    # due 31/12/2014, delivered 10/01/2015: 10 days late → band 2 → 90
    assert late[2:6] == ("2014-12-31", "2015-01-10", 10, 90)
    _, *ds = sheet_rows(xlsx, "DS indicators")
    scores = run["results"]["indicators"]
    for r in ds:
        assert same(r[4], scores[r[0]]["value"]), r
    ds_i2 = next(r for r in ds if r[0] == "DS-I2")
    assert (ds_i2[2], ds_i2[3], ds_i2[4], ds_i2[5]) == (52000, 53000, 66.67, 10)
    table = list(csv.DictReader(io.StringIO((await _download(service, run["id"], "csv")).decode())))
    assert next(r for r in table if r["Code"] == "DP-I6")["Score"] == "set aside"
    assert {r["Team"] for r in table} == set(run["summary"]["teams"])


async def test_documents_of_another_organisation_and_bad_formats(service: Service) -> None:
    run = await _evaluate(service, {"plan_id": QUAR, "period_to": "2024-12"})
    hidden = await service.http.get(
        f"/v1/evaluations/{run['id']}/report", headers=org_token(("viewer", "ipsm")), params={"format": "csv"}
    )
    assert hidden.status_code == 404
    bad = await service.http.get(f"/v1/evaluations/{run['id']}/report", params={"format": "docx"}, headers=VIEWER)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")

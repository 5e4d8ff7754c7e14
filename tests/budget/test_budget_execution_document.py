"""The PRR budget execution document (by eixo, sub-investment and rubric) read back from the PDF, XLSX and CSV,
compared with the API's JSON reports and with figures worked by hand (docs/domain.md §5), on both backends."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from budget.documents.render import to_xlsx
from budget.domain.document import execution_document

D = Decimal

# Added to the seed through the API, all 2024: on sub-investment 1.2.1 (eixo 2) a correction, a commitment and a
# payment; on rubric D.02.02.20.02 of fund item DA3110502 (eixo 2) a payment.
AMOUNTS = [
    {"breakdown": "subinvestment", "subinvestment": "1.2.1", "phase": "corrected", "amount": "-133390.00"},
    {"breakdown": "subinvestment", "subinvestment": "1.2.1", "phase": "committed", "amount": "3000000.00"},
    {"breakdown": "subinvestment", "subinvestment": "1.2.1", "phase": "executed", "amount": "1250000.00"},
    {
        "breakdown": "rubric",
        "fund_item": "DA3110502",
        "rubric": "D.02.02.20.02",
        "phase": "executed",
        "amount": "130000.00",
    },
]


def pdf_text(content: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


def sheet_rows(content: bytes, name: str) -> list[tuple[Any, ...]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [tuple(r) for r in book[name].iter_rows(values_only=True)]


@pytest.fixture(scope="module")
async def loaded(api: httpx.AsyncClient, writer: dict[str, str]) -> None:
    for body in AMOUNTS:
        created = await api.post("/v1/budget/amounts", json={"year": 2024, **body}, headers=writer)
        assert created.status_code == 201, created.text


async def _download(api: httpx.AsyncClient, reader: dict[str, str], fmt: str, year: int | None = 2024) -> bytes:
    params: dict[str, Any] = {"format": fmt, **({"year": year} if year else {})}
    response = await api.get("/v1/budget/reports/execution-document", params=params, headers=reader)
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].endswith(f'.{fmt}"')
    return response.content


async def _report(api: httpx.AsyncClient, reader: dict[str, str], group_by: str) -> dict[str, Any]:
    response = await api.get(
        "/v1/budget/reports/planned-vs-executed", params={"group_by": group_by, "year": 2024}, headers=reader
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


FIGURES = ("initial", "corrections", "planned", "committed", "executed", "variance", "execution_rate_pct")


def _api_figures(row: dict[str, Any]) -> tuple[Decimal | None, ...]:
    return tuple(None if row[f] is None else D(row[f]) for f in FIGURES)


def _cell_figures(cells: tuple[Any, ...]) -> tuple[Decimal | None, ...]:
    return tuple(None if c is None else D(str(c)) for c in cells)


async def test_figures_worked_by_hand_in_pdf_xlsx_and_csv(
    loaded: None, api: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    # Eixo 2, 2024: planned 1 283 441 + 3 134 690 + 715 259 = 5 133 390 (Tabela 19), corrected −133 390 →
    # 5 000 000.00; committed 3 000 000.00; executed 1 250 000.00; variance 1 250 000 − 5 000 000 = −3 750 000.00;
    # rate 1 250 000 / 5 000 000 × 100 = 25.00.
    eixo2 = ("2", "2024", "5133390.00", "-133390.00", "5000000.00", "3000000.00", "1250000.00", "-3750000.00", "25.00")
    # 1.2.1, 2024: planned 1 283 441 − 133 390 = 1 150 051.00; variance 1 250 000 − 1 150 051 = 99 949.00;
    # rate 1 250 000 / 1 150 051 = 1.086908… → 108.69.
    sub121 = ("1283441.00", "-133390.00", "1150051.00", "3000000.00", "1250000.00", "99949.00", "108.69")
    # D.02.02.20.02 of eixo 2, 2024: planned 526 000 (Anexo 5), executed 130 000; variance −396 000.00;
    # rate 130 000 / 526 000 = 0.247148… → 24.71.
    rubric = ("526000.00", "0.00", "526000.00", "0.00", "130000.00", "-396000.00", "24.71")

    text = pdf_text(await _download(api, reader, "pdf"))
    assert "PRR budget execution" in text
    assert "Year: 2024" in text
    assert " ".join(eixo2) in text
    assert f"1.2.1 Soluções de Relacionamento {' '.join(sub121)}" in text
    assert " ".join(rubric) in text

    xlsx = await _download(api, reader, "xlsx")
    _, *by_year = sheet_rows(xlsx, "By eixo and year")
    row = next(r for r in by_year if r[:2] == ("2", "2024"))
    assert _cell_figures(row[2:]) == tuple(D(x) for x in eixo2[2:])
    _, *by_sub = sheet_rows(xlsx, "By sub-investment")
    row = next(r for r in by_sub if r[1] == "1.2.1")
    assert row[2] == "Soluções de Relacionamento"  # Tabela 19 name
    assert _cell_figures(row[3:]) == tuple(D(x) for x in sub121)
    _, *by_rubric = sheet_rows(xlsx, "By rubric")
    row = next(r for r in by_rubric if r[1] == "D.02.02.20.02" and str(r[0]) == "2")
    assert _cell_figures(row[3:]) == tuple(D(x) for x in rubric)

    table = list(csv.DictReader(io.StringIO((await _download(api, reader, "csv")).decode())))
    row = next(r for r in table if r["Section"] == "By eixo and year" and r["Eixo"] == "2")
    assert (row["Planned"], row["Variance"], row["Rate %"]) == ("5000000.00", "-3750000.00", "25.00")


async def test_every_figure_equals_the_apis_json_reports(
    loaded: None, api: httpx.AsyncClient, reader: dict[str, str]
) -> None:
    xlsx = await _download(api, reader, "xlsx")
    text = pdf_text(await _download(api, reader, "pdf"))
    for sheet, group_by, keys in (
        ("By eixo and year", "eixo,year", ("eixo", "year")),
        ("By sub-investment", "eixo,subinvestment", ("eixo", "subinvestment")),
        ("By rubric", "eixo,rubric", ("eixo", "rubric")),
    ):
        report = await _report(api, reader, group_by)
        header, *rows = sheet_rows(xlsx, sheet)
        figures_from = len(header) - len(FIGURES)
        *body, total = rows
        assert total[0] == "Total"
        assert _cell_figures(total[figures_from:]) == _api_figures(report["total"]), sheet
        from_sheet = {tuple(str(c) for c in r[: len(keys)]): _cell_figures(r[figures_from:]) for r in body}
        from_api = {tuple(str(row[k]) for k in keys): _api_figures(row) for row in report["rows"]}
        assert from_sheet == from_api, sheet
        # the PDF prints the same rows: each row's figures as text, in order
        for row in report["rows"]:
            printed = " ".join("—" if row[f] is None else row[f] for f in FIGURES)
            assert printed in text, (sheet, row)


async def test_same_bytes_on_a_second_download(loaded: None, api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    for fmt in ("pdf", "xlsx", "csv"):
        assert await _download(api, reader, fmt, None) == await _download(api, reader, fmt, None), fmt
    # every year: 1.2.1's executed = 209 293 (2021) + 431 494 (2022) + 1 250 000 (2024) = 1 890 787.00
    table = list(csv.DictReader(io.StringIO((await _download(api, reader, "csv", None)).decode())))
    row = next(r for r in table if r["Section"] == "By sub-investment" and r["Sub-investment"] == "1.2.1")
    assert row["Executed"] == "1890787.00"


async def test_document_refusals(api: httpx.AsyncClient, reader: dict[str, str]) -> None:
    bad = await api.get("/v1/budget/reports/execution-document", params={"format": "docx"}, headers=reader)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    early = await api.get("/v1/budget/reports/execution-document", params={"year": 2019}, headers=reader)
    assert early.status_code == 422
    unauthenticated = await api.get("/v1/budget/reports/execution-document")
    assert unauthenticated.status_code == 401


def test_texts_a_spreadsheet_would_run_are_escaped() -> None:
    from budget.documents.render import to_csv, to_xlsx
    from budget.domain.document import FIGURES as COLUMNS
    from budget.domain.document import ExecutionDocument, Table

    figures = ("1.00", "0.00", "1.00", "0.00", "-1.00", "-2.00", "—")
    hostile = Table(
        "By rubric",
        ("Eixo", "Rubric", "Name", *COLUMNS),
        (("1", "D.02", '=HYPERLINK("http://x")', *figures),),
        3,
        ("Total", "", "", *figures),
    )
    document = ExecutionDocument("PRR budget execution", ("@SUM(A1)",), (hostile,))
    table = list(csv.DictReader(io.StringIO(to_csv(document).decode())))
    # the name is escaped; a negative figure stays a figure
    assert (table[0]["Name"], table[0]["Executed"]) == ('\'=HYPERLINK("http://x")', "-1.00")
    from datetime import datetime

    xlsx = to_xlsx(document, datetime(2024, 1, 1))
    assert sheet_rows(xlsx, "By rubric")[1][2] == '\'=HYPERLINK("http://x")'
    assert sheet_rows(xlsx, "Summary")[1][0] == "'@SUM(A1)"


def test_xlsx_is_dated_with_the_document_instant_only() -> None:
    """The workbook's properties and zip entries carry the published budget's instant, never the clock."""
    created = datetime(2024, 3, 4, 5, 6, 8, tzinfo=UTC)  # zip dates count in 2 s
    document = execution_document(
        [], investment="C17-i03", published="#1", subinvestment_names={}, rubric_names={}, year=None
    )
    content = to_xlsx(document, created)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        core = archive.read("docProps/core.xml").decode()
        assert {entry.date_time for entry in archive.infolist()} == {(2024, 3, 4, 5, 6, 8)}
    assert core.count("2024-03-04T05:06:08Z") == 2, core  # created and modified

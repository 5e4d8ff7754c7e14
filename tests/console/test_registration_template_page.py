"""The registration template on the bulk entry page, in a real browser through the gateway: download the XLSX,
upload it with a bad cell (the page names the sheet and cell, nothing is written), upload it fixed, import — axe on
every page, screenshots of the bad cells and of the clean check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from console_support import PLAN, Stack, check_accessibility, grant_exception, screenshot, sign_in
from openpyxl import load_workbook
from playwright.sync_api import expect

pytestmark = pytest.mark.integration

PERIOD = "2014-03"  # a period of its own (DS), opened for the test by a lock exception


def test_download_upload_a_bad_cell_then_the_fixed_file_imports(
    stack: Stack, open_page: Callable[..., Any], tmp_path: Path
) -> None:
    grant_exception(stack, PERIOD)
    page = open_page()
    sign_in(page, "registrar_ds")
    page.goto(f"{stack.url}/plans/{PLAN}/bulk?unit=DS&period={PERIOD}")
    expect(page.get_by_role("heading", level=2, name="Fill in a spreadsheet instead")).to_be_visible()
    check_accessibility(page)
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the template (XLSX)").click()
    download = info.value
    assert download.suggested_filename == f"{PLAN}-DS-{PERIOD}.xlsx"
    template = tmp_path / download.suggested_filename
    download.save_as(template)
    wb = load_workbook(template)
    ind = wb["Indicators"]
    assert (ind["A2"].value, ind["A3"].value) == ("DS-I1", "DS-I2")
    # Column K is the value: DS-I1 typed with a decimal comma in a text cell (refused), DS-I2 right (60000 is
    # above its meta of 53000, higher is better: no justification needed).
    ind["K2"], ind["K3"] = "12,5", 60000
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)

    page.get_by_label("Filled-in template").set_input_files(bad)
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_test_id("sheet-summary")).to_have_text(
        "1 bad cell; nothing was saved. Fix it in the file and upload it again."
    )
    problems = page.get_by_test_id("sheet-problem")
    expect(problems).to_have_count(1)
    row = page.locator('[data-testid="sheet-problem"][data-cell="Indicators!K2"]')
    expect(row.get_by_role("rowheader")).to_have_text("K2")
    expect(row).to_contain_text("Indicators")
    expect(row).to_contain_text("DS-I1")
    expect(row).to_contain_text("12,5 is not a number this field accepts")
    check_accessibility(page)
    screenshot(page, "registration-template-bad-cells")
    with stack.api("certifier") as api:
        assert api.get(f"/api/execution/v1/plans/{PLAN}/registrations/DS-I2/{PERIOD}").status_code == 404

    ind["K2"] = 90  # DS-I1, lower is better, meta 97: 90 needs no justification
    fixed = tmp_path / "fixed.xlsx"
    wb.save(fixed)
    page.get_by_label("Filled-in template").set_input_files(fixed)
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_test_id("sheet-ok")).to_have_text("2 filled rows and no bad cell: ready to import.")
    check_accessibility(page)
    screenshot(page, "registration-template-ready")
    page.get_by_label("Why (kept in the history)").last.fill("planilha do mês")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("notice")).to_have_text("2 registrations imported.")
    check_accessibility(page)
    with stack.api("certifier") as api:
        stored = api.get(f"/api/execution/v1/plans/{PLAN}/registrations/DS-I2/{PERIOD}/versions").json()
    assert [(v["payload"]["value"], v["reason"]) for v in stored["versions"]] == [("60000", "planilha do mês")]


def column_of(sheet: Any, header: str) -> str:
    """The letter of the column whose first-row header is `header` (the template's headers are translated)."""
    (cell,) = [c for c in sheet[1] if c.value == header]
    return str(cell.column_letter)


def row_of(sheet: Any, code: str) -> int:
    (cell,) = [c for c in sheet["A"] if c.value == code]
    return int(cell.row)


def test_template_in_portuguese_refuses_a_comma_typed_as_text_and_shows_comma_decimals(
    stack: Stack, open_page: Callable[..., Any], tmp_path: Path
) -> None:
    """pt-PT: the template's sheets and headers in Portuguese; a decimal comma typed as *text* is named as a bad cell
    (the template asks for numbers as numbers); the same value as a number cell (what a spreadsheet in Portuguese
    makes of 22,5) imports; a value short of the meta asks for its justification; the page then shows the stored
    22.5 as 22,5."""
    grant_exception(stack, PERIOD)
    states = {code: f"/api/execution/v1/plans/{PLAN}/registrations/{code}/{PERIOD}" for code in ("DS-I4", "DS-I5")}
    with stack.api("certifier") as api:  # other tests may have registered these already: compare, do not assume
        before = {code: (api.get(url).status_code, api.get(url).headers.get("etag")) for code, url in states.items()}
    page = open_page()
    sign_in(page, "registrar_ds_pt")  # an account in pt-PT
    page.goto(f"{stack.url}/plans/{PLAN}/bulk?unit=DS&period={PERIOD}")
    expect(page.get_by_role("heading", level=2, name="Ou preencha uma folha de cálculo")).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="Descarregar o modelo (XLSX)").click()
    template = tmp_path / "modelo.xlsx"
    info.value.save_as(template)
    wb = load_workbook(template)
    ind = wb["Indicadores"]
    value, why = column_of(ind, "Valor"), column_of(ind, "Justificação")
    i4, i5 = row_of(ind, "DS-I4"), row_of(ind, "DS-I5")
    # DS-I4 (lower is better, meta 25): "22,5" typed as text; DS-I5 (higher is better, meta 50): 40, short of its
    # meta, with no justification.
    ind[f"{value}{i4}"], ind[f"{value}{i5}"] = "22,5", 40
    bad = tmp_path / "errado.xlsx"
    wb.save(bad)
    page.get_by_label("Modelo preenchido").set_input_files(bad)
    page.get_by_role("button", name="Verificar o ficheiro").click()
    expect(page.get_by_test_id("sheet-summary")).to_have_text(
        "2 células erradas; nada foi guardado. Corrija-as no ficheiro e carregue-o de novo."
    )
    comma = page.locator(f'[data-testid="sheet-problem"][data-cell="Indicadores!{value}{i4}"]')
    expect(comma).to_contain_text("22,5 não é um número que este campo aceite")
    short = page.locator(f'[data-testid="sheet-problem"][data-cell="Indicadores!{why}{i5}"]')
    expect(short).to_contain_text("Este valor exige uma justificação (quando o valor é < 50)")
    check_accessibility(page)
    screenshot(page, "registration-template-bad-cells-pt")
    with stack.api("certifier") as api:  # nothing was saved
        after = {code: (api.get(url).status_code, api.get(url).headers.get("etag")) for code, url in states.items()}
    assert after == before

    ind[f"{value}{i4}"] = 22.5  # a number cell: a spreadsheet in Portuguese shows it as 22,5
    ind[f"{why}{i5}"] = "campanha de vacinação adiada"
    fixed = tmp_path / "certo.xlsx"
    wb.save(fixed)
    page.get_by_label("Modelo preenchido").set_input_files(fixed)
    page.get_by_role("button", name="Verificar o ficheiro").click()
    expect(page.get_by_test_id("sheet-ok")).to_have_text(
        "2 linhas preenchidas e nenhuma célula errada: pronto a importar."
    )
    page.get_by_role("button", name="Importar").click()
    expect(page.get_by_test_id("notice")).to_have_text("2 registos importados.")
    # What is registered so far, in pt-PT: decimal comma.
    expect(page.locator('[data-testid="bulk-row"][data-item="DS-I4"] td').first).to_contain_text("22,5")
    check_accessibility(page)
    screenshot(page, "registration-template-imported-pt")
    with stack.api("certifier") as api:
        stored = api.get(f"/api/execution/v1/plans/{PLAN}/registrations/DS-I4/{PERIOD}").json()
    assert stored["payload"]["value"] == "22.5"


def test_template_in_brazilian_portuguese(stack: Stack, open_page: Callable[..., Any], tmp_path: Path) -> None:
    """pt-BR: the page's and the workbook's words, and a thousands separator typed as text refused by cell."""
    grant_exception(stack, PERIOD)
    page = open_page()
    sign_in(page, "registrar_ds_br")
    page.goto(f"{stack.url}/plans/{PLAN}/bulk?unit=DS&period={PERIOD}")
    with page.expect_download() as info:
        page.get_by_role("link", name="Baixar o modelo (XLSX)").click()
    template = tmp_path / "modelo.xlsx"
    info.value.save_as(template)
    wb = load_workbook(template)
    ind = wb["Indicadores"]
    value = column_of(ind, "Valor")
    i6 = row_of(ind, "DS-I6")
    ind[f"{value}{i6}"] = "1.234,5"
    bad = tmp_path / "errado.xlsx"
    wb.save(bad)
    page.get_by_label("Modelo preenchido").set_input_files(bad)
    page.get_by_role("button", name="Verificar o arquivo").click()
    row = page.locator(f'[data-testid="sheet-problem"][data-cell="Indicadores!{value}{i6}"]')
    expect(row).to_contain_text("1.234,5 não é um número")
    expect(row).to_contain_text("DS-I6")
    check_accessibility(page)
    screenshot(page, "registration-template-bad-cells-br")

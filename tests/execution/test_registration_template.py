"""The registration template (XLSX) on PostgreSQL and SQLite: download in the caller's language, fill in with
openpyxl, the dry run names every bad cell by sheet and cell and writes nothing, the import writes every row or
nothing, idempotent replay, another unit's registrar refused, hostile files refused.

Seed plan IPSM 2014, team DS: indicators DS-I1..DS-I6 (monthly) and products DS-P01, DS-P02-E1..E3 (stages), so the
template of DS for 2014-02 has the sheets Indicadores (rows 2-7) and Produtos (rows 2-5). Columns: A/B hidden keys,
C code, D name, E measure unit or delivery due date, F period, G due date, H registered so far, I state; indicators
then J "needs a justification when" and the inputs K value, L numerator, M denominator, N justification, O note;
products the inputs J delivery, K delivered on, L evidence, M note.

The DS indicators' metas (Acordo rule: a justification when short of the meta): DS-I1 lower is better, meta 97
(justify above 97); DS-I2 higher, 53000 (justify below); DS-I3 lower, 8; DS-I4 lower, 25; DS-I5 higher, 50;
DS-I6 higher, 100.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from typing import Any

import openpyxl
from execution_support import ADMIN, CERTIFIER, IPSM, PLANNER, QUAR, REG_DS, REG_PROC, VIEWER, Service, token
from openpyxl import Workbook, load_workbook

TEMPLATE = f"/v1/plans/{IPSM}/registration-template"
REGS = f"/v1/plans/{IPSM}/registrations"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PT_BR = {"accept-language": "pt-BR,pt;q=0.9"}


async def download(svc: Service, headers: dict[str, str] = REG_DS, **extra: str) -> Any:
    return await svc.http.get(TEMPLATE, params={"unit_code": "DS", "period": "2014-02"}, headers={**headers, **extra})


def save(wb: Any) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def post(svc: Service, action: str, data: bytes, headers: dict[str, str] = REG_DS, **extra: str) -> Any:
    return await svc.http.post(
        f"{TEMPLATE}:{action}", content=data, headers={**headers, "content-type": XLSX, **PT_BR, **extra}
    )


def bad_cells(body: dict[str, Any], key: str = "problems") -> list[tuple[str, str, str]]:
    return [(p["sheet"], p["cell"], p["type"]) for p in body[key]]


async def test_download_is_the_units_owed_items_in_the_callers_language(svc: Service) -> None:
    res = await download(svc, **PT_BR)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == XLSX
    assert res.headers["content-disposition"] == f'attachment; filename="{IPSM}-DS-2014-02.xlsx"'
    wb = load_workbook(io.BytesIO(res.content))
    assert wb.sheetnames == ["Instruções", "metas", "Indicadores", "Produtos"]
    assert wb["metas"].sheet_state == "veryHidden"
    assert wb.security is not None
    assert wb.security.lockStructure
    ind, prod = wb["Indicadores"], wb["Produtos"]
    assert [c.value for c in ind[1]][2:] == [
        "Código", "Nome", "Unidade de medida", "Período", "Registrar até", "Registrado até agora", "Situação",
        "Precisa de justificativa quando o valor é", "Valor", "Numerador", "Denominador", "Justificativa", "Observação",
    ]  # fmt: skip
    assert [c.value for c in prod[1]][9:] == ["Entrega", "Entregue em", "Evidências (uma referência por linha)",
                                               "Observação"]  # fmt: skip
    # Hidden keys: item code and period, one row per owed item, by code.
    assert ind.column_dimensions["A"].hidden
    assert ind.column_dimensions["B"].hidden
    assert [(r[0].value, r[1].value) for r in ind.iter_rows(min_row=2)] == [
        (f"DS-I{n}", "2014-02") for n in range(1, 7)
    ]
    assert [r[0].value for r in prod.iter_rows(min_row=2)] == ["DS-P01", "DS-P02-E1", "DS-P02-E2", "DS-P02-E3"]
    # February 2014 is due on the 10th business day of March in Minas Gerais: Carnival Monday/Tuesday (3-4 March)
    # are pontos facultativos, Ash Wednesday a business day: 5,6,7,10,11,12,13,14,17,18 → Tue 18 March.
    assert ind["G2"].value.date() == date(2014, 3, 18)
    assert (ind["C2"].value, ind["F2"].value, ind["I2"].value) == ("DS-I1", "2014-02", "Não registrado")
    assert [ind[f"J{n}"].value for n in range(2, 8)] == ["> 97", "< 53000", "> 8", "> 25", "< 50", "< 100"]
    # Protected: the header and the facts are locked, the input cells are not, and they carry validations.
    assert ind.protection.sheet
    assert prod.protection.sheet
    assert ind["C1"].protection.locked
    assert ind["C2"].protection.locked
    assert ind["H2"].protection.locked
    assert not any(ind[f"{col}2"].protection.locked for col in "KLMNO")
    assert ind["J2"].protection.locked
    validated = {str(v.sqref): v.type for v in ind.data_validations.dataValidation}
    assert validated[" ".join(f"K{n}" for n in range(2, 8))] == "decimal"
    assert validated[" ".join(f"O{n}" for n in range(2, 8))] == "textLength"
    completeness = next(v for v in prod.data_validations.dataValidation if v.type == "list")
    assert completeness.formula1 == '"Não entregue,Entregue em parte,Entregue"'
    # English on request.
    en = load_workbook(io.BytesIO((await download(svc, **{"accept-language": "en"})).content))
    assert en.sheetnames == ["Instructions", "metas", "Indicators", "Products"]
    assert en["Indicators"]["K1"].value == "Value"


def fill_bad(wb: Any) -> None:
    ind, prod = wb["Indicadores"], wb["Produtos"]
    ind["K2"] = 98  # DS-I1: right, but above its meta of 97 (lower is better) without a justification
    ind["K3"] = "12,5"  # DS-I2: a text cell outside the grammar
    ind["L4"], ind["M4"] = 5, 0  # DS-I3: ratio over zero
    ind["K5"] = "=1+1"  # DS-I4: a formula
    ind["K6"] = 1 / 3  # DS-I5: a computed 0.3333333333333333, more than 6 decimals
    ind["O7"] = "só a nota"  # DS-I6: a note without a value
    for row, key in ((8, "DS-I1"), (9, "XX-9"), (10, "PROC-I1"), (12, "DS-P01")):
        ind[f"A{row}"], ind[f"B{row}"], ind[f"K{row}"] = key, "2014-02", 1
    ind["K11"] = 5  # no key at all
    prod["J2"] = "Entregue"  # DS-P01 delivered, without its date or evidence
    prod["J3"], prod["K3"], prod["L3"] = "Entregue em parte", date(2014, 2, 20), "SEI 123"  # right


EXPECTED_BAD = [
    ("Indicadores", "N2", "justification_required"),
    ("Indicadores", "K3", "number_grammar"),
    ("Indicadores", "M4", "zero_denominator"),
    ("Indicadores", "K5", "formula"),
    ("Indicadores", "K6", "number_grammar"),
    ("Indicadores", "K7", "value_missing"),
    ("Indicadores", "C8", "duplicate_row"),
    ("Indicadores", "C9", "unknown_item"),
    ("Indicadores", "C10", "not_your_unit"),
    ("Indicadores", "K11", "not_in_template"),
    ("Indicadores", "C12", "wrong_kind"),
    ("Produtos", "K2", "delivery_needs_date"),
    ("Produtos", "L2", "delivery_needs_evidence"),
]


def fill_good(wb: Any) -> None:
    ind, prod = wb["Indicadores"], wb["Produtos"]
    for row in range(8, 13):
        for col in "ABK":
            ind[f"{col}{row}"] = None
    ind["N2"] = "surto de internações"  # 98 > 97
    ind["K3"], ind["N3"] = 12.5, "base nova"  # a number cell: repr 12.5; 12.5 < 53000
    ind["M4"] = 8  # 5 / 8 = 0.625 ≤ 8: no justification
    ind["K5"] = 2  # 2 ≤ 25
    ind["K6"], ind["N6"] = "0.3", "obra"  # a text cell in the grammar; 0.3 < 50
    ind["K7"], ind["N7"] = 4, "greve"  # 4 < 100
    prod["K2"], prod["L2"] = date(2014, 2, 28), "Ofício 12/2014\nSEI 99"


async def test_dry_run_names_every_bad_cell_then_the_fixed_file_imports_all(svc: Service) -> None:
    wb = load_workbook(io.BytesIO((await download(svc, **PT_BR)).content))
    fill_bad(wb)
    bad = save(wb)

    dry = await post(svc, "dry-run", bad)
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert bad_cells(body) == EXPECTED_BAD
    assert (body["unit_code"], body["period"], body["filled_rows"], body["ok"]) == ("DS", "2014-02", 13, False)
    by_cell = {p["cell"]: p for p in body["problems"] if p["sheet"] == "Indicadores"}
    assert by_cell["K3"]["path"] == "Indicadores!K3"
    assert (by_cell["K3"]["row"], by_cell["K3"]["column"], by_cell["K3"]["item_code"]) == (3, "K", "DS-I2")
    assert by_cell["K3"]["message"].startswith("12,5 não é um número que este campo aceite")
    assert by_cell["K6"]["message"].startswith("0.3333333333333333 não é um número")
    assert by_cell["N2"]["message"] == "Este valor exige uma justificativa (quando o valor é > 97): diga por quê."
    assert by_cell["C8"]["message"] == "O item DS-I1 de 2014-02 já está na célula Indicadores!C2."
    assert by_cell["C10"]["message"] == "Você não pode registrar para a unidade PROC (item PROC-I1)."
    # Nothing written by a dry run.
    listed = await svc.http.get(REGS, params={"unit_code": "DS"}, headers=VIEWER)
    assert listed.json()["items"] == []

    # The import of the same file: 422 with the same list, nothing written (not even the right rows).
    refused = await post(svc, "import", bad)
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("/validation-error")
    assert bad_cells(refused.json(), "errors") == EXPECTED_BAD
    assert (await svc.http.get(REGS, params={"unit_code": "DS"}, headers=VIEWER)).json()["items"] == []

    fill_good(wb)
    good = save(wb)
    checked = (await post(svc, "dry-run", good)).json()
    assert (checked["problems"], checked["ok"], checked["filled_rows"]) == ([], True, 8)
    imported = await post(svc, "import", good, **{"idempotency-key": "tpl-1"})
    assert imported.status_code == 200, imported.text
    assert (imported.json()["created"], imported.json()["updated"]) == (8, 0)
    stored = {
        r["item_code"]: r["payload"]
        for r in (await svc.http.get(REGS, params={"unit_code": "DS"}, headers=VIEWER)).json()["items"]
    }
    assert {k: v.get("value") for k, v in stored.items() if k.startswith("DS-I")} == {
        "DS-I1": "98",
        "DS-I2": "12.5",
        "DS-I3": "0.625",
        "DS-I4": "2",
        "DS-I5": "0.3",
        "DS-I6": "4",
    }  # fmt: skip  (5 / 8 = 0.625)
    assert (stored["DS-I3"]["numerator"], stored["DS-I3"]["denominator"]) == ("5", "8")
    assert stored["DS-I6"]["note"] == "só a nota"
    justified = (await svc.http.get(f"{REGS}/DS-I1/2014-02", headers=VIEWER)).json()
    assert (justified["justification"], justified["justification_required"]) == ("surto de internações", True)
    assert stored["DS-P01"] == {
        "completeness": "full", "delivered_on": "2014-02-28", "evidence": ["Ofício 12/2014", "SEI 99"], "note": None,
    }  # fmt: skip
    assert stored["DS-P02-E1"]["completeness"] == "partial"

    # The same key and file again: the first answer replayed, nothing written twice.
    again = await post(svc, "import", good, **{"idempotency-key": "tpl-1"})
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == imported.json()
    history = (await svc.http.get(f"{REGS}/DS-I1/2014-02/versions", headers=VIEWER)).json()
    assert history["current_version"] == 1
    # The same key with another file is refused.
    reused = await post(svc, "import", bad, **{"idempotency-key": "tpl-1"})
    assert reused.status_code == 422
    assert reused.json()["type"].endswith("/idempotency-key-reused")
    audit = (await svc.http.get("/v1/audit?limit=50", headers=ADMIN)).json()["items"]
    assert [(e["action"], e["changes"]["created"]) for e in audit if e["action"] == "registration.import"] == [
        ("registration.import", 8)
    ]


async def test_a_registrar_of_another_unit_is_refused(svc: Service) -> None:
    assert (await download(svc, REG_PROC)).status_code == 403
    assert (await download(svc, VIEWER)).status_code == 403
    wb = load_workbook(io.BytesIO((await download(svc)).content))
    wb["Indicators"]["K2"] = 1
    data = save(wb)
    for action in ("dry-run", "import"):
        res = await post(svc, action, data, REG_PROC)
        assert res.status_code == 403, res.text
    assert (await svc.http.get(REGS, params={"unit_code": "DS"}, headers=VIEWER)).json()["items"] == []


async def test_certified_rows_stay_writable_and_locked_rows_are_named_and_their_cells_locked(svc: Service) -> None:
    wb = load_workbook(io.BytesIO((await download(svc)).content))
    wb["Indicators"]["K2"] = 7
    assert (await post(svc, "import", save(wb))).status_code == 200
    current = await svc.http.get(f"{REGS}/DS-I1/2014-02", headers=VIEWER)
    certified = await svc.http.post(
        f"{REGS}/DS-I1/2014-02:certify", headers={**CERTIFIER, "if-match": current.headers["etag"]}
    )
    assert certified.status_code == 200, certified.text
    fresh = load_workbook(io.BytesIO((await download(svc, **{"accept-language": "en"})).content))["Indicators"]
    assert fresh["H2"].value == "7"
    # A certified value may be changed in an open period: the row says the new value goes back for certification.
    assert fresh["I2"].value == "Certified — a new value sends it back for certification"
    assert not fresh["K2"].protection.locked
    assert not fresh["K3"].protection.locked
    wb = load_workbook(io.BytesIO((await download(svc)).content))
    wb["Indicators"]["K2"], wb["Indicators"]["K3"] = 8, 60000
    open_run = await post(svc, "dry-run", save(wb), **{"accept-language": "en"})
    assert (open_run.json()["ok"], bad_cells(open_run.json())) == (True, [])
    # Locked after evaluation: both rows are named, the certified one like any other.
    locked = await svc.http.put(f"/v1/plans/{IPSM}/locks/2014-02", json={"reason": "avaliado"}, headers=PLANNER)
    assert locked.status_code in (200, 201), locked.text
    fresh = load_workbook(io.BytesIO((await download(svc, **{"accept-language": "en"})).content))["Indicators"]
    assert fresh["I2"].value == "Certified — the period is locked"
    assert fresh["K2"].protection.locked
    res = await post(svc, "dry-run", save(wb), **{"accept-language": "en"})
    assert bad_cells(res.json()) == [
        ("Indicators", "C2", "period_closed_locked"),
        ("Indicators", "C3", "period_closed_locked"),
    ]
    assert res.json()["problems"][1]["message"] == "2014-02 is locked after evaluation: nothing can be registered."


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


async def test_hostile_or_foreign_files_are_refused_cleanly(svc: Service) -> None:
    template = (await download(svc)).content
    # Not an XLSX at all (a CSV), and a zip that is not a workbook: 415.
    assert (await post(svc, "dry-run", b"item,value\nDS-I1,7\n")).status_code == 415
    assert (await post(svc, "dry-run", _zip({"a.txt": b"x"}))).status_code == 415
    # Over 2 MiB: 413 before any parsing.
    assert (await post(svc, "dry-run", b"PK\x03\x04" + b"\0" * (2 * 1024 * 1024))).status_code == 413
    # A zip bomb: 60 MiB of zeros deflate to ~60 KiB; the declared sizes stop it before inflating.
    bomb = _zip({"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>", "xl/big.xml": b"\0" * (60 << 20)})
    assert len(bomb) < 200_000
    res = await post(svc, "dry-run", bomb)
    assert res.status_code == 413
    assert "inflates" in res.json()["detail"]
    # An XML entity expansion (billion laughs) in a sheet: openpyxl parses with defusedxml (a dependency), which
    # refuses any entity; the file is unreadable: 415.
    assert openpyxl.DEFUSEDXML
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="2">'
        b'<c r="J2" t="inlineStr"><is><t>&b;</t></is></c></row></sheetData></worksheet>'
    )
    with zipfile.ZipFile(io.BytesIO(template)) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    parts["xl/worksheets/sheet3.xml"] = laughs
    res = await post(svc, "dry-run", _zip(parts))
    assert res.status_code == 415, res.text
    # An ordinary workbook: not a template (422), and a template of another plan's id is refused too.
    assert (await post(svc, "dry-run", save(Workbook()))).json()["type"].endswith("/not-a-registration-template")
    wb = load_workbook(io.BytesIO(template))
    wb["metas"]["B2"] = "ii-2024-quar"
    other = await post(svc, "dry-run", save(wb))
    assert other.status_code == 422
    assert other.json()["errors"][0]["type"] == "other_plan"
    # Nothing filled in: the dry run says so, the import refuses.
    empty = await post(svc, "dry-run", template)
    assert (empty.json()["filled_rows"], empty.json()["ok"]) == (0, False)
    assert (await post(svc, "import", template)).json()["errors"][0]["type"] == "empty_template"


async def test_a_multipart_upload_is_read_as_the_file(svc: Service) -> None:
    wb = load_workbook(io.BytesIO((await download(svc)).content))
    wb["Indicators"]["K2"] = "1e3"  # exponents are outside the grammar
    res = await svc.http.post(
        f"{TEMPLATE}:dry-run", files={"file": ("t.xlsx", save(wb), XLSX)}, headers={**REG_DS, **PT_BR}
    )
    assert res.status_code == 200, res.text
    assert bad_cells(res.json()) == [("Indicators", "K2", "number_grammar")]


async def test_initiatives_have_their_own_sheet_with_a_percentage(svc: Service) -> None:
    """QUAR 2024, unit DAS, March 2024: its initiatives (DAS-01, DAS-02, …) on an Initiatives sheet whose columns
    are C code, D name, E period, F due date, G registered so far, H state, I cumulative execution (%), J note."""
    quar = f"/v1/plans/{QUAR}/registration-template"
    das = token("registrar", sub="rita", units=("DAS",))
    res = await svc.http.get(quar, params={"unit_code": "DAS", "period": "2024-03"}, headers=das)
    assert res.status_code == 200, res.text
    wb = load_workbook(io.BytesIO(res.content))
    sheet = wb["Initiatives"]
    assert [sheet.cell(row=1, column=c).value for c in (9, 10)] == ["Cumulative execution (%)", "Note"]
    rows = {r[0].value: r[0].row for r in sheet.iter_rows(min_row=2)}
    first, second = rows["DAS-01"], rows["DAS-02"]
    sheet[f"I{first}"] = 100  # the edge of a percentage: accepted
    sheet[f"I{second}"] = 100.5  # beyond it
    data = save(wb)
    checked = await svc.http.post(f"{quar}:dry-run", content=data, headers={**das, "content-type": XLSX})
    assert bad_cells(checked.json()) == [("Initiatives", f"I{second}", "out_of_range")]
    sheet[f"I{second}"] = 40.25
    done = await svc.http.post(f"{quar}:import", content=save(wb), headers={**das, "content-type": XLSX})
    assert done.status_code == 200, done.text
    assert (done.json()["created"], done.json()["updated"]) == (2, 0)
    stored = await svc.http.get(f"/v1/plans/{QUAR}/registrations/DAS-02/2024-03", headers=VIEWER)
    assert stored.json()["payload"]["cumulative_percent"] == "40.25"

"""The registration template as an XLSX file: written with openpyxl in the person's language, and read back
safely (size, parts and rows bounded before and while parsing; XML parsed by defusedxml through openpyxl).

Layout (format ``metas-registration-template/1``): a first sheet of instructions; one sheet per item kind the unit
owes that period (indicators, products, initiatives), header on row 1, one item per row from row 2; columns A and B
are hidden keys (item code, period) that map a row back exactly, whatever the visible text says; then the item's
facts (locked) and the input columns (unlocked, with data validation). A very hidden sheet ``metas`` names the plan,
unit, period, language and which sheet holds which kind. Sheets are protected (no password: it only guards against
slips) and so is the workbook's structure (no sheet added, renamed or removed)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from execution.domain.registration_template import COMPLETENESS, INPUTS, TEMPLATE_FORMAT, Cell, Field
from execution.domain.registrations import NOTE_MAX, ItemKind
from metas_kit.errors import AppError, PayloadTooLarge

Gettext = Callable[[str], str]

# Bounds of an upload: the file, its parts once decompressed (a zip bomb stops at the central directory's sizes,
# which zipfile enforces while reading), the number of parts and of rows read per sheet.
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_UNZIPPED_BYTES = 40 * 1024 * 1024
MAX_PARTS = 200
MAX_ROWS = 5000
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

KEY_ITEM, KEY_PERIOD = 1, 2  # hidden key columns
CODE_COLUMN = 3
META_SHEET = "metas"
# The visible facts of each kind's rows, after the keys.
INFO: Mapping[ItemKind, tuple[str, ...]] = {
    ItemKind.INDICATOR: ("code", "name", "measure_unit", "period", "due_date", "current", "state", "justify_when"),
    ItemKind.INITIATIVE: ("code", "name", "period", "due_date", "current", "state"),
    ItemKind.PRODUCT: ("code", "name", "delivery_due", "period", "due_date", "current", "state"),
}
SHEET_ORDER = (ItemKind.INDICATOR, ItemKind.PRODUCT, ItemKind.INITIATIVE)


class NotATemplate(AppError):
    status, type_slug, title = 422, "not-a-registration-template", "Not a registration template"


class NotAnXlsx(AppError):
    status, type_slug, title = 415, "unsupported-template-type", "Not an XLSX file"


def input_column(kind: ItemKind, field: Field) -> int:
    return CODE_COLUMN + len(INFO[kind]) + INPUTS[kind].index(field)


def field_of_column(kind: ItemKind, column: int) -> Field | None:
    first = CODE_COLUMN + len(INFO[kind])
    fields = INPUTS[kind]
    return fields[column - first] if first <= column < first + len(fields) else None


# ---- texts --------------------------------------------------------------------------------------------------------
def sheet_titles(_: Gettext) -> dict[ItemKind, str]:
    return {ItemKind.INDICATOR: _("Indicators"), ItemKind.PRODUCT: _("Products"), ItemKind.INITIATIVE: _("Initiatives")}


def completeness_labels(_: Gettext) -> dict[str, str]:
    return {"none": _("Not delivered"), "partial": _("Partly delivered"), "full": _("Delivered")}


def _headers(_: Gettext) -> dict[str, str]:
    return {
        "code": _("Code"),
        "name": _("Name"),
        "measure_unit": _("Unit of measure"),
        "delivery_due": _("Delivery due by"),
        "period": _("Period"),
        "due_date": _("Register by"),
        "current": _("Registered so far"),
        "state": _("State"),
        "justify_when": _("Needs a justification when the value is"),
        Field.VALUE: _("Value"),
        Field.NUMERATOR: _("Numerator"),
        Field.DENOMINATOR: _("Denominator"),
        Field.CUMULATIVE_PERCENT: _("Cumulative execution (%)"),
        Field.COMPLETENESS: _("Delivery"),
        Field.DELIVERED_ON: _("Delivered on"),
        Field.EVIDENCE: _("Evidence (one reference per line)"),
        Field.JUSTIFICATION: _("Justification"),
        Field.NOTE: _("Note"),
    }


# ---- writing ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TemplateRow:
    kind: ItemKind
    item_code: str
    name: str
    measure_unit: str
    delivery_due: str
    period: str
    due_date: date
    current: str
    state: str
    writable: bool
    justify_when: str = ""


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    plan_id: str
    plan_title: str
    unit_code: str
    unit_name: str
    period: str
    language: str
    rows: Sequence[TemplateRow]


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_INPUT_FILL = PatternFill("solid", fgColor="FFF6D5")
_CLOSED_FILL = PatternFill("solid", fgColor="EEEEEE")
_UNLOCKED = Protection(locked=False)
_WIDTHS = {
    "code": 12,
    "name": 48,
    "measure_unit": 14,
    "delivery_due": 14,
    "period": 10,
    "due_date": 14,
    "current": 22,
    "state": 30,
    "justify_when": 20,
}


def _protect(ws: Worksheet) -> None:
    ws.protection.sheet = True
    # People may still resize, filter and sort; what they may not do is type outside the input cells.
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.autoFilter = False


def _decimal(*, formula1: str, formula2: str, error: str, prompt: str | None = None) -> DataValidation:
    return DataValidation(
        type="decimal",
        operator="between",
        formula1=formula1,
        formula2=formula2,
        allow_blank=True,
        showErrorMessage=True,
        showInputMessage=prompt is not None,
        error=error,
        prompt=prompt,
    )


def _validations(kind: ItemKind, _: Gettext, labels: Mapping[str, str]) -> dict[Field, DataValidation]:
    number_hint = _("A plain number: up to 10 digits and 6 decimals.")
    out: dict[Field, DataValidation] = {
        key: DataValidation(
            type="textLength",
            operator="lessThanOrEqual",
            formula1=str(NOTE_MAX),
            allow_blank=True,
            showErrorMessage=True,
            error=_("At most %(max)s characters.") % {"max": NOTE_MAX},
        )
        for key in (Field.NOTE, Field.JUSTIFICATION)
        if key in INPUTS[kind]
    }
    if kind is ItemKind.INDICATOR:
        for key in (Field.VALUE, Field.NUMERATOR, Field.DENOMINATOR):
            out[key] = _decimal(
                formula1="-9999999999.999999",
                formula2="9999999999.999999",
                error=number_hint,
                prompt=_("Give a value, or a numerator and a denominator."),
            )
    elif kind is ItemKind.INITIATIVE:
        out[Field.CUMULATIVE_PERCENT] = _decimal(
            formula1="0", formula2="100", error=_("A percentage between 0 and 100.")
        )
    else:
        choices = ",".join(labels[c] for c in COMPLETENESS)
        out[Field.COMPLETENESS] = DataValidation(
            type="list",
            formula1=f'"{choices}"',
            allow_blank=True,
            showErrorMessage=True,
            error=_("Choose one of the list."),
        )
        # 1 = 1900-01-01 and 2958465 = 9999-12-31 as spreadsheet day numbers.
        out[Field.DELIVERED_ON] = DataValidation(
            type="date",
            operator="between",
            formula1="1",
            formula2="2958465",
            allow_blank=True,
            showErrorMessage=True,
            error=_("A date (YYYY-MM-DD)."),
        )
    return out


def write_workbook(spec: TemplateSpec, _: Gettext) -> bytes:
    wb = Workbook()
    guide = wb.active
    assert guide is not None
    guide.title = _("Instructions")
    labels = completeness_labels(_)
    titles = sheet_titles(_)
    headers = _headers(_)
    lines = [
        _("Registration template"),
        "",
        f"{_('Plan')}: {spec.plan_title} ({spec.plan_id})",
        f"{_('Unit')}: {spec.unit_code} — {spec.unit_name}",
        f"{_('Period')}: {spec.period}",
        "",
        _("Fill in the yellow cells of the rows you want to register; rows left empty are not sent."),
        _("Type numbers as numbers. A number typed as text must use a point for decimals (12.5), with no spaces."),
        _("Formulas are not read: type the values themselves."),
        _(
            "Upload the file back: a check lists every bad cell by sheet and cell; nothing is saved until every "
            "cell is right, and then all rows are saved together."
        ),
    ]
    for number, line in enumerate(lines, start=1):
        guide.cell(row=number, column=1, value=line)
    guide["A1"].font = Font(bold=True, size=14)
    guide.column_dimensions["A"].width = 110
    _protect(guide)

    meta = wb.create_sheet(META_SHEET)
    facts: list[tuple[str, str]] = [
        ("format", TEMPLATE_FORMAT),
        ("plan_id", spec.plan_id),
        ("unit_code", spec.unit_code),
        ("period", spec.period),
        ("language", spec.language),
    ]
    kinds = [k for k in SHEET_ORDER if any(r.kind is k for r in spec.rows)]
    facts += [(f"sheet:{k.value}", titles[k]) for k in kinds]
    for number, (key, value) in enumerate(facts, start=1):
        meta.cell(row=number, column=1, value=key)
        meta.cell(row=number, column=2, value=value)
    meta.sheet_state = "veryHidden"
    _protect(meta)

    for kind in kinds:
        _write_sheet(wb.create_sheet(titles[kind]), kind, [r for r in spec.rows if r.kind is kind], headers, labels, _)
    wb.security = WorkbookProtection(lockStructure=True)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _write_sheet(
    ws: Worksheet,
    kind: ItemKind,
    rows: Sequence[TemplateRow],
    headers: Mapping[str, str],
    labels: Mapping[str, str],
    _: Gettext,
) -> None:
    info, inputs = INFO[kind], INPUTS[kind]
    ws.cell(row=1, column=KEY_ITEM, value="item_code")
    ws.cell(row=1, column=KEY_PERIOD, value="period")
    for offset, key in enumerate((*info, *inputs)):
        head = ws.cell(row=1, column=CODE_COLUMN + offset, value=headers[key])
        head.font, head.fill = _HEADER_FONT, _HEADER_FILL
        head.alignment = Alignment(wrap_text=True, vertical="top")
    for column in (KEY_ITEM, KEY_PERIOD):
        ws.column_dimensions[get_column_letter(column)].hidden = True
    for offset, key in enumerate(info):
        ws.column_dimensions[get_column_letter(CODE_COLUMN + offset)].width = _WIDTHS[key]
    for key in inputs:
        width = 40 if key in (Field.NOTE, Field.EVIDENCE, Field.JUSTIFICATION) else 18
        ws.column_dimensions[get_column_letter(input_column(kind, key))].width = width
    validations = _validations(kind, _, labels)
    for validation in validations.values():
        ws.add_data_validation(validation)
    for number, row in enumerate(rows, start=2):
        ws.cell(row=number, column=KEY_ITEM, value=row.item_code)
        ws.cell(row=number, column=KEY_PERIOD, value=row.period)
        values: dict[str, Any] = {
            "code": row.item_code,
            "name": row.name,
            "measure_unit": row.measure_unit,
            "delivery_due": row.delivery_due,
            "period": row.period,
            "due_date": row.due_date,
            "current": row.current,
            "state": row.state,
            "justify_when": row.justify_when,
        }
        for offset, key in enumerate(info):
            fact = ws.cell(row=number, column=CODE_COLUMN + offset, value=values[key])
            if key == "due_date":
                fact.number_format = "yyyy-mm-dd"
            if key == "name":
                fact.alignment = Alignment(wrap_text=True, vertical="top")
        for key in inputs:
            cell = ws.cell(row=number, column=input_column(kind, key))
            assert isinstance(cell, XlCell)  # a fresh sheet has no merged cells
            if key is Field.DELIVERED_ON:
                cell.number_format = "yyyy-mm-dd"
            if key in (Field.NOTE, Field.EVIDENCE, Field.JUSTIFICATION):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if row.writable:
                cell.protection, cell.fill = _UNLOCKED, _INPUT_FILL
                if key in validations:
                    validations[key].add(cell)
            else:
                cell.fill = _CLOSED_FILL
    ws.freeze_panes = f"{get_column_letter(CODE_COLUMN + 2)}2"
    _protect(ws)


# ---- reading ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UploadRow:
    sheet: str
    kind: ItemKind
    row: int
    key_item: str | None
    key_period: str | None
    cells: dict[Field, Cell]


@dataclass(frozen=True, slots=True)
class Upload:
    plan_id: str
    unit_code: str
    period: str
    language: str
    sheets: tuple[str, ...]
    rows: list[UploadRow]


def _check_zip(data: bytes) -> None:
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(
            f"A registration template is at most {MAX_UPLOAD_BYTES} bytes; this file has {len(data)}."
        )
    if not data.startswith(b"PK\x03\x04"):
        raise NotAnXlsx("The file is not an XLSX workbook: upload the template as downloaded (.xlsx).")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise NotAnXlsx("The file is not a readable XLSX workbook (a broken zip archive).") from exc
    names = {p.filename for p in parts}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise NotAnXlsx("The file is a zip archive but not an XLSX workbook.")
    if len(parts) > MAX_PARTS:
        raise PayloadTooLarge(f"The workbook has {len(parts)} parts; a registration template has far fewer.")
    # The sizes the central directory declares bound what zipfile will inflate (it stops there and checks the CRC).
    unzipped = sum(p.file_size for p in parts)
    if unzipped > MAX_UNZIPPED_BYTES:
        raise PayloadTooLarge(
            f"The workbook inflates to {unzipped} bytes, more than the {MAX_UNZIPPED_BYTES} a template may."
        )


def _cell(cell: Any) -> Cell:
    if getattr(cell, "data_type", None) == "f":
        return Cell(getattr(cell, "value", None), formula=True)
    return Cell(getattr(cell, "value", None))


def read_workbook(data: bytes) -> Upload:
    """The filled rows of an uploaded template (every row with a key or a filled input cell)."""
    _check_zip(data)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (AppError, MemoryError):
        raise
    except Exception as exc:  # openpyxl raises many types for a broken or hostile workbook (incl. defusedxml's)
        raise NotAnXlsx(f"The XLSX file cannot be read ({type(exc).__name__}).") from exc
    try:
        return _read(wb)
    finally:
        wb.close()


def _read(wb: Any) -> Upload:
    if META_SHEET not in wb.sheetnames:
        raise NotATemplate("This workbook is not a registration template of metas: download the template again.")
    meta: dict[str, str] = {}
    for number, row in enumerate(wb[META_SHEET].iter_rows(max_col=2, values_only=True)):
        if number > 50:
            break
        key, value = (*row, None, None)[:2]
        if isinstance(key, str) and value is not None:
            meta[key] = str(value)
    if meta.get("format") != TEMPLATE_FORMAT:
        raise NotATemplate("This workbook is not a registration template of this version: download it again.")
    for key in ("plan_id", "unit_code", "period"):
        if not meta.get(key):
            raise NotATemplate(f"The template's hidden facts are damaged ({key}): download it again.")
    kinds = {
        title: ItemKind(key.removeprefix("sheet:"))
        for key, title in meta.items()
        if key.startswith("sheet:") and key.removeprefix("sheet:") in set(ItemKind)
    }
    rows: list[UploadRow] = []
    sheets: list[str] = []
    for title in wb.sheetnames:
        kind = kinds.get(title)
        if kind is None:
            continue
        sheets.append(title)
        ws = wb[title]
        width = CODE_COLUMN + len(INFO[kind]) + len(INPUTS[kind]) - 1
        for number, cells in enumerate(ws.iter_rows(min_row=2, max_col=width), start=2):
            if number > MAX_ROWS + 1:
                raise PayloadTooLarge(f"Sheet {title!r} has more than {MAX_ROWS} rows; a template has far fewer.")
            by_column = {c.column: c for c in cells if isinstance(getattr(c, "column", None), int)}
            inputs = {f: _cell(by_column.get(input_column(kind, f))) for f in INPUTS[kind]}
            key_item = _key(by_column.get(KEY_ITEM))
            key_period = _key(by_column.get(KEY_PERIOD))
            if key_item is None and key_period is None and all(c.empty for c in inputs.values()):
                continue
            rows.append(UploadRow(title, kind, number, key_item, key_period, inputs))
    return Upload(meta["plan_id"], meta["unit_code"], meta["period"], meta.get("language", "en"), tuple(sheets), rows)


def _key(cell: XlCell | None) -> str | None:
    value = getattr(cell, "value", None)
    if value is None:
        return None
    text = str(value).strip()
    return text or None

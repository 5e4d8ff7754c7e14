"""The PRR budget execution document as CSV, XLSX (openpyxl) and PDF (reportlab, pure Python).

Deterministic: the PDF is written in reportlab's invariant mode and the workbook carries the published budget's load
time, so the same amounts give the same bytes.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from xml.sax.saxutils import escape
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.writer.excel import ExcelWriter
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, PropertySet, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from budget.domain.document import NONE, ExecutionDocument, Table
from metas_kit.cells import safe_cell, stamped_zip

# The PDF's standard fonts (WinAnsi) lack a few signs the texts use.
PDF_CHARS = str.maketrans({"−": "-", "×": "x"})
MONEY_FORMAT = "#,##0.00"


def to_csv(document: ExecutionDocument) -> bytes:
    """One table: a `section` column, then the keys of every section (blank where a section has none)."""
    keys = ("Eixo", "Year", "Sub-investment", "Rubric", "Name")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(("Section", *keys, *document.tables[0].columns[document.tables[0].keys :]))
    for table in document.tables:
        named = table.columns[: table.keys]
        for row in (*table.rows, table.total):
            by_name = dict(zip(named, row[: table.keys], strict=True))
            cells = [table.title, *(by_name.get(k, "") for k in keys), *row[table.keys :]]
            writer.writerow([safe_cell(c) for c in cells])
    return buf.getvalue().encode("utf-8")


def to_xlsx(document: ExecutionDocument, created: datetime) -> bytes:
    """A summary sheet (title and notes), then one sheet per table; figures are numbers (EUR with 2 places)."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    summary.append([document.title])
    summary["A1"].font = Font(bold=True, size=14)
    for line in document.lines:
        summary.append([safe_cell(line)])
    for table in document.tables:
        sheet = book.create_sheet(table.title)
        sheet.append(list(table.columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in (*table.rows, table.total):
            sheet.append([safe_cell(c) for c in row[: table.keys]] + [_figure(c) for c in row[table.keys :]])
        for row_cells in sheet.iter_rows(min_row=2, min_col=table.keys + 1):
            for cell in row_cells:
                cell.number_format = MONEY_FORMAT
        last = sheet.max_row
        for cell in sheet[last]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for index, column in enumerate(table.columns, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = 48 if column == "Name" else 16
            if index > table.keys:
                for c in sheet[letter]:
                    c.alignment = Alignment(horizontal="right")
    book.properties.creator = "metas"
    book.properties.created = book.properties.modified = created.replace(tzinfo=None)
    out = io.BytesIO()
    # Not book.save: it sets `modified` to the clock, so two downloads a second apart differed in docProps/core.xml.
    with ZipFile(out, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(book, archive).save()
    return stamped_zip(out.getvalue(), created)


def _figure(text: str) -> object:
    # Money has 2 places and at most 14 digits: a float keeps it exactly as shown (repr round-trips).
    return None if text == NONE else float(Decimal(text))


def to_pdf(document: ExecutionDocument) -> bytes:
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["BodyText"], fontSize=7, leading=8.5)
    figure = ParagraphStyle("figure", parent=small, alignment=TA_RIGHT)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=document.title,
        author="metas",
        invariant=1,
    )
    story: list[Flowable] = [_para(document.title, styles["Title"])]
    story += [_para(line, styles["BodyText"]) for line in document.lines]
    for table in document.tables:
        story += [
            Spacer(1, 4 * mm),
            _para(table.title, styles["Heading2"]),
            _pdf_table(table, small, figure, doc.width),
        ]
    doc.build(story)
    return out.getvalue()


def _para(text: str, style: PropertySet) -> Paragraph:
    return Paragraph(escape(text.translate(PDF_CHARS)), style)


def _pdf_table(table: Table, text: ParagraphStyle, figure: ParagraphStyle, width: float) -> PdfTable:
    def cells(row: tuple[str, ...]) -> list[Paragraph]:
        return [_para(c, text if i < table.keys else figure) for i, c in enumerate(row)]

    data = [cells(table.columns), *(cells(r) for r in table.rows), cells(table.total)]
    narrow = width / (len(table.columns) + 4)
    widths = [narrow] * len(table.columns)
    if "Name" in table.columns:  # the name takes the room the figures leave
        widths[table.columns.index("Name")] = width - narrow * (len(table.columns) - 1)
    result = PdfTable(data, colWidths=widths, repeatRows=1)
    result.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("BACKGROUND", (0, -1), (-1, -1), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return result

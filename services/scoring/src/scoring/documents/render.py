"""CSV, XLSX (openpyxl) and PDF (reportlab, pure Python) of one report.

Deterministic: the PDF is written in reportlab's invariant mode and the workbook's dates are the evaluation's, so a
second download of the same evaluation is the same document.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from decimal import Decimal
from xml.sax.saxutils import escape

from openpyxl import Workbook
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, PropertySet, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from metas_kit.cells import stamped_zip
from scoring.domain.report import Report, Table

NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# The PDF's standard fonts (WinAnsi) lack a few signs the texts use.
PDF_CHARS = str.maketrans({"−": "-", "≥": ">=", "≤": "<=", "→": "->", "Σ": "sum ", "∑": "sum "})


def _safe_cell(text: str) -> str:
    if text.startswith(FORMULA_START) and not NUMBER.fullmatch(text):
        return "'" + text
    return text


def to_csv(report: Report) -> bytes:
    table = report.flat
    assert table is not None
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_safe_cell(cell) for cell in row])
    return buf.getvalue().encode("utf-8")


def _sheet_title(title: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", " ", title)[:28].strip() or "Sheet"
    name, n = base, 2
    while name in used:
        name, n = f"{base} {n}", n + 1
    used.add(name)
    return name


def to_xlsx(report: Report, created: datetime) -> bytes:
    """A summary sheet (title, header lines, each section's lines), then one sheet per table; figures are numbers."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    summary.append([report.title])
    for line in report.lines:
        summary.append([line])
    used = {"Summary"}
    for section in report.sections:
        summary.append([])
        summary.append([section.heading])
        for line in section.lines:
            summary.append([line])
        for table in section.tables:
            sheet = book.create_sheet(_sheet_title(table.title, used))
            sheet.append(list(table.columns))
            for row in table.rows:
                sheet.append([_xlsx_value(cell) for cell in row])
    book.properties.creator = "metas"
    book.properties.created = book.properties.modified = created.replace(tzinfo=None)
    out = io.BytesIO()
    book.save(out)
    return stamped_zip(out.getvalue(), created)


def _xlsx_value(cell: str) -> object:
    if NUMBER.fullmatch(cell):
        return float(Decimal(cell))
    return _safe_cell(cell)


def to_pdf(report: Report) -> bytes:
    styles = getSampleStyleSheet()
    small = ParagraphStyle("small", parent=styles["BodyText"], fontSize=7, leading=8.5)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=report.title,
        author="metas",
        invariant=1,
    )

    story: list[Flowable] = [para(report.title, styles["Title"])]
    story += [para(line, styles["BodyText"]) for line in report.lines]
    for section in report.sections:
        story += [Spacer(1, 4 * mm), para(section.heading, styles["Heading2"])]
        story += [para(line, styles["BodyText"]) for line in section.lines]
        for table in section.tables:
            story.append(_pdf_table(table, small, doc.width))
            story.append(Spacer(1, 3 * mm))
    doc.build(story)
    return out.getvalue()


def para(text: str, style: PropertySet) -> Paragraph:
    return Paragraph(escape(text.translate(PDF_CHARS)), style)


def _pdf_table(table: Table, style: ParagraphStyle, width: float) -> PdfTable:
    data = [[para(c, style) for c in table.columns]]
    data += [[para(c, style) for c in row] for row in table.rows]
    # The name column takes the room left by the figures.
    widths = [width / (len(table.columns) + 3)] * len(table.columns)
    if "Name" in table.columns:
        widths[table.columns.index("Name")] = width - sum(widths) + widths[0]
    result = PdfTable(data, colWidths=widths, repeatRows=1)
    result.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return result

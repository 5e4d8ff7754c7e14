"""Official XLSX documents are byte-identical on a second download: their zip entries carry the document's own
instant, not the clock at the moment of writing (which made two downloads a second apart differ)."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

from metas_kit.cells import stamped_zip


def _dates(data: bytes) -> set[tuple[int, ...]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {entry.date_time for entry in archive.infolist()}


def test_every_entry_is_dated_with_the_given_instant_and_the_content_is_kept() -> None:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as archive:
        archive.writestr("a.xml", "<a/>")
        archive.writestr("b/c.xml", "<c>é</c>")
    stamped = stamped_zip(raw.getvalue(), datetime(2024, 3, 31, 23, 59, 58, tzinfo=UTC))
    assert _dates(stamped) == {(2024, 3, 31, 23, 59, 58)}
    with zipfile.ZipFile(io.BytesIO(stamped)) as archive:
        assert archive.namelist() == ["a.xml", "b/c.xml"]  # order kept: [Content_Types].xml stays first in an XLSX
        assert archive.read("b/c.xml").decode() == "<c>é</c>"
    # the same input and instant give the same bytes; zip dates cannot go before 1980
    assert stamped == stamped_zip(raw.getvalue(), datetime(2024, 3, 31, 23, 59, 58, tzinfo=UTC))
    assert _dates(stamped_zip(raw.getvalue(), datetime(1970, 1, 1))) == {(1980, 1, 1, 0, 0, 0)}


def test_the_budget_and_evaluation_workbooks_carry_their_documents_instant() -> None:
    from budget.documents.render import to_xlsx as budget_xlsx
    from budget.domain.document import ExecutionDocument
    from scoring.documents.render import to_xlsx as report_xlsx
    from scoring.domain.report import Report

    created = datetime(2015, 2, 2, 10, 30, 4)
    budget = budget_xlsx(ExecutionDocument("PRR budget execution", ("line",), ()), created)
    assert _dates(budget) == {(2015, 2, 2, 10, 30, 4)}
    report = report_xlsx(Report("Evaluation", ("line",), ()), created)
    assert _dates(report) == {(2015, 2, 2, 10, 30, 4)}

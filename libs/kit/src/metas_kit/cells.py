"""Text cells that a spreadsheet would run as a formula (CSV/formula injection, OWASP): prefixed with `'`.

Pure (standard library only): a signed decimal such as ``-1.00`` is a figure, not a formula, and is kept as it is.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?")


def safe_cell(text: str) -> str:
    """``text`` as a spreadsheet shows it, never evaluated: a leading formula sign is escaped with ``'``."""
    if text.startswith(FORMULA_START) and not NUMBER.fullmatch(text):
        return "'" + text
    return text


def stamped_zip(data: bytes, when: datetime) -> bytes:
    """The same zip archive (an XLSX) with every entry dated ``when``.

    zipfile dates each entry with the clock at the moment it is written, so two downloads of the same document a
    second apart differ in bytes; dating the entries with the document's own instant makes them identical.
    """
    stamp = max(when.replace(tzinfo=None), datetime(1980, 1, 1)).timetuple()[:6]  # zip dates start in 1980
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            dated = zipfile.ZipInfo(entry.filename, date_time=stamp)
            dated.compress_type = zipfile.ZIP_DEFLATED
            dated.external_attr = entry.external_attr
            target.writestr(dated, source.read(entry))
    return out.getvalue()

"""Text cells that a spreadsheet would run as a formula (CSV/formula injection, OWASP): prefixed with `'`.

Pure (standard library only): a signed decimal such as ``-1.00`` is a figure, not a formula, and is kept as it is.
"""

from __future__ import annotations

import re

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,6})?")


def safe_cell(text: str) -> str:
    """``text`` as a spreadsheet shows it, never evaluated: a leading formula sign is escaped with ``'``."""
    if text.startswith(FORMULA_START) and not NUMBER.fullmatch(text):
        return "'" + text
    return text

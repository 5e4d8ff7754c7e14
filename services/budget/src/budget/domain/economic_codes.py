"""Economic classification codes (rubricas económicas) and the versioned code table.

A code is ``D`` (expense) followed by 1 to 5 two-digit levels: agrupamento, subagrupamento,
rubrica, alínea, subalínea — ``D.02.02.05.01``. It rolls up to every proper prefix that is a level:
``D.02.02.05``, ``D.02.02``, ``D.02`` (``D`` alone is the type, not a level).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

CODE_RE = re.compile(r"^D(\.\d{2}){1,5}$")
LEVEL_NAMES = ("agrupamento", "subagrupamento", "rubrica", "alinea", "subalinea")


class CodeError(ValueError):
    """Malformed code, or a code the table does not know."""


def parse_code(text: str) -> tuple[str, ...]:
    """Validate the syntax and return the two-digit levels: ``D.02.02`` -> ("02", "02")."""
    code = text.strip()
    if not CODE_RE.match(code):
        raise CodeError(
            f"malformed economic code {text!r}: expected D followed by 1-5 two-digit levels, e.g. D.02.02.05.01"
        )
    return tuple(code.split(".")[1:])


def level(code: str) -> int:
    """1 = agrupamento ... 5 = subalínea."""
    return len(parse_code(code))


def ancestors(code: str) -> list[str]:
    """Proper prefixes from the nearest parent up to the agrupamento."""
    parts = parse_code(code)
    return ["D." + ".".join(parts[:n]) for n in range(len(parts) - 1, 0, -1)]


def lineage(code: str) -> list[str]:
    """The code itself, then its ancestors (what an amount on ``code`` rolls up to)."""
    return [code.strip(), *ancestors(code)]


def agrupamento(code: str) -> str:
    return "D." + parse_code(code)[0]


@dataclass(frozen=True, slots=True)
class CodeTable:
    version: str
    valid_from: date
    codes: Mapping[str, str]
    source: str = ""
    current: frozenset[str] = field(default_factory=frozenset)
    capital: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for code in self.codes:
            parse_code(code)
            missing = [a for a in ancestors(code) if a not in self.codes]
            if missing:
                raise CodeError(f"code table {self.version}: {code} has no parent {missing[0]}")

    def validate(self, code: str) -> str:
        """Return the normalised code, or raise CodeError if malformed or unknown in this version."""
        parse_code(code)
        normalised = code.strip()
        if normalised not in self.codes:
            raise CodeError(f"unknown economic code {normalised!r} in code table version {self.version}")
        return normalised

    def name(self, code: str) -> str:
        return self.codes[self.validate(code)]

    def spending_type(self, code: str) -> str | None:
        """``current`` or ``capital`` from the agrupamento, None if the table does not say."""
        group = agrupamento(code)
        if group in self.current:
            return "current"
        if group in self.capital:
            return "capital"
        return None


def roll_up(amounts: Iterable[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """Sum every amount into its code and each ancestor. Sorted by code."""
    totals: dict[str, Decimal] = {}
    for code, amount in amounts:
        for target in lineage(code):
            totals[target] = totals.get(target, Decimal(0)) + amount
    return dict(sorted(totals.items()))


def load_code_tables(document: Mapping[str, Any]) -> list[CodeTable]:
    """Parse ``data/budget/economic_codes.yaml`` into tables, oldest first."""
    spending = document.get("spending_type") or {}
    current = frozenset(spending.get("current") or ())
    capital = frozenset(spending.get("capital") or ())
    tables = [
        CodeTable(
            version=str(v["version"]),
            valid_from=date.fromisoformat(str(v["valid_from"])),
            codes={str(k): str(n) for k, n in v["codes"].items()},
            source=str(v.get("source", "")),
            current=current,
            capital=capital,
        )
        for v in document["versions"]
    ]
    return sorted(tables, key=lambda t: t.valid_from)


def table_in_force(tables: Iterable[CodeTable], on: date) -> CodeTable:
    eligible = [t for t in tables if t.valid_from <= on]
    if not eligible:
        raise CodeError(f"no economic code table in force on {on.isoformat()}")
    return max(eligible, key=lambda t: t.valid_from)

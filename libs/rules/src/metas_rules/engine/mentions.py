"""QUAR labels as versioned reference data (the SIADAP regime was revised by DL 12/2024)."""

from __future__ import annotations

from typing import Final

DEFAULT_LABELS_VERSION: Final = "lei-66-b-2007"

LABELS: Final[dict[str, dict[str, str]]] = {
    "lei-66-b-2007": {
        "exceeded": "Superou",
        "achieved": "Atingiu",
        "not_achieved": "Não atingiu",
        "good": "Desempenho bom",
        "satisfactory": "Desempenho satisfatório",
        "insufficient": "Desempenho insuficiente",
    },
}


def label(key: str, version: str = DEFAULT_LABELS_VERSION) -> str:
    return LABELS[version][key]

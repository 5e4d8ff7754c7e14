"""Fixtures shared by the budget tests: the project's copy of the PRR seed and the code table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from budget.domain.economic_codes import CodeTable, load_code_tables
from budget.domain.published import PublishedBudget, parse_published

DATA = Path(__file__).resolve().parents[2] / "data" / "budget"


@pytest.fixture(scope="session")
def seed_doc() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((DATA / "prr_c17_i03.yaml").read_text(encoding="utf-8"))
    return doc


@pytest.fixture(scope="session")
def published(seed_doc: dict[str, Any]) -> PublishedBudget:
    return parse_published(seed_doc)


@pytest.fixture(scope="session")
def codes() -> CodeTable:
    tables = load_code_tables(yaml.safe_load((DATA / "economic_codes.yaml").read_text(encoding="utf-8")))
    return tables[-1]

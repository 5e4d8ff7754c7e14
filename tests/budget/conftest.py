"""Fixtures shared by the budget tests: the project's copy of the PRR seed and the code table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import yaml
from budget_helpers import DATA, Api, fresh_database, seed_database, start_api

from budget.domain.economic_codes import CodeTable, load_code_tables
from budget.domain.published import PublishedBudget, parse_published


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


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
async def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    """A seeded database per backend and module, served by a fresh app."""
    tag = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    url = await fresh_database(request.param, tag, tmp_path_factory.mktemp("budget"))
    await seed_database(url)
    async for a in start_api(url):
        yield a

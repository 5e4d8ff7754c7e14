"""Fixtures of the planning tests: the project's copy of the two seed plan documents."""

from __future__ import annotations

from typing import Any

import pytest
from planning_seeds import load_plan


@pytest.fixture
def quar() -> dict[str, Any]:
    return load_plan("ii-2024-quar")


@pytest.fixture
def acordo() -> dict[str, Any]:
    return load_plan("ipsm-2014-acordo")

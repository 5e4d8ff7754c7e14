"""The project's copy of the two seed plan documents, for the planning tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

PLANS = Path(__file__).resolve().parents[2] / "data" / "plans"
_CACHE: dict[str, dict[str, Any]] = {}


def load_plan(name: str) -> dict[str, Any]:
    """A fresh deep copy of a seed plan document (tests mutate it)."""
    if name not in _CACHE:
        _CACHE[name] = yaml.safe_load((PLANS / f"{name}.yaml").read_text(encoding="utf-8"))
    return copy.deepcopy(_CACHE[name])

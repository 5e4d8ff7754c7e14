"""A readable difference between two plan documents (pure): per collection, the items added, removed and changed,
and for a changed item each field that changed with its value before and after (nested fields by dotted path:
`scoring_rule.tolerance`, `reference_values.2023`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# In the order a planner reads a plan; each item is known by its code.
COLLECTIONS = (
    "units",
    "strategic_objectives",
    "parameters",
    "operational_objectives",
    "indicators",
    "products",
    "initiatives",
)
# Fields worth reading first in a changed item (weights and metas); the rest follow in dotted-path order.
FIRST = ("name", "weight", "meta", "tolerance", "critical_value", "polarity", "due_date")
MISSING = object()


@dataclass(frozen=True)
class Change:
    path: str
    before: Any
    after: Any


@dataclass
class ItemDiff:
    code: str
    name: str
    changes: list[Change] = field(default_factory=list)


@dataclass
class CollectionDiff:
    name: str
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[ItemDiff] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass
class PlanDiff:
    plan: list[Change]
    collections: list[CollectionDiff]

    @property
    def empty(self) -> bool:
        return not self.plan and all(c.empty for c in self.collections)


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaves by dotted path; a list of scalars stays one leaf, a list of objects is indexed (`stages[0].name`)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, child in value.items():
            out.update(_flatten(child, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        out = {}
        for i, child in enumerate(value):
            out.update(_flatten(child, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def _order(path: str) -> tuple[int, str]:
    head = path.split(".")[0].split("[")[0]
    return (FIRST.index(head) if head in FIRST else len(FIRST), path)


def field_changes(before: Any, after: Any) -> list[Change]:
    old, new = _flatten(before), _flatten(after)
    paths = sorted(set(old) | set(new), key=_order)
    return [Change(p, old.get(p), new.get(p)) for p in paths if old.get(p, MISSING) != new.get(p, MISSING)]


def diff_documents(before: dict[str, Any], after: dict[str, Any]) -> PlanDiff:
    """What changed from `before` to `after` (two versions of one plan)."""
    plan = field_changes(before.get("plan") or {}, after.get("plan") or {})
    out = []
    for name in COLLECTIONS:
        old = {str(i.get("code")): i for i in before.get(name) or []}
        new = {str(i.get("code")): i for i in after.get(name) or []}
        diff = CollectionDiff(name)
        diff.added = [new[c] for c in new if c not in old]
        diff.removed = [old[c] for c in old if c not in new]
        for code in new:
            if code in old and old[code] != new[code]:
                label = str(new[code].get("name") or old[code].get("name") or "")
                diff.changed.append(ItemDiff(code, label, field_changes(old[code], new[code])))
        out.append(diff)
    return PlanDiff(plan, out)

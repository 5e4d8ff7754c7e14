"""The items of a plan document as rows others list and filter, and merge-patch edits of one item.

Pure functions over the JSON form of a document (``dump_document``): the database keeps these rows
as an index beside the stored document, rebuilt whenever a version's document changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# collection in the URL -> (item kind, list key(s) in the document)
COLLECTIONS: dict[str, tuple[str, ...]] = {
    "units": ("units",),
    "objectives": ("strategic_objectives", "operational_objectives"),
    "parameters": ("parameters",),
    "indicators": ("indicators",),
    "products": ("products",),
    "initiatives": ("initiatives",),
}
KIND_OF_KEY = {
    "units": "unit",
    "strategic_objectives": "strategic_objective",
    "operational_objectives": "operational_objective",
    "parameters": "parameter",
    "indicators": "indicator",
    "products": "product",
    "initiatives": "initiative",
}
# collection -> the document key a new item goes to (objectives: chosen by the item's "kind")
NEW_ITEM_KEY = {
    "units": "units",
    "parameters": "parameters",
    "indicators": "indicators",
    "products": "products",
    "initiatives": "initiatives",
}
OBJECTIVE_KEYS = {"strategic_objective": "strategic_objectives", "operational_objective": "operational_objectives"}


@dataclass(frozen=True)
class ItemRow:
    kind: str
    code: str
    position: int
    name: str | None
    unit_code: str | None
    objective_code: str | None
    indicator_code: str | None
    data: dict[str, Any]


def index_items(document: dict[str, Any]) -> list[ItemRow]:
    """One row per unit, objective, parameter, indicator, product and initiative, in document order."""
    rows: list[ItemRow] = []
    position = 0
    for key, kind in KIND_OF_KEY.items():
        for item in document.get(key) or []:
            objective = item.get("objective_code") or item.get("parameter_code")
            if objective is None and item.get("strategic_objective_codes"):
                objective = item["strategic_objective_codes"][0]
            rows.append(
                ItemRow(
                    kind=kind,
                    code=item["code"],
                    position=position,
                    name=item.get("name"),
                    unit_code=item.get("unit_code") or item.get("parent_code"),
                    objective_code=objective,
                    indicator_code=item.get("indicator_code"),
                    data=item,
                )
            )
            position += 1
    return rows


def kinds_of(collection: str) -> tuple[str, ...]:
    return tuple(KIND_OF_KEY[k] for k in COLLECTIONS[collection])


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def patch_item(
    document: dict[str, Any], collection: str, code: str, patch: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None:
    """(new document, item before, item after), or None when no item has that code.

    The caller re-validates the whole new document; the code itself cannot be patched here.
    """
    for key in COLLECTIONS[collection]:
        items = document.get(key) or []
        for i, item in enumerate(items):
            if item.get("code") == code:
                after = merge_patch(item, patch)
                after["code"] = code
                new_items = [*items[:i], after, *items[i + 1 :]]
                return {**document, key: new_items}, item, after
    return None


def add_item(document: dict[str, Any], collection: str, item: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(new document, list key): the item appended to its list. Objectives name their level in
    ``kind`` (``strategic_objective`` | ``operational_objective``), which is not stored."""
    item = dict(item)
    if collection == "objectives":
        key = OBJECTIVE_KEYS.get(str(item.pop("kind", "")), "")
        if not key:
            raise KeyError("kind")
    else:
        key = NEW_ITEM_KEY[collection]
    return {**document, key: [*(document.get(key) or []), item]}, key


def remove_item(document: dict[str, Any], collection: str, code: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(new document, removed item), or None when no item has that code."""
    for key in COLLECTIONS[collection]:
        items = document.get(key) or []
        for i, item in enumerate(items):
            if item.get("code") == code:
                return {**document, key: [*items[:i], *items[i + 1 :]]}, item
    return None


def summary(document: dict[str, Any]) -> dict[str, int]:
    """Counts per section, for import summaries."""
    counts = {key: len(document.get(key) or []) for key in KIND_OF_KEY}
    counts["product_stages"] = sum(len(p.get("stages") or []) for p in document.get("products") or [])
    counts["sub_activities"] = sum(len(i.get("sub_activities") or []) for i in document.get("initiatives") or [])
    return counts

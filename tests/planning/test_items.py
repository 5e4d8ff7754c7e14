"""Pure item helpers: the item index of a document, RFC 7396 merge patch, add/remove."""

from __future__ import annotations

from typing import Any

from planning.domain.items import add_item, index_items, merge_patch, patch_item, remove_item, summary


def test_merge_patch_follows_rfc_7396() -> None:
    # RFC 7396 appendix A examples
    assert merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "b"}, {"b": "c"}) == {"a": "b", "b": "c"}
    assert merge_patch({"a": "b"}, {"a": None}) == {}
    assert merge_patch({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}) == {"a": {"b": "d"}}
    assert merge_patch({"a": [{"b": "c"}]}, {"a": [1]}) == {"a": [1]}
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}
    assert merge_patch([1, 2], {"a": "b", "c": None}) == {"a": "b"}


def test_index_rows_of_the_acordo_seed(acordo: dict[str, Any]) -> None:
    rows = index_items(acordo)
    kinds = [r.kind for r in rows]
    # 5 teams + 17 objectives + 26 indicators + 12 products, in document order
    assert (kinds.count("unit"), kinds.count("strategic_objective")) == (5, 17)
    assert (kinds.count("indicator"), kinds.count("product")) == (26, 12)
    assert [r.position for r in rows] == list(range(len(rows)))
    ds = [r.code for r in rows if r.kind == "indicator" and r.unit_code == "DS"]
    assert ds == ["DS-I1", "DS-I2", "DS-I3", "DS-I4", "DS-I5", "DS-I6"]
    counts = summary(acordo)
    assert (counts["product_stages"], counts["sub_activities"]) == (3, 0)


def test_patch_add_remove_leave_the_input_untouched(acordo: dict[str, Any]) -> None:
    before = repr(acordo)
    patched = patch_item(acordo, "indicators", "DP-I1", {"formula": "x", "code": "ignored"})
    assert patched is not None
    doc, old, new = patched
    assert (new["code"], new["formula"]) == ("DP-I1", "x")
    assert old["formula"] != "x"
    assert patch_item(acordo, "indicators", "NOPE", {"formula": "x"}) is None
    doc2, key = add_item(acordo, "objectives", {"kind": "strategic_objective", "code": "SO99", "name": "n"})
    assert key == "strategic_objectives"
    assert doc2["strategic_objectives"][-1] == {"code": "SO99", "name": "n"}
    removed = remove_item(acordo, "products", "DP-P2")
    assert removed is not None
    assert [p["code"] for p in removed[0]["products"]].count("DP-P2") == 0
    assert repr(acordo) == before
    assert doc is not acordo

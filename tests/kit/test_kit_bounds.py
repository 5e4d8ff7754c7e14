"""Bounded texts and free-form JSON objects: over a bound is a pydantic error (→ 422 naming the field), never
an exception of another kind, whatever the shape."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from metas_kit.bounds import (
    JSON_MAX_BYTES,
    NOTE_MAX,
    Code,
    JsonObject,
    JsonTooLarge,
    Name,
    Note,
    bounded_json_object,
    check_json,
)


class Body(BaseModel):
    code: Code = "X"
    name: Name = "n"
    note: Note = ""
    payload: JsonObject = {}


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_texts_have_maximum_lengths_and_no_nul() -> None:
    assert Body(note="x" * NOTE_MAX).note == "x" * NOTE_MAX
    for field, value in [("note", "x" * (NOTE_MAX + 1)), ("name", "a\x00b"), ("code", "a b"), ("name", "")]:
        with pytest.raises(ValidationError) as info:
            Body.model_validate({field: value})
        assert info.value.errors()[0]["loc"] == (field,)


def test_json_objects_are_bounded_in_depth_members_and_size() -> None:
    assert Body(payload=_nested(8)).payload == _nested(8)
    too_deep = _nested(9)
    with pytest.raises(ValidationError, match="nested deeper than 8"):
        Body(payload=too_deep)
    with pytest.raises(ValidationError, match="more than 2000 members"):
        Body(payload={str(i): i for i in range(2001)})
    with pytest.raises(ValidationError, match=f"larger than {JSON_MAX_BYTES} bytes"):
        Body(payload={"note": "x" * JSON_MAX_BYTES})
    with pytest.raises(ValidationError, match="expected a JSON object"):
        Body.model_validate({"payload": ["not", "an", "object"]})


def test_nan_and_infinity_are_refused_not_stored_as_null() -> None:
    # json.loads reads NaN / Infinity; stored, they would come back as null.
    for bad in (float("inf"), float("-inf"), float("nan")):
        with pytest.raises(ValidationError, match="NaN and Infinity are not JSON numbers"):
            Body.model_validate({"payload": {"": bad}})
        with pytest.raises(JsonTooLarge):
            check_json({"a": [1, {"b": bad}]})
    assert Body(payload={"x": 1.5, "y": -2}).payload == {"x": 1.5, "y": -2}


def test_a_value_nested_thousands_deep_costs_no_recursion() -> None:
    value: Any = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(JsonTooLarge, match="deeper"):
        check_json(value)


def test_bounds_are_configurable_per_field() -> None:
    class Small(BaseModel):
        extras: bounded_json_object(max_depth=2, max_members=3, max_bytes=100)  # type: ignore[valid-type]

    assert Small(extras={"a": {"b": 1}}).extras == {"a": {"b": 1}}
    with pytest.raises(ValidationError):
        Small(extras={"a": {"b": {"c": 1}}})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=60,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_any_json_object_is_accepted_unchanged_or_refused_as_validation(value: dict[str, Any]) -> None:
    try:
        body = Body(payload=value)
    except ValidationError:
        return
    assert body.payload == value

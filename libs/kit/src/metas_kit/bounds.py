"""Bounded inputs: every text field has a maximum length, every free-form JSON object a maximum depth, member
count and encoded size. What exceeds them is a 422 naming the field (pydantic reports it), never stored.

Pure (standard library and pydantic only): domain code may import it.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints

# PostgreSQL cannot store NUL in text; SQLite would, and the two backends must agree.
_NO_NUL = r"^[^\x00]*$"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"

# Maximum lengths, in characters. Columns holding these are at least this long.
CODE_MAX = 64
NAME_MAX = 500
TITLE_MAX = 500
REASON_MAX = 2000
NOTE_MAX = 4000
DESCRIPTION_MAX = 10_000


def bounded_text(max_length: int, *, min_length: int = 0) -> Any:
    """A text field of at most ``max_length`` characters, without NUL."""
    return Annotated[str, StringConstraints(min_length=min_length, max_length=max_length, pattern=_NO_NUL)]


# Identifiers as planning accepts them (organisation, plan, unit, item codes).
Code = Annotated[str, StringConstraints(min_length=1, max_length=CODE_MAX, pattern=CODE_PATTERN)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX, pattern=_NO_NUL)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=TITLE_MAX, pattern=_NO_NUL)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=REASON_MAX, pattern=_NO_NUL)]
Note = Annotated[str, StringConstraints(max_length=NOTE_MAX, pattern=_NO_NUL)]
Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX, pattern=_NO_NUL)]

# Free-form JSON (a registration's payload, a plan document's extras): bounds that any real value is far below.
JSON_MAX_DEPTH = 8
JSON_MAX_MEMBERS = 2_000
JSON_MAX_BYTES = 64 * 1024


class JsonTooLarge(ValueError):
    pass


def check_json(
    value: Any,
    *,
    max_depth: int = JSON_MAX_DEPTH,
    max_members: int = JSON_MAX_MEMBERS,
    max_bytes: int = JSON_MAX_BYTES,
) -> Any:
    """``value`` if it is JSON within the bounds, else ``JsonTooLarge`` saying which bound.

    Walked iteratively, so a value nested thousands deep costs no recursion; every string counts towards the
    size (keys included), measured as encoded JSON."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    members = 0
    size = 0
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > max_depth:
                raise JsonTooLarge(f"nested deeper than {max_depth} levels")
            members += len(node)
            if members > max_members:
                raise JsonTooLarge(f"more than {max_members} members in all")
            if isinstance(node, dict):
                for key, child in node.items():
                    if not isinstance(key, str):
                        raise JsonTooLarge("object keys must be strings")
                    size += len(key.encode()) + 4
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in node)
                size += len(node)
        elif isinstance(node, str):
            size += len(node.encode()) + 2
        elif node is None or isinstance(node, bool):
            size += 5
        elif isinstance(node, float) and not math.isfinite(node):
            # Python's JSON parser reads NaN and Infinity, which JSON has no room for: stored, they would come
            # back as null (a value silently changed).
            raise JsonTooLarge("NaN and Infinity are not JSON numbers")
        elif isinstance(node, int | float):
            # JSON parsers already refuse integers beyond 4,300 digits; their text counts like a string's
            size += len(json.dumps(node))
        else:
            raise JsonTooLarge(f"{type(node).__name__} is not a JSON value")
        if size > max_bytes:
            raise JsonTooLarge(f"larger than {max_bytes} bytes")
    return value


def bounded_json_object(
    *, max_depth: int = JSON_MAX_DEPTH, max_members: int = JSON_MAX_MEMBERS, max_bytes: int = JSON_MAX_BYTES
) -> Any:
    """A free-form JSON object field within the given bounds."""

    def check(value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError("expected a JSON object")
        return check_json(value, max_depth=max_depth, max_members=max_members, max_bytes=max_bytes)

    return Annotated[
        dict[str, Any],
        BeforeValidator(check),
        Field(json_schema_extra={"maxProperties": max_members, "x-max-depth": max_depth, "x-max-bytes": max_bytes}),
    ]


JsonObject = bounded_json_object()

"""Strong ETags and the If-Match / If-None-Match checks (RFC 9110 §13.1) for optimistic concurrency and caching.

If-Match uses the *strong* comparison: a weak tag (``W/"…"``) never matches, and ``*`` matches only where the
route says so (``allow_any=True``) — certifying "whatever the current version is" defeats the point of the
precondition. If-None-Match uses the weak comparison (a cache revalidating may hold a weak tag).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import Request

from metas_kit.errors import AppError, PreconditionFailed, PreconditionRequired

# Longer precondition headers than this were not made from tags this service issued.
MAX_HEADER = 4096
_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')


class MalformedPrecondition(AppError):
    status, type_slug, title = 400, "malformed-precondition", "Malformed precondition header"


@dataclass(frozen=True)
class EntityTag:
    opaque: str  # with its quotes, as services write ETags: '"reg-12-v3"'
    weak: bool


def version_etag(entity: str, key: object, version: int) -> str:
    return f'"{entity}-{key}-v{version}"'


def parse_etags(header: str, name: str = "If-Match") -> list[EntityTag] | None:
    """The tags of an If-Match / If-None-Match value; ``None`` for ``*``; ``MalformedPrecondition`` (400)
    for anything that is not a list of entity tags."""
    value = header.strip()
    if value == "*":
        return None
    if len(value) > MAX_HEADER or not value:
        raise MalformedPrecondition(f"{name} must be '*' or a list of quoted entity tags.")
    tags: list[EntityTag] = []
    pos = 0
    while pos < len(value):
        match = _ENTITY_TAG.match(value, pos)
        if match is None or match.end() == pos:
            raise MalformedPrecondition(f"{name} must be '*' or a list of quoted entity tags (e.g. \"reg-1-v2\").")
        tags.append(EntityTag(f'"{match.group(2)}"', weak=match.group(1) is not None))
        pos = match.end()
    return tags


def if_match_passes(header: str, current: str, *, allow_any: bool = False) -> bool:
    """Strong comparison: ``current`` (a strong tag) is among the header's strong tags."""
    tags = parse_etags(header, "If-Match")
    if tags is None:
        if not allow_any:
            raise PreconditionFailed("This action needs the exact ETag you read in If-Match; '*' is not accepted here.")
        return True
    return any(not t.weak and t.opaque == current for t in tags)


def require_if_match(request: Request, current: str, *, allow_any: bool = False) -> None:
    """Refuse an update made without If-Match (428) or against a stale or weak tag (412)."""
    header = request.headers.get("if-match")
    if header is None:
        raise PreconditionRequired(
            "Send If-Match with the ETag you read, so concurrent edits cannot overwrite each other."
        )
    if not if_match_passes(header, current, allow_any=allow_any):
        raise PreconditionFailed(
            "The resource changed since you read it (or the tag is weak); read it again and reapply your change.",
            extra={"current_etag": current},
        )


def none_match(header: str, current: str | None) -> bool:
    """Whether If-None-Match ``header`` matches: ``*`` matches any existing representation, tags compare weakly."""
    tags = parse_etags(header, "If-None-Match")
    if current is None:
        return False
    if tags is None:
        return True
    bare = current.removeprefix("W/")
    return any(t.opaque == bare for t in tags)


def not_modified(request: Request, current: str) -> bool:
    """GET revalidation: If-None-Match names the current representation (→ 304)."""
    header = request.headers.get("if-none-match")
    return header is not None and none_match(header, current)

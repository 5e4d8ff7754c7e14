"""Strong ETags and If-Match / If-None-Match checks for optimistic concurrency and caching."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request

from metas_kit.errors import PreconditionFailed, PreconditionRequired


def etag_for(value: Any) -> str:
    """Strong ETag of a JSON-able value (canonical JSON, so key order does not matter)."""
    raw = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()
    return '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


def version_etag(entity: str, key: Any, version: int) -> str:
    return f'"{entity}-{key}-v{version}"'


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def require_if_match(request: Request, current: str) -> None:
    """Refuse an update made without If-Match (428) or against a stale representation (412)."""
    header = request.headers.get("if-match")
    if header is None:
        raise PreconditionRequired(
            "Send If-Match with the ETag you read, so concurrent edits cannot overwrite each other."
        )
    tags = _tags(header)
    if "*" not in tags and current not in tags:
        raise PreconditionFailed(
            "The resource changed since you read it; read it again and reapply your change.",
            extra={"current_etag": current},
        )


def not_modified(request: Request, current: str) -> bool:
    header = request.headers.get("if-none-match")
    return header is not None and (current in _tags(header) or "*" in _tags(header))

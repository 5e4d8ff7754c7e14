"""Per-request context (request id, principal) kept in contextvars so logs and outbound calls see it."""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("metas_request_id", default=None)
auth_header_var: ContextVar[str | None] = ContextVar("metas_auth_header", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()

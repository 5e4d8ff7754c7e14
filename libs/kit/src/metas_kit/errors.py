"""RFC 9457 problem+json for every error: domain errors, validation errors, 404/405 and crashes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from metas_kit.bounds import JsonTooLarge
from metas_kit.context import current_request_id
from metas_kit.numbers import InvalidNumber

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://metas.dev/problems/"
log = logging.getLogger("metas.errors")


class AppError(Exception):
    """Base of every error a service raises on purpose; rendered as problem+json."""

    status: int = 400
    type_slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra or {}
        self.headers = headers or {}

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.type_slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class NotFound(AppError):
    status, type_slug, title = 404, "not-found", "Not found"


class Unauthorized(AppError):
    status, type_slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(AppError):
    status, type_slug, title = 403, "forbidden", "Forbidden"


class Conflict(AppError):
    status, type_slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(AppError):
    status, type_slug, title = 412, "precondition-failed", "Precondition failed"


class PreconditionRequired(AppError):
    status, type_slug, title = 428, "precondition-required", "Precondition required"


class PayloadTooLarge(AppError):
    status, type_slug, title = 413, "payload-too-large", "Payload too large"


class TooManyRequests(AppError):
    status, type_slug, title = 429, "rate-limited", "Too many requests"


class UpstreamError(AppError):
    status, type_slug, title = 502, "upstream-error", "Bad gateway"


class UpstreamUnavailable(AppError):
    status, type_slug, title = 503, "upstream-unavailable", "Service unavailable"


class UpstreamTimeout(AppError):
    status, type_slug, title = 504, "upstream-timeout", "Gateway timeout"


class ValidationFailed(AppError):
    """Invalid input; ``errors`` lists every problem with its path, so a client can fix all at once."""

    status, type_slug, title = 422, "validation-error", "Validation failed"

    def __init__(
        self,
        errors: Sequence[dict[str, Any]],
        detail: str | None = None,
        *,
        warnings: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        extra: dict[str, Any] = {"errors": list(errors)}
        if warnings:
            extra["warnings"] = list(warnings)
        n = len(errors)
        super().__init__(detail or f"{n} validation error{'s' if n != 1 else ''}", extra=extra)


def problem_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    rid = current_request_id()
    if rid and "request_id" not in body:
        body["request_id"] = rid
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _loc_to_path(loc: Sequence[Any]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


async def _invalid_value(request: Request, exc: Exception) -> JSONResponse:
    # A value refused by the kit's pure parsers (number grammar, JSON bounds) outside a pydantic model, e.g. in a
    # free-form payload: the field it names, as any other validation error.
    assert isinstance(exc, InvalidNumber | JsonTooLarge)
    path = getattr(exc, "field", "") or ""
    message = getattr(exc, "reason", None) or str(exc)
    return problem_response(422, ValidationFailed([{"path": path, "message": message}]).to_problem(request.url.path))


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(exc.status, exc.to_problem(request.url.path), exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"path": _loc_to_path(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return problem_response(422, ValidationFailed(errors).to_problem(request.url.path))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    body = {
        "type": TYPE_BASE + slug,
        "title": str(exc.detail) if exc.status_code not in (404, 405) else slug.replace("-", " ").capitalize(),
        "status": exc.status_code,
        "detail": str(exc.detail),
        "instance": request.url.path,
    }
    return problem_response(exc.status_code, body, dict(exc.headers or {}))


def internal_error_problem(path: str, request_id: str | None) -> dict[str, Any]:
    """The body of every 500: stable, with the request id to quote, never the trace (which goes to the log)."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + "internal",
        "title": "Internal server error",
        "status": 500,
        "detail": "An unexpected error occurred; quote the request id when reporting it.",
        "instance": path,
    }
    if request_id:
        body["request_id"] = request_id
    return body


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    # Last resort for apps without the request-context middleware (it handles crashes itself).
    log.exception("unhandled error", extra={"path": request.url.path})
    return problem_response(500, internal_error_problem(request.url.path, current_request_id()))


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # A unique or foreign-key constraint caught a concurrent or duplicate write; the transaction was rolled back.
    log.info("integrity error", extra={"path": request.url.path, "error": str(exc)[:300]})
    body = Conflict(
        "The write conflicts with data already stored (a duplicate or a concurrent write); nothing was changed."
    ).to_problem(request.url.path)
    return problem_response(409, body)


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable", extra={"path": request.url.path, "error": str(exc)[:300]})
    body = {
        "type": TYPE_BASE + "database-unavailable",
        "title": "Service unavailable",
        "status": 503,
        "detail": "The database did not answer; nothing was changed. Retry shortly.",
        "instance": request.url.path,
    }
    return problem_response(503, body, {"Retry-After": "1"})


async def _pool_exhausted(request: Request, exc: Exception) -> JSONResponse:
    # Every pooled connection stayed busy for the pool's whole timeout: an overload, not a bug.
    log.warning("database pool exhausted", extra={"path": request.url.path, "error": str(exc)[:300]})
    body = {
        "type": TYPE_BASE + "database-busy",
        "title": "Service unavailable",
        "status": 503,
        "detail": "Every database connection of the service is busy; nothing was changed. Retry shortly.",
        "instance": request.url.path,
    }
    return problem_response(503, body, {"Retry-After": "1"})


# SQLSTATE classes of a database that is going away or not there yet: connection exceptions (08…) and operator
# intervention (57P01 admin shutdown, 57P03 "the database system is starting up / shutting down").
TRANSIENT_SQLSTATES = ("08", "57P")


def is_transient_db_error(exc: DBAPIError) -> bool:
    """asyncpg's errors reach SQLAlchemy as a plain DBAPIError; tell a restarting database from a real bug."""
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return isinstance(state, str) and state.startswith(TRANSIENT_SQLSTATES)


# Data exceptions caused by a value from the request (not e.g. a division by zero in the service's own SQL):
# string too long, numeric out of range, bad date/time, NUL byte or untranslatable character, bad text form.
INPUT_SQLSTATES = frozenset({"22001", "22003", "22007", "22008", "22021", "22P02", "22P05"})


def is_unstorable_input(exc: DBAPIError) -> bool:
    """A value the database cannot take (out of range, NUL byte in text, ...) or that the
    driver refused to encode (asyncpg's DataError, e.g. an integer beyond int32): the request's fault."""
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if state in INPUT_SQLSTATES:
        return True
    cause = exc.orig.__cause__ if exc.orig is not None else None
    return type(cause).__name__ == "DataError" and type(cause).__module__.startswith("asyncpg")


async def _dbapi_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if is_transient_db_error(exc):
        return await _database_unavailable(request, exc)
    if is_unstorable_input(exc):
        log.info("unstorable input", extra={"path": request.url.path, "error": str(exc.orig)[:300]})
        problem = ValidationFailed(
            [{"path": "", "message": "A value is out of the range or character set the service can store."}],
            "A value in the request cannot be stored; nothing was changed.",
        ).to_problem(request.url.path)
        return problem_response(422, problem)
    return await _unhandled(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(InterfaceError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.add_exception_handler(DBAPIError, _dbapi_error)
    # A refused or reset connection (asyncpg raises these raw while PostgreSQL restarts); other OS errors are
    # bugs of ours and stay 500s rather than being blamed on the database.
    app.add_exception_handler(ConnectionError, _database_unavailable)
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(InvalidNumber, _invalid_value)
    app.add_exception_handler(JsonTooLarge, _invalid_value)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "description": desc,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for code, desc in {
        400: "Bad request",
        401: "Authentication required",
        403: "Forbidden",
        404: "Not found",
        409: "Conflict",
        412: "Precondition failed",
        413: "Payload too large",
        422: "Validation failed",
        428: "Precondition required",
    }.items()
}

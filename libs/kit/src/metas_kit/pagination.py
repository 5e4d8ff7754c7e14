"""Keyset pagination with opaque, tamper-proof cursors: stable under concurrent inserts, no OFFSET scans.

A cursor is ``<payload>.<signature>``: the position as compact JSON (base64url) and an HMAC-SHA256 of it under the
service's cursor key (derived from the JWT secret and the service name, so every replica issues and accepts the
same cursors; another service's cursors are refused). The signature is checked before the payload is parsed, and
the position is then validated field by field against the key columns' types — anything the service did not
issue is a 400 problem, never a 500.

Use ``paginate(session, stmt, [Model.a, desc(Model.b)], page)`` in a repository; the router takes ``PageDep``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression

from metas_kit.errors import AppError

T = TypeVar("T")
MAX_LIMIT = 500
# A cursor is a short position: anything longer was not issued here (and is refused before any decoding).
MAX_CURSOR_LENGTH = 2048
MAX_FIELDS = 8
MAX_TEXT = 512
_INT_BOUND = 2**63 - 1
_SIG_BYTES = 16

# The key of the app serving the current request (set by the kit's request middleware); outside a request (a
# script, a unit test) a key made at start-up, so cursors still round-trip within the process.
cursor_key_var: ContextVar[bytes | None] = ContextVar("metas_cursor_key", default=None)
_PROCESS_KEY = os.urandom(32)


def derive_cursor_key(jwt_secret: str | None, service: str) -> bytes:
    """The service's cursor key: the same for every replica sharing the JWT secret, distinct per service."""
    if not jwt_secret:
        return hashlib.sha256(_PROCESS_KEY + service.encode()).digest()
    return hmac.new(jwt_secret.encode(), b"metas-cursor:" + service.encode(), hashlib.sha256).digest()


def _signing_key() -> bytes:
    return cursor_key_var.get() or _PROCESS_KEY


class InvalidCursor(AppError):
    status, type_slug, title = 400, "invalid-cursor", "Invalid cursor"


_NOT_OURS = "The cursor is not one this service issued; start again without a cursor."


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null at the end.")


class PageParams(BaseModel):
    limit: int
    cursor: dict[str, Any] | None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode("ascii"))


def _sign(payload: str) -> str:
    return _b64(hmac.new(_signing_key(), payload.encode("ascii"), hashlib.sha256).digest()[:_SIG_BYTES])


def _scalar(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(position: dict[str, Any]) -> str:
    """A signed cursor for ``position`` (a flat object of strings, integers, booleans or nulls)."""
    raw = json.dumps({k: _scalar(v) for k, v in position.items()}, separators=(",", ":"), ensure_ascii=False)
    payload = _b64(raw.encode())
    cursor = f"{payload}.{_sign(payload)}"
    if len(cursor) > MAX_CURSOR_LENGTH:
        # Never hand out a cursor decode_cursor would refuse: key columns this long are a design error.
        raise ValueError(f"a cursor position of {len(raw)} characters is too long to page on")
    return cursor


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The position of a cursor this service issued; ``InvalidCursor`` (400) for anything else."""
    if len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
        raise InvalidCursor(_NOT_OURS)
    payload, signature = cursor.split(".")
    try:
        payload.encode("ascii")
        signature.encode("ascii")
    except UnicodeEncodeError as exc:
        raise InvalidCursor(_NOT_OURS) from exc
    if not hmac.compare_digest(_sign(payload), signature):
        raise InvalidCursor(_NOT_OURS)
    try:
        value = json.loads(_unb64(payload))
    except (ValueError, binascii.Error, RecursionError) as exc:  # only a key leak could get here
        raise InvalidCursor(_NOT_OURS) from exc
    _check_flat(value)
    return value


def _check_flat(value: Any) -> None:
    if not isinstance(value, dict) or len(value) > MAX_FIELDS:
        raise InvalidCursor(_NOT_OURS)
    for key, item in value.items():
        if len(key) > 64:
            raise InvalidCursor(_NOT_OURS)
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, int) and abs(item) <= _INT_BOUND:
            continue
        if isinstance(item, str) and len(item) <= MAX_TEXT:
            continue
        raise InvalidCursor(_NOT_OURS)


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")] = 50,
    cursor: Annotated[str | None, Query(description="Opaque cursor from a previous page")] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=decode_cursor(cursor) if cursor else None)


PageDep = Annotated[PageParams, Depends(page_params)]


# ---- the keyset helper ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Key:
    column: Any  # an ORM attribute or a column
    name: str
    descending: bool
    python_type: type | None
    length: int | None


def _key(spec: Any) -> _Key:
    descending = False
    column = spec
    if isinstance(spec, UnaryExpression) and spec.modifier in (operators.desc_op, operators.asc_op):
        descending = spec.modifier is operators.desc_op
        column = spec.element
    name = getattr(column, "key", None) or getattr(column, "name", None)
    if not name:
        raise TypeError(f"paginate: {spec!r} is not a named column")
    try:
        python_type: type | None = column.type.python_type
    except (AttributeError, NotImplementedError):
        python_type = None
    return _Key(column, str(name), descending, python_type, getattr(column.type, "length", None))


def _field(key: _Key, raw: Any) -> Any:
    """The cursor's value for ``key`` as the column's Python type, or ``InvalidCursor``."""
    t = key.python_type
    try:
        if t is bool:
            if isinstance(raw, bool):
                return raw
        elif t is int:
            if isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) <= _INT_BOUND:
                return raw
        elif t is str:
            if isinstance(raw, str) and len(raw) <= (key.length or MAX_TEXT):
                return raw
        elif t is datetime:
            if isinstance(raw, str):
                return datetime.fromisoformat(raw)
        elif t is date:
            if isinstance(raw, str):
                return date.fromisoformat(raw)
        elif t is Decimal:
            if isinstance(raw, str):
                value = Decimal(raw)
                if value.is_finite():
                    return value
    except (ValueError, ArithmeticError) as exc:
        raise InvalidCursor(_NOT_OURS) from exc
    raise InvalidCursor(_NOT_OURS)


def _after(keys: Sequence[_Key], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the keys' order: (a > x) OR (a = x AND b > y) OR … per direction."""
    clauses = []
    for i, key in enumerate(keys):
        step = key.column < values[i] if key.descending else key.column > values[i]
        equal = [k.column == v for k, v in zip(keys[:i], values[:i], strict=True)]
        clauses.append(and_(*equal, step) if equal else step)
    return or_(*clauses)


@dataclass(frozen=True)
class PageResult(Generic[T]):
    items: list[T]
    next_cursor: str | None


async def paginate(
    session: AsyncSession, stmt: Select[Any], key_columns: Sequence[Any], params: PageParams
) -> PageResult[Any]:
    """One keyset page of ``stmt`` ordered by ``key_columns`` (columns, or ``desc(column)`` for descending).

    The keys must identify a row (end with the primary key) and hold no NULLs. ``stmt`` selecting one entity
    yields the entities; selecting columns yields rows (the key columns must be among them). The cursor holds
    the last row's keys; a cursor whose fields do not match the keys' names and types is refused (400)."""
    keys = [_key(k) for k in key_columns]
    if params.cursor is not None:
        if set(params.cursor) != {k.name for k in keys}:
            raise InvalidCursor(_NOT_OURS)
        values = [_field(k, params.cursor[k.name]) for k in keys]
        stmt = stmt.where(_after(keys, values))
    stmt = stmt.order_by(*[k.column.desc() if k.descending else k.column.asc() for k in keys]).limit(params.limit + 1)
    descriptions = stmt.column_descriptions
    entity = len(descriptions) == 1 and descriptions[0].get("entity") is not None
    entity = entity and descriptions[0].get("expr") is descriptions[0].get("entity")
    if entity:
        rows: list[Any] = list((await session.scalars(stmt)).all())
    else:
        rows = list((await session.execute(stmt)).all())
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    cursor = None
    if more and rows:
        last = rows[-1]
        if entity:
            position = {k.name: getattr(last, k.name) for k in keys}
        else:
            position = {k.name: last._mapping[k.column] for k in keys}
        cursor = encode_cursor(position)
    return PageResult(rows, cursor)

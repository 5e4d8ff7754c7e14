"""Idempotency-Key for retried writes: the first response is stored in the same transaction as the write
and replayed for a retry with the same key and body; a different body under the same key is refused."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, cast

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import JSON, DateTime, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from metas_kit.auth import Principal
from metas_kit.db import utcnow
from metas_kit.errors import AppError

HEADER = "idempotency-key"


class IdempotencyKeyReused(AppError):
    status, type_slug, title = 422, "idempotency-key-reused", "Idempotency-Key reused"


class IdempotencyRecordMixin:
    """Mix into the service's Base: ``class IdempotencyRecord(IdempotencyRecordMixin, Base): pass``."""

    __tablename__ = "idempotency_record"

    principal: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[Any] = mapped_column(JSON)
    headers: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


IDEMPOTENCY_KEY_MAX = 200


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX:
        raise AppError(f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} characters.")
    return key


def fingerprint(request: Request, payload: Any) -> str:
    raw = json.dumps({"m": request.method, "p": request.url.path, "b": payload}, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()


async def replay(
    session: AsyncSession,
    model: type[IdempotencyRecordMixin],
    request: Request,
    principal: Principal,
    payload: Any,
) -> JSONResponse | None:
    """The stored response of an earlier request with this key, or None when the key is new (or absent)."""
    key = idempotency_key(request)
    if key is None:
        return None
    cols: Any = model
    row = await session.scalar(select(model).where(cols.principal == principal.sub, cols.key == key))
    if row is None:
        return None
    if row.fingerprint != fingerprint(request, payload):
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different request; use a new key for a new write."
        )
    headers = dict(row.headers)
    headers["idempotent-replayed"] = "true"
    return JSONResponse(row.body, status_code=row.status_code, headers=headers)


def remember(
    session: AsyncSession,
    model: type[IdempotencyRecordMixin],
    request: Request,
    principal: Principal,
    payload: Any,
    *,
    status_code: int,
    body: Any,
    headers: dict[str, str] | None = None,
) -> None:
    """Store the response in the request's transaction (a concurrent duplicate then fails on the primary key)."""
    key = idempotency_key(request)
    if key is None:
        return
    session.add(
        cast(Any, model)(
            principal=principal.sub,
            key=key,
            method=request.method,
            path=request.url.path,
            fingerprint=fingerprint(request, payload),
            status_code=status_code,
            body=body,
            headers=headers or {},
        )
    )

"""Cursors are signed and validated: only what the service issued pages on; everything else is a 400 problem.
``paginate`` pages single and compound keys, ascending and descending, entities and column rows, on both
backends, without skipping or repeating a row."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from sqlalchemy import DateTime, Integer, String, desc, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from metas_kit.app import create_service_app
from metas_kit.auth import Reader
from metas_kit.db import SessionDep, new_metadata
from metas_kit.pagination import (
    InvalidCursor,
    PageDep,
    PageParams,
    cursor_key_var,
    decode_cursor,
    derive_cursor_key,
    encode_cursor,
    paginate,
)
from metas_kit.settings import ServiceSettings


class Base(DeclarativeBase):
    metadata = new_metadata()


class Row(Base):
    __tablename__ = "row"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    period: Mapped[str] = mapped_column(String(7))
    code: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RowOut(BaseModel):
    id: int
    period: str
    code: str


class RowPage(BaseModel):
    items: list[RowOut]
    next_cursor: str | None


# 23 rows: periods repeat (compound keys need the second column), codes repeat across periods.
ROWS = [
    {"id": i, "period": f"2024-{1 + i % 4:02d}", "code": f"C{(i * 7) % 10}", "at": datetime(2024, 1, 1, tzinfo=UTC)}
    for i in range(1, 24)
]

router = APIRouter(prefix="/v1/rows")


@router.get("")
async def by_id(session: SessionDep, page: PageDep, _who: Reader) -> RowPage:
    found = await paginate(session, select(Row), [Row.id], page)
    return RowPage(
        items=[RowOut.model_validate(r, from_attributes=True) for r in found.items], next_cursor=found.next_cursor
    )


@router.get("/by-period")
async def by_period(session: SessionDep, page: PageDep, _who: Reader) -> RowPage:
    found = await paginate(session, select(Row), [desc(Row.period), Row.code, Row.id], page)
    return RowPage(
        items=[RowOut.model_validate(r, from_attributes=True) for r in found.items], next_cursor=found.next_cursor
    )


@pytest.fixture
async def client(database_url_factory: Callable[..., str], jwt_secret: str) -> AsyncIterator[httpx.AsyncClient]:
    url = database_url_factory("pages")
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        await conn.execute(Row.__table__.insert(), ROWS)
    await engine.dispose()
    app: FastAPI = create_service_app(
        name="pages", settings=ServiceSettings(database_url=url, jwt_secret=jwt_secret), routers=[router]
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


async def _walk(client: httpx.AsyncClient, path: str, auth: dict[str, str], limit: int) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        resp = await client.get(path, params=params, headers=auth)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert len(body["items"]) <= limit
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("limit", [1, 4, 23, 50])
async def test_pages_cover_every_row_once_in_order(client: httpx.AsyncClient, token_for: Any, limit: int) -> None:
    auth = {"authorization": token_for("viewer")}
    by_id = await _walk(client, "/v1/rows", auth, limit)
    assert [r["id"] for r in by_id] == list(range(1, 24))
    by_period = await _walk(client, "/v1/rows/by-period", auth, limit)
    expected = sorted(ROWS, key=lambda r: (r["code"], r["id"]))
    expected = sorted(expected, key=lambda r: r["period"], reverse=True)
    assert [r["id"] for r in by_period] == [r["id"] for r in expected]


def _forge(position: Any) -> str:
    """A cursor as an attacker would make one: the payload of their choice, unsigned or signed wrongly."""
    payload = base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")
    return payload + ".AAAAAAAAAAAAAAAAAAAAAA"


NESTED = "[" * 1000 + "]" * 1000  # under the query bound, so the cursor check sees it


@pytest.mark.parametrize(
    "cursor",
    [
        _forge({"n": "abc"}),
        _forge({"n": None}),
        _forge({"id": [1]}),
        _forge({"id": 2**70}),
        base64.urlsafe_b64encode(b'{"id": 2}').decode(),  # the unsigned form of earlier releases
        base64.urlsafe_b64encode(NESTED.encode()).decode(),
        "!!!not base64!!!",
        "a.b.c",
        "é.é",
        "x" * 5000,
        "",
    ],
)
async def test_forged_cursors_are_400_problems(client: httpx.AsyncClient, token_for: Any, cursor: str) -> None:
    resp = await client.get("/v1/rows", params={"cursor": cursor}, headers={"authorization": token_for("viewer")})
    if cursor == "":
        assert resp.status_code == 200  # an empty cursor is the first page
        return
    assert resp.status_code == 400, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["type"].endswith("/invalid-cursor")


async def test_signed_cursors_of_another_list_or_service_are_refused(
    client: httpx.AsyncClient, token_for: Any, jwt_secret: str
) -> None:
    auth = {"authorization": token_for("viewer")}
    first = (await client.get("/v1/rows/by-period", params={"limit": 2}, headers=auth)).json()
    # a cursor of the (period, code, id) list on the id list: signed by this service, but not of this list's keys
    wrong_list = await client.get("/v1/rows", params={"cursor": first["next_cursor"]}, headers=auth)
    assert wrong_list.status_code == 400
    # a cursor another service signed (the same shape as this list's): refused
    token = cursor_key_var.set(derive_cursor_key(jwt_secret, "another-service"))
    try:
        foreign = encode_cursor({"id": 3})
    finally:
        cursor_key_var.reset(token)
    assert (await client.get("/v1/rows", params={"cursor": foreign}, headers=auth)).status_code == 400
    # the same position signed by this service pages on
    token = cursor_key_var.set(derive_cursor_key(jwt_secret, "pages"))
    try:
        ours = encode_cursor({"id": 20})
    finally:
        cursor_key_var.reset(token)
    resp = await client.get("/v1/rows", params={"cursor": ours}, headers=auth)
    assert [r["id"] for r in resp.json()["items"]] == [21, 22, 23]


async def test_a_signed_cursor_with_a_wrong_field_type_is_refused(
    client: httpx.AsyncClient, token_for: Any, jwt_secret: str
) -> None:
    # Only a leaked key could sign these; the fields are still checked against the key columns.
    token = cursor_key_var.set(derive_cursor_key(jwt_secret, "pages"))
    try:
        cursors = [encode_cursor({"id": "abc"}), encode_cursor({"id": None}), encode_cursor({"id": True})]
        long_code = encode_cursor({"period": "2024-01", "code": "C" * 21, "id": 1})
    finally:
        cursor_key_var.reset(token)
    auth = {"authorization": token_for("viewer")}
    for cursor in cursors:
        assert (await client.get("/v1/rows", params={"cursor": cursor}, headers=auth)).status_code == 400
    assert (await client.get("/v1/rows/by-period", params={"cursor": long_code}, headers=auth)).status_code == 400


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda b: base64.urlsafe_b64encode(b).decode()))
def test_any_cursor_text_decodes_to_a_flat_position_or_is_refused(text: str) -> None:
    try:
        value = decode_cursor(text)
    except InvalidCursor:
        return
    raise AssertionError(f"an unsigned text was accepted: {text!r} → {value!r}")


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=20),
        st.none() | st.booleans() | st.integers(-(2**63) + 1, 2**63 - 1) | st.text(max_size=64),
        max_size=3,
    )
)
def test_issued_cursors_round_trip(position: dict[str, Any]) -> None:
    assert decode_cursor(encode_cursor(position)) == position


def test_a_position_too_long_to_page_on_is_never_issued() -> None:
    with pytest.raises(ValueError, match="too long"):
        encode_cursor({f"k{i}": "x" * 500 for i in range(4)})


async def test_paginate_pages_column_rows_with_datetime_keys(database_url_factory: Callable[..., str]) -> None:
    url = database_url_factory("pages_rows")
    engine = create_async_engine(url)
    start = datetime(2024, 3, 1, 12, tzinfo=UTC)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        await conn.execute(
            Row.__table__.insert(),
            [{"id": i, "period": "p", "code": "c", "at": start + timedelta(minutes=i % 3)} for i in range(1, 8)],
        )
    from sqlalchemy.ext.asyncio import AsyncSession

    seen: list[int] = []
    async with AsyncSession(engine) as session:
        params = PageParams(limit=3, cursor=None)
        while True:
            found = await paginate(session, select(Row.id, Row.at), [desc(Row.at), Row.id], params)
            seen += [r.id for r in found.items]
            if found.next_cursor is None:
                break
            params = PageParams(limit=3, cursor=decode_cursor(found.next_cursor))
    await engine.dispose()
    # at minute 2: ids 2, 5; minute 1: 1, 4, 7; minute 0: 3, 6
    assert seen == [2, 5, 1, 4, 7, 3, 6]

"""The write envelope on both backends: idempotent replay (the same key twice writes once and replays the first
response; another body under the key is a 422), strong preconditions, uniform `entity.verb` audit, the ETag
header, and nothing kept of a write that failed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import Integer, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from metas_kit.app import create_service_app
from metas_kit.audit import AuditEventMixin, audit_router
from metas_kit.auth import Planner, Reader
from metas_kit.db import SessionDep, new_metadata
from metas_kit.errors import Conflict, NotFound
from metas_kit.etag import version_etag
from metas_kit.idempotency import IdempotencyRecordMixin
from metas_kit.settings import ServiceSettings
from metas_kit.writes import Write, WriteContext, configure_writes


class Base(DeclarativeBase):
    metadata = new_metadata()


class AuditEvent(AuditEventMixin, Base):
    pass


class IdempotencyRecord(IdempotencyRecordMixin, Base):
    pass


class Thing(Base):
    __tablename__ = "thing"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)


class ThingIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class ThingOut(BaseModel):
    code: str
    name: str
    version: int
    etag: str


def _out(row: Thing) -> ThingOut:
    return ThingOut(
        code=row.code, name=row.name, version=row.version, etag=version_etag("thing", row.code, row.version)
    )


# ---- the application layer of this small service ---------------------------------------------------------
async def current_etag(session: AsyncSession, code: str) -> str | None:
    row = await session.get(Thing, code)
    return version_etag("thing", code, row.version) if row else None


async def put_thing(ctx: WriteContext, code: str, body: ThingIn) -> ThingOut:
    row = await ctx.session.get(Thing, code)
    if row is None:
        row = Thing(code=code, name=body.name, version=1)
        ctx.session.add(row)
        ctx.status_code = 201  # a PUT that created
        await ctx.audit("thing", code, "create", after={"name": body.name})
    elif row.name == body.name:
        ctx.unchanged()
    else:
        before = {"name": row.name}
        row.name, row.version = body.name, row.version + 1
        await ctx.audit("thing", code, "update", before=before, after={"name": body.name})
    if body.name == "fail-after-write":
        await ctx.session.flush()
        raise Conflict("refused after the row and its audit were added: nothing may remain")
    return _out(row)


async def rename_unaudited(ctx: WriteContext, code: str) -> ThingOut:
    row = await ctx.session.get(Thing, code)
    if row is None:
        raise NotFound("no such thing")
    row.version += 1
    return _out(row)  # forgot ctx.audit: the envelope refuses to commit it


router = APIRouter(prefix="/v1/things")


@router.put("/{code}", response_model=ThingOut)
async def put(code: str, body: ThingIn, write: Write, who: Planner) -> Any:
    return await write(
        lambda ctx: put_thing(ctx, code, body),
        payload=body,
        current_etag=lambda: current_etag(write.session, code),
        etag=lambda out: out.etag,
    )


@router.put("/{code}/strict", response_model=ThingOut)
async def put_strict(code: str, body: ThingIn, write: Write, who: Planner) -> Any:
    return await write(
        lambda ctx: put_thing(ctx, code, body),
        payload=body,
        current_etag=lambda: current_etag(write.session, code),
        if_match="required",
        etag=lambda out: out.etag,
    )


@router.post("", response_model=ThingOut, status_code=201)
async def create(body: ThingIn, write: Write, who: Planner) -> Any:
    code = body.name.lower()[:20]
    return await write(lambda ctx: put_thing(ctx, code, body), payload=body, status_code=201, etag=lambda o: o.etag)


@router.post("/{code}:bump", response_model=ThingOut)
async def bump(code: str, write: Write, who: Planner) -> Any:
    return await write(lambda ctx: rename_unaudited(ctx, code), payload={"code": code})


@router.post("/{code}:as-dict", response_model=ThingOut, status_code=201)
async def as_dict(code: str, body: ThingIn, write: Write, who: Planner) -> Any:
    async def apply(ctx: WriteContext) -> dict[str, Any]:
        out = await put_thing(ctx, code, body)
        return {**out.model_dump(), "ignored": "not in the response model"}

    return await write(apply, payload=body, status_code=201)


@router.post("/{code}:audit-first", response_model=ThingOut, status_code=201)
async def audit_first(code: str, write: Write, who: Planner) -> Any:
    """Records the audit while the new row is still pending, and says what the transaction held right then."""

    async def apply(ctx: WriteContext) -> ThingOut:
        row = Thing(code=code, name=code, version=1)
        ctx.session.add(row)
        await ctx.audit("thing", code, "create", after={"name": code})
        ctx.headers["x-row-pending"] = str(row in ctx.session.new)
        audited = await ctx.session.scalar(  # an ORM query: it flushes the pending row first
            select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_id == code)
        )
        ctx.headers["x-audit-rows"] = str(audited)
        return _out(row)

    return await write(apply, payload={"code": code}, status_code=201)


@router.get("/count")
async def count(session: SessionDep, _who: Reader) -> dict[str, int]:
    return {
        "things": int(await session.scalar(select(func.count()).select_from(Thing)) or 0),
        "audit": int(await session.scalar(select(func.count()).select_from(AuditEvent)) or 0),
        "remembered": int(await session.scalar(select(func.count()).select_from(IdempotencyRecord)) or 0),
    }


@pytest.fixture
async def client(database_url_factory: Callable[..., str], jwt_secret: str) -> AsyncIterator[httpx.AsyncClient]:
    url = database_url_factory("writes")
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()
    app: FastAPI = create_service_app(
        name="writes",
        settings=ServiceSettings(database_url=url, jwt_secret=jwt_secret),
        routers=[router, audit_router()],  # the audit table given to configure_writes
    )
    configure_writes(app, audit=AuditEvent, idempotency=IdempotencyRecord)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


async def _counts(client: httpx.AsyncClient, token_for: Any) -> dict[str, int]:
    resp = await client.get("/v1/things/count", headers={"authorization": token_for("viewer")})
    return dict(resp.json())


def _problem(resp: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = resp.json()
    assert body["type"].endswith("/" + slug), body
    return body


async def test_the_same_key_twice_writes_once_and_replays_the_first_response(
    client: httpx.AsyncClient, token_for: Any
) -> None:
    auth = {"authorization": token_for("planner", sub="ana"), "idempotency-key": "k-1"}
    first = await client.post("/v1/things", json={"name": "Alpha"}, headers=auth)
    assert first.status_code == 201
    assert first.json() == {"code": "alpha", "name": "Alpha", "version": 1, "etag": '"thing-alpha-v1"'}
    assert first.headers["etag"] == '"thing-alpha-v1"'
    again = await client.post("/v1/things", json={"name": "Alpha"}, headers=auth)
    assert (again.status_code, again.json(), again.headers["etag"]) == (201, first.json(), first.headers["etag"])
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await _counts(client, token_for) == {"things": 1, "audit": 1, "remembered": 1}
    # another body under the same key: refused, nothing written
    other = await client.post("/v1/things", json={"name": "Beta"}, headers=auth)
    _problem(other, 422, "idempotency-key-reused")
    # the same body on another route under the same key: refused too (the key names one request)
    elsewhere = await client.put("/v1/things/alpha", json={"name": "Alpha"}, headers=auth)
    _problem(elsewhere, 422, "idempotency-key-reused")
    # keys are per caller: another person's identical key is a new write
    bob = {"authorization": token_for("planner", sub="bob"), "idempotency-key": "k-1"}
    assert (await client.post("/v1/things", json={"name": "Gamma"}, headers=bob)).status_code == 201
    assert await _counts(client, token_for) == {"things": 2, "audit": 2, "remembered": 2}


async def test_audit_actions_are_entity_dot_verb(client: httpx.AsyncClient, token_for: Any) -> None:
    auth = {"authorization": token_for("planner", sub="ana")}
    created = await client.put("/v1/things/t1", json={"name": "One"}, headers=auth)
    await client.put("/v1/things/t1", json={"name": "Uno"}, headers={**auth, "if-match": created.headers["etag"]})
    events = (await client.get("/v1/audit", headers={"authorization": token_for("auditor")})).json()["items"]
    assert [(e["action"], e["entity_type"], e["entity_id"], e["actor"]) for e in events] == [
        ("thing.update", "thing", "t1", "ana"),
        ("thing.create", "thing", "t1", "ana"),
    ]
    assert events[0]["changes"] == {"name": ["One", "Uno"]}
    assert events[0]["at"].endswith("Z")  # RFC 3339 with an offset on both backends


async def test_if_match_is_strong_and_required_where_the_route_says(client: httpx.AsyncClient, token_for: Any) -> None:
    auth = {"authorization": token_for("planner")}
    created = await client.put("/v1/things/t2", json={"name": "Two"}, headers=auth)
    tag = created.headers["etag"]
    _problem(await client.put("/v1/things/t2/strict", json={"name": "Dos"}, headers=auth), 428, "precondition-required")
    stale = await client.put("/v1/things/t2", json={"name": "Dos"}, headers={**auth, "if-match": '"thing-t2-v0"'})
    assert _problem(stale, 412, "precondition-failed")["current_etag"] == tag
    weak = await client.put("/v1/things/t2", json={"name": "Dos"}, headers={**auth, "if-match": f"W/{tag}"})
    _problem(weak, 412, "precondition-failed")
    star = await client.put("/v1/things/t2", json={"name": "Dos"}, headers={**auth, "if-match": "*"})
    _problem(star, 412, "precondition-failed")
    _problem(
        await client.put("/v1/things/t2", json={"name": "Dos"}, headers={**auth, "if-match": "nonsense"}),
        400,
        "malformed-precondition",
    )
    missing = await client.put("/v1/things/none", json={"name": "X"}, headers={**auth, "if-match": tag})
    _problem(missing, 412, "precondition-failed")
    ok = await client.put("/v1/things/t2/strict", json={"name": "Dos"}, headers={**auth, "if-match": tag})
    assert ok.status_code == 200
    assert ok.headers["etag"] == '"thing-t2-v2"'
    assert await _counts(client, token_for) == {"things": 1, "audit": 2, "remembered": 0}


async def test_if_none_match_star_creates_only(client: httpx.AsyncClient, token_for: Any) -> None:
    auth = {"authorization": token_for("planner"), "if-none-match": "*"}
    assert (await client.put("/v1/things/t3", json={"name": "Three"}, headers=auth)).status_code == 201  # created
    _problem(await client.put("/v1/things/t3", json={"name": "Tres"}, headers=auth), 412, "precondition-failed")
    assert await _counts(client, token_for) == {"things": 1, "audit": 1, "remembered": 0}


async def test_a_no_op_write_records_nothing_and_keeps_the_etag(client: httpx.AsyncClient, token_for: Any) -> None:
    auth = {"authorization": token_for("planner")}
    created = await client.put("/v1/things/t4", json={"name": "Four"}, headers=auth)
    same = await client.put("/v1/things/t4", json={"name": "Four"}, headers=auth)
    assert same.status_code == 200
    assert same.headers["etag"] == created.headers["etag"]
    assert await _counts(client, token_for) == {"things": 1, "audit": 1, "remembered": 0}


async def test_a_failed_write_keeps_nothing_so_a_retry_with_the_key_writes(
    client: httpx.AsyncClient, token_for: Any
) -> None:
    auth = {"authorization": token_for("planner"), "idempotency-key": "k-fail"}
    _problem(await client.put("/v1/things/t5", json={"name": "fail-after-write"}, headers=auth), 409, "conflict")
    assert await _counts(client, token_for) == {"things": 0, "audit": 0, "remembered": 0}


async def test_a_write_without_audit_is_refused_whole(client: httpx.AsyncClient, token_for: Any) -> None:
    auth = {"authorization": token_for("planner")}
    await client.put("/v1/things/t6", json={"name": "Six"}, headers=auth)
    _problem(await client.post("/v1/things/t6:bump", headers=auth), 500, "internal")
    resp = await client.put("/v1/things/t6", json={"name": "Six"}, headers=auth)
    assert resp.json()["version"] == 1  # the unaudited bump was rolled back


async def test_the_audit_row_is_inserted_at_once_without_flushing_the_pending_write(
    client: httpx.AsyncClient, token_for: Any
) -> None:
    """ctx.audit inserts its row in the transaction right away (one Core INSERT, no ORM object) and leaves the
    application's pending objects to the commit, where their errors surfaced before; both commit together."""
    auth = {"authorization": token_for("planner", sub="ana")}
    resp = await client.post("/v1/things/t8:audit-first", headers=auth)
    assert resp.status_code == 201, resp.text
    assert (resp.headers["x-audit-rows"], resp.headers["x-row-pending"]) == ("1", "True")
    assert await _counts(client, token_for) == {"things": 1, "audit": 1, "remembered": 0}
    events = (await client.get("/v1/audit", headers={"authorization": token_for("auditor")})).json()["items"]
    assert [(e["action"], e["entity_id"], e["actor"], e["roles"], e["changes"]) for e in events] == [
        ("thing.create", "t8", "ana", ["planner"], {"created": {"name": "t8"}})
    ]
    assert events[0]["request_id"] == resp.headers["x-request-id"]


def test_write_routes_document_the_headers() -> None:
    app = create_service_app(
        name="writes-doc",
        settings=ServiceSettings(database_url="sqlite+aiosqlite:///:memory:", jwt_secret="x" * 40),
        routers=[router],
    )
    params = {p["name"] for p in app.openapi()["paths"]["/v1/things/{code}"]["put"]["parameters"]}
    assert {"Idempotency-Key", "If-Match", "If-None-Match"} <= params


async def test_a_plain_result_is_remembered_as_the_response_model_sends_it(
    client: httpx.AsyncClient, token_for: Any
) -> None:
    auth = {"authorization": token_for("planner"), "idempotency-key": "k-dict"}
    first = await client.post("/v1/things/t7:as-dict", json={"name": "Seven"}, headers=auth)
    again = await client.post("/v1/things/t7:as-dict", json={"name": "Seven"}, headers=auth)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() == {"code": "t7", "name": "Seven", "version": 1, "etag": '"thing-t7-v1"'}

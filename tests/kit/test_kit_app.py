"""The kit as a service sees it: problem+json for every error, request ids, one transaction per request,
idempotent retries, audit rows, metrics by route template — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from metas_kit.app import create_service_app
from metas_kit.audit import AuditEventMixin, audit_router, record_audit
from metas_kit.auth import Principal, require_roles
from metas_kit.db import SessionDep, new_metadata
from metas_kit.errors import Conflict
from metas_kit.idempotency import IdempotencyRecordMixin, remember, replay
from metas_kit.settings import ServiceSettings


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


class ThingIn(BaseModel):
    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1)


Writer = Annotated[Principal, Depends(require_roles("planner"))]
router = APIRouter(prefix="/v1/things", tags=["things"])


@router.post("", status_code=201)
async def create_thing(body: ThingIn, request: Request, session: SessionDep, who: Writer) -> JSONResponse:
    payload = body.model_dump()
    replayed = await replay(session, IdempotencyRecord, request, who, payload)
    if replayed is not None:
        return replayed
    session.add(Thing(code=body.code, name=body.name))
    await record_audit(
        session, AuditEvent, who, action="create", entity_type="thing", entity_id=body.code, after=payload
    )
    remember(session, IdempotencyRecord, request, who, payload, status_code=201, body=payload)
    if body.name == "fail-after-write":
        raise Conflict("refused after the row was added: the transaction must roll back")
    return JSONResponse(payload, status_code=201)


@router.get("/count")
async def count(session: SessionDep, _who: Writer) -> dict[str, int]:
    return {"n": int(await session.scalar(select(func.count()).select_from(Thing)) or 0)}


@router.get("/boom")
async def boom() -> dict[str, Any]:
    raise RuntimeError("secret internal detail")


@pytest.fixture
async def client(
    database_url_factory: Callable[..., str], jwt_secret: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    url = database_url_factory("kit")
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()
    settings = ServiceSettings(database_url=url, jwt_secret=jwt_secret, log_json=True)
    app: FastAPI = create_service_app(name="kit-test", settings=settings, routers=[router, audit_router(AuditEvent)])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


def is_problem(resp: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = resp.json()
    assert body["status"] == status
    assert body["type"].endswith("/" + slug)
    assert body["request_id"] == resp.headers["x-request-id"]
    return body


async def test_validation_errors_list_every_field_path(client: httpx.AsyncClient, token_for: Any) -> None:
    resp = await client.post(
        "/v1/things", json={"code": "", "name": 3}, headers={"authorization": token_for("planner")}
    )
    body = is_problem(resp, 422, "validation-error")
    assert sorted(e["path"] for e in body["errors"]) == ["body.code", "body.name"]


async def test_crash_is_a_500_problem_without_trace(client: httpx.AsyncClient, token_for: Any) -> None:
    body = is_problem(
        await client.get("/v1/things/boom", headers={"authorization": token_for("viewer")}), 500, "internal"
    )
    assert "secret internal detail" not in str(body)
    assert "Traceback" not in str(body)


async def test_every_route_authenticates_before_anything_else(client: httpx.AsyncClient) -> None:
    # /boom has no role of its own: the app still refuses an anonymous caller before running it.
    is_problem(await client.get("/v1/things/boom"), 401, "unauthorized")


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    is_problem(await client.get("/v1/nothing-here"), 404, "not-found")
    is_problem(await client.delete("/v1/things/count"), 405, "method-not-allowed")


async def test_head_is_the_get_without_its_body(client: httpx.AsyncClient, token_for: Any) -> None:
    auth = {"authorization": token_for("planner")}
    await client.post("/v1/things", json={"code": "H", "name": "headed"}, headers=auth)
    get = await client.get("/v1/things/count", headers=auth)
    head = await client.head("/v1/things/count", headers=auth)
    assert (get.status_code, get.json()) == (200, {"n": 1})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))
    # Refusals are the GET's too, headers only; a route without GET still refuses HEAD.
    refused = await client.head("/v1/things/count", headers={"authorization": token_for("viewer")})
    assert (refused.status_code, refused.headers["content-type"], refused.content) == (
        403,
        "application/problem+json",
        b"",
    )
    assert (await client.head("/v1/things/count")).status_code == 401
    assert (await client.head("/v1/nothing-here", headers=auth)).status_code == 404
    assert (await client.head("/v1/things", headers=auth)).status_code == 405


async def test_auth_missing_bad_and_wrong_role(client: httpx.AsyncClient, token_for: Any) -> None:
    is_problem(await client.get("/v1/things/count"), 401, "unauthorized")
    is_problem(await client.get("/v1/things/count", headers={"authorization": "Bearer nope"}), 401, "unauthorized")
    is_problem(await client.get("/v1/things/count", headers={"authorization": token_for("viewer")}), 403, "forbidden")
    ok = await client.get("/v1/things/count", headers={"authorization": token_for("admin")})
    assert ok.status_code == 200


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/healthz", headers={"x-request-id": "bad id with spaces"})
    assert made.headers["x-request-id"] != "bad id with spaces"
    assert len(made.headers["x-request-id"]) == 32


async def test_failed_request_writes_nothing(client: httpx.AsyncClient, token_for: Any) -> None:
    auth = {"authorization": token_for("planner")}
    resp = await client.post("/v1/things", json={"code": "X1", "name": "fail-after-write"}, headers=auth)
    is_problem(resp, 409, "conflict")
    assert (await client.get("/v1/things/count", headers=auth)).json() == {"n": 0}
    audit = await client.get("/v1/audit", headers={"authorization": token_for("auditor")})
    assert audit.json()["items"] == []


async def test_duplicate_key_is_a_409_problem(client: httpx.AsyncClient, token_for: Any) -> None:
    auth = {"authorization": token_for("planner")}
    assert (await client.post("/v1/things", json={"code": "D", "name": "a"}, headers=auth)).status_code == 201
    is_problem(await client.post("/v1/things", json={"code": "D", "name": "b"}, headers=auth), 409, "conflict")
    assert (await client.get("/v1/things/count", headers=auth)).json() == {"n": 1}


async def test_idempotent_retry_replays_and_reuse_is_refused(client: httpx.AsyncClient, token_for: Any) -> None:
    auth = {"authorization": token_for("planner"), "idempotency-key": "k-1"}
    first = await client.post("/v1/things", json={"code": "I", "name": "one"}, headers=auth)
    again = await client.post("/v1/things", json={"code": "I", "name": "one"}, headers=auth)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = await client.post("/v1/things", json={"code": "J", "name": "two"}, headers=auth)
    is_problem(other, 422, "idempotency-key-reused")
    assert (await client.get("/v1/things/count", headers=auth)).json() == {"n": 1}


async def test_concurrent_duplicates_one_wins(client: httpx.AsyncClient, token_for: Any) -> None:
    auth = {"authorization": token_for("planner")}
    results = await asyncio.gather(
        *(client.post("/v1/things", json={"code": "C", "name": f"n{i}"}, headers=auth) for i in range(2))
    )
    assert sorted(r.status_code for r in results) == [201, 409]
    assert (await client.get("/v1/things/count", headers=auth)).json() == {"n": 1}


async def test_audit_records_who_what_and_request_id(client: httpx.AsyncClient, token_for: Any) -> None:
    auth = {"authorization": token_for("planner", sub="ana"), "x-request-id": "rid-audit-1"}
    await client.post("/v1/things", json={"code": "A", "name": "audited"}, headers=auth)
    items = (await client.get("/v1/audit", headers={"authorization": token_for("auditor")})).json()["items"]
    assert len(items) == 1
    event = items[0]
    assert (event["actor"], event["action"], event["entity_type"], event["entity_id"]) == (
        "ana",
        "create",
        "thing",
        "A",
    )
    assert event["request_id"] == "rid-audit-1"
    assert event["changes"] == {"created": {"code": "A", "name": "audited"}}
    is_problem(await client.get("/v1/audit", headers={"authorization": token_for("planner")}), 403, "forbidden")


async def test_audit_pagination_cursor(client: httpx.AsyncClient, token_for: Any) -> None:
    auth = {"authorization": token_for("planner")}
    for i in range(5):
        await client.post("/v1/things", json={"code": f"P{i}", "name": "x"}, headers=auth)
    reader = {"authorization": token_for("auditor")}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/audit", params=params, headers=reader)).json()
        seen += [e["entity_id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["P4", "P3", "P2", "P1", "P0"]
    is_problem(await client.get("/v1/audit", params={"cursor": "!!"}, headers=reader), 400, "invalid-cursor")


async def test_metrics_use_route_templates(client: httpx.AsyncClient, token_for: Any) -> None:
    await client.get("/v1/things/count", headers={"authorization": token_for("admin")})
    text = (await client.get("/metrics")).text
    assert 'route="/v1/things/count"' in text
    assert 'route="/healthz"' not in text

"""The direct forms of the role gate, the request's session and its Core connection (`authorize`,
`request_session`, `request_connection`), used by the hottest reads instead of dependency injection, answer as the
injected forms do: 401 without a valid token, 403 without the role, a commit when the block ends (before the
answer), a rollback when it raises; a read's connection is the read engine's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import text

from metas_kit.auth import Principal, Reader, authorize, issue_token
from metas_kit.db import Database, SessionDep, request_connection, request_session
from metas_kit.errors import AppError, install_error_handlers

SECRET = "k" * 40
PLANNERS = frozenset({"planner"})


class Refused(AppError):
    status, type_slug, title = 409, "refused", "Refused"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handlers(app)
    app.state.db = db = Database(f"sqlite+aiosqlite:///{tmp_path}/direct.db")
    app.state.jwt_secret, app.state.jwt_issuer = SECRET, "metas"
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE note (body TEXT)"))

    @app.post("/direct/{body}")
    async def direct(body: str, request: Request) -> dict[str, str]:
        who = await authorize(request, PLANNERS)
        async with request_session(request) as session:
            await session.execute(text("INSERT INTO note VALUES (:b)"), {"b": body})
            if body == "refuse":
                raise Refused("No.")
        return {"sub": who.sub}

    @app.post("/core/{body}")
    async def core(body: str, request: Request) -> dict[str, str]:
        await authorize(request, PLANNERS)
        async with request_connection(request) as conn:
            await conn.execute(text("INSERT INTO note VALUES (:b)"), {"b": body})
            if body == "refuse-core":
                raise Refused("No.")
        return {"kept": body}

    @app.get("/core")
    async def core_read(request: Request) -> dict[str, Any]:
        await authorize(request, PLANNERS)
        async with request_connection(request) as conn:
            notes = list((await conn.execute(text("SELECT body FROM note ORDER BY body"))).scalars())
            return {"notes": notes, "read_engine": conn.engine.sync_engine is db.read_engine.sync_engine}

    @app.get("/injected")
    async def injected(who: Reader) -> dict[str, str]:
        return {"sub": who.sub}

    @app.get("/direct")
    async def direct_read(request: Request, session: SessionDep) -> dict[str, list[str]]:
        await authorize(request, PLANNERS)
        return {"notes": list((await session.execute(text("SELECT body FROM note ORDER BY body"))).scalars())}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c
    await db.dispose()


def bearer(*roles: str) -> dict[str, str]:
    return {"authorization": "Bearer " + issue_token(Principal("ana", frozenset(roles)), SECRET)}


async def test_the_direct_gate_refuses_as_the_injected_one(client: httpx.AsyncClient) -> None:
    for path in ("/direct/x", "/injected"):
        method = "POST" if path.startswith("/direct") else "GET"
        none = await client.request(method, path)
        forged = await client.request(method, path, headers={"authorization": "Bearer not.a.token"})
        assert none.status_code == forged.status_code == 401
        assert none.headers["content-type"] == "application/problem+json"
    wrong = await client.post("/direct/x", headers=bearer("registrar"))
    assert wrong.status_code == 403
    assert "planner" in wrong.json()["detail"]


async def test_the_direct_session_commits_at_the_end_and_rolls_back_on_a_refusal(client: httpx.AsyncClient) -> None:
    ok = await client.post("/direct/kept", headers=bearer("planner"))
    assert ok.status_code == 200
    assert ok.json() == {"sub": "ana"}
    refused = await client.post("/direct/refuse", headers=bearer("planner"))
    assert refused.status_code == 409
    notes = await client.get("/direct", headers=bearer("planner"))
    assert notes.json() == {"notes": ["kept"]}  # the refused request's insert was rolled back


async def test_the_direct_connection_commits_at_the_end_and_rolls_back_on_a_refusal(client: httpx.AsyncClient) -> None:
    ok = await client.post("/core/core-kept", headers=bearer("planner"))
    assert ok.status_code == 200
    refused = await client.post("/core/refuse-core", headers=bearer("planner"))
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await client.get("/core")).status_code == 401
    notes = await client.get("/core", headers=bearer("planner"))
    # the refused request's insert was rolled back; the read ran on the read engine
    assert notes.json() == {"notes": ["core-kept"], "read_engine": True}

"""Through a real app built by the kit's factory: whatever a caller sends in the fields, cursors and precondition
headers the kit parses, the answer is the value accepted exactly as sent or a 4xx problem — never a 5xx."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Body, Request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from metas_kit.app import create_service_app
from metas_kit.auth import Reader
from metas_kit.bounds import JsonObject, Note
from metas_kit.etag import require_if_match
from metas_kit.numbers import MEASURE, Measure, Money, parse_decimal
from metas_kit.pagination import PageDep
from metas_kit.settings import ServiceSettings
from metas_kit.timestamps import Instant

CURRENT = '"thing-1-v3"'


class Inputs(BaseModel):
    amount: Money | None = None
    value: Measure | None = None
    note: Note | None = None
    payload: JsonObject | None = None
    until: Instant | None = None


router = APIRouter(prefix="/v1")


@router.post("/inputs")
async def inputs(body: Inputs, _who: Reader) -> Inputs:
    return body


@router.post("/payload")
async def payload(_who: Reader, body: Any = Body(...)) -> dict[str, str]:
    # a free-form payload parsed by hand, as execution does: the grammar's error becomes a 422 naming the field
    value = body.get("numerator") if isinstance(body, dict) else body
    return {"numerator": str(parse_decimal(value, MEASURE, "payload.numerator"))}


@router.get("/page")
async def page(page: PageDep, _who: Reader) -> dict[str, Any]:
    return {"cursor": page.cursor}


@router.put("/guarded")
async def guarded(request: Request, _who: Reader) -> dict[str, str]:
    require_if_match(request, CURRENT)
    return {"ok": "yes"}


@pytest.fixture(scope="module")
async def client(
    tmp_path_factory: pytest.TempPathFactory, jwt_secret: str, token_for: Any
) -> AsyncIterator[httpx.AsyncClient]:
    db = Path(tmp_path_factory.mktemp("never5xx")) / "x.db"
    app = create_service_app(
        name="never5xx",
        settings=ServiceSettings(database_url=f"sqlite+aiosqlite:///{db}", jwt_secret=jwt_secret),
        routers=[router],
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers={"authorization": token_for("viewer")}
        ) as c:
            yield c


def _problem_or(resp: Any, ok: int = 200) -> bool:
    """True when accepted; otherwise assert it is a 4xx problem+json."""
    if resp.status_code == ok:
        return True
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:300])
    assert resp.headers["content-type"] == "application/problem+json"
    return False


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    json_scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=30
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(field=st.sampled_from(["amount", "value", "note", "payload", "until"]), value=json_values)
async def test_body_fields(client: httpx.AsyncClient, field: str, value: Any) -> None:
    try:
        raw = json.dumps({field: value}, allow_nan=True)
    except ValueError:
        return
    resp = await client.post("/v1/inputs", content=raw, headers={"content-type": "application/json"})
    if _problem_or(resp):
        echoed = resp.json()[field]
        if value is None:
            assert echoed is None
        elif field in ("amount", "value"):
            assert echoed == (value if isinstance(value, str) else str(value))  # exactly as sent
        elif field in ("note", "payload"):
            assert echoed == value
        else:
            assert echoed.endswith("Z")


@SETTINGS
@given(value=json_values)
async def test_hand_parsed_payload_numbers(client: httpx.AsyncClient, value: Any) -> None:
    resp = await client.post(
        "/v1/payload", content=json.dumps({"numerator": value}), headers={"content-type": "application/json"}
    )
    if _problem_or(resp):
        assert resp.json()["numerator"] == str(value)
    elif resp.status_code == 422:
        assert resp.json()["errors"][0]["path"] in ("payload.numerator", "body")


@SETTINGS
@given(cursor=st.text(max_size=300))
async def test_cursors(client: httpx.AsyncClient, cursor: str) -> None:
    resp = await client.get("/v1/page", params={"cursor": cursor})
    if _problem_or(resp):
        assert cursor == ""  # nothing but "no cursor" is accepted without a signature


@SETTINGS
@given(header=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80))
async def test_if_match(client: httpx.AsyncClient, header: str) -> None:
    resp = await client.put("/v1/guarded", headers={"if-match": header})
    if _problem_or(resp):
        assert CURRENT in header

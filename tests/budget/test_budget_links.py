"""Sub-investment -> planning initiative links, against the real planning service (in process, seeded
with data/plans) — respx only to inject planning failures."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
import yaml
from fastapi import FastAPI

from metas_clients.planning import PlanningClient
from metas_kit.http import make_client

PLANS = Path(__file__).resolve().parents[2] / "data" / "plans"
OTHER_PLAN = "sedese-2024-quar"


@pytest.fixture(scope="module")
async def planning_app(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> AsyncIterator[FastAPI]:
    from metas_kit.migrations import upgrade_head
    from planning.app import ALEMBIC_INI, create_app
    from planning.seed import load
    from planning.settings import Settings

    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('planning') / 'planning.db'}"
    await asyncio.to_thread(upgrade_head, ALEMBIC_INI, url)
    await load(PLANS, url)
    # the II plan under another organisation: the same initiative codes, not the budget's organisation
    other = tmp_path_factory.mktemp("other-plans")
    doc = yaml.safe_load((PLANS / "ii-2024-quar.yaml").read_text(encoding="utf-8"))
    doc["organisation"]["code"], doc["plan"]["id"] = "sedese", OTHER_PLAN
    (other / "copy.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    await load(other, url)
    app = create_app(Settings(database_url=url, jwt_secret=jwt_secret, log_json=False, log_level="WARNING"))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="module")
async def linked_api(
    db_url: str, planning_app: FastAPI, jwt_secret: str, budget_app_factory: Any
) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = budget_app_factory(db_url)
    # the budget service's planning client (service token, request id), over an in-process transport
    http = make_client(
        "http://planning.test",
        service_name="budget",
        jwt_secret=jwt_secret,
        transport=httpx.ASGITransport(app=planning_app),
    )
    app.state.planning_client = PlanningClient(http)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://budget.test") as c:
            yield c


async def test_link_an_existing_initiative(
    linked_api: httpx.AsyncClient, writer: dict[str, str], reader: dict[str, str]
) -> None:
    resp = await linked_api.post(
        "/v1/budget/subinvestments/1.1/initiatives",  # Anexo 4 code of 1.1.1
        json={"plan_id": "ii-2024-quar", "initiative_code": "DAD-01"},
        headers=writer,
    )
    assert resp.status_code == 201, resp.text
    link = resp.json()
    assert (link["subinvestment"], link["plan_id"], link["initiative_code"]) == ("1.1.1", "ii-2024-quar", "DAD-01")
    assert link["initiative_name"]
    # RFC 3339 with an offset on both backends (SQLite hands back a naive datetime)
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", link["created_at"])
    again = await linked_api.post(
        "/v1/budget/subinvestments/1.1.1/initiatives",
        json={"plan_id": "ii-2024-quar", "initiative_code": "DAD-01"},
        headers=writer,
    )
    assert again.status_code == 200  # linking twice changes nothing
    sub = (await linked_api.get("/v1/budget/subinvestments/1.1.1", headers=reader)).json()
    assert [(i["plan_id"], i["initiative_code"]) for i in sub["initiatives"]] == [("ii-2024-quar", "DAD-01")]
    report = await linked_api.get(
        "/v1/budget/reports/planned-vs-executed", params={"group_by": "subinvestment", "year": 2024}, headers=reader
    )
    rows = {r["subinvestment"]: r for r in report.json()["rows"]}
    assert rows["1.1.1"]["initiatives"] == [{"plan_id": "ii-2024-quar", "initiative_code": "DAD-01"}]
    assert rows["1.1.1"]["planned"] == "10599782.00"  # Tabela 19 1.1.1 2024
    assert rows["1.1.2"]["initiatives"] == []
    csv_text = (
        await linked_api.get(
            "/v1/budget/reports/planned-vs-executed",
            params={"group_by": "subinvestment", "year": 2024, "format": "csv"},
            headers=reader,
        )
    ).text
    assert csv_text.splitlines()[0].endswith(",initiatives")
    assert any(line.startswith("1.1.1,") and line.endswith(",ii-2024-quar:DAD-01") for line in csv_text.splitlines())


async def test_unknown_initiative_refused(linked_api: httpx.AsyncClient, writer: dict[str, str]) -> None:
    resp = await linked_api.post(
        "/v1/budget/subinvestments/1.1.2/initiatives",
        json={"plan_id": "ii-2024-quar", "initiative_code": "NOPE-99"},
        headers=writer,
    )
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["path"] == "initiative_code"


async def test_an_initiative_of_another_organisations_plan_is_not_linked(
    linked_api: httpx.AsyncClient, writer: dict[str, str], reader: dict[str, str]
) -> None:
    # planning is read with the service identity, which sees every plan; the link still must not cross
    # from the budget's organisation (ii) to another's, even by a budget officer with installation-wide rights
    resp = await linked_api.post(
        "/v1/budget/subinvestments/1.1.3/initiatives",
        json={"plan_id": OTHER_PLAN, "initiative_code": "DAD-01"},
        headers=writer,
    )
    assert resp.status_code == 422, resp.text
    assert resp.json()["errors"][0]["path"] == "initiative_code"
    links = await linked_api.get("/v1/budget/initiative-links", params={"plan_id": OTHER_PLAN}, headers=reader)
    assert links.json()["items"] == []
    same = await linked_api.post(
        "/v1/budget/subinvestments/1.1.3/initiatives",
        json={"plan_id": "ii-2024-quar", "initiative_code": "DAD-01"},
        headers=writer,
    )
    assert same.status_code == 201, same.text


async def test_link_and_unlink_replay_with_the_same_key(
    linked_api: httpx.AsyncClient, writer: dict[str, str], reader: dict[str, str]
) -> None:
    body = {"plan_id": "ii-2024-quar", "initiative_code": "DAD-02"}
    keyed = {**writer, "idempotency-key": "k-link"}
    first = await linked_api.post("/v1/budget/subinvestments/1.2.2/initiatives", json=body, headers=keyed)
    assert first.status_code == 201, first.text
    again = await linked_api.post("/v1/budget/subinvestments/1.2.2/initiatives", json=body, headers=keyed)
    assert (again.status_code, again.json(), again.headers["idempotent-replayed"]) == (201, first.json(), "true")
    other = await linked_api.post(
        "/v1/budget/subinvestments/1.2.2/initiatives", json={**body, "initiative_code": "DAD-03"}, headers=keyed
    )
    assert other.status_code == 422
    url = "/v1/budget/subinvestments/1.2.2/initiatives/ii-2024-quar/DAD-02"
    keyed = {**writer, "idempotency-key": "k-unlink"}
    assert (await linked_api.delete(url, headers=keyed)).status_code == 204
    replay = await linked_api.delete(url, headers=keyed)
    assert (replay.status_code, replay.headers["idempotent-replayed"]) == (204, "true")
    links = await linked_api.get("/v1/budget/subinvestments/1.2.2/initiatives", headers=reader)
    assert links.json()["items"] == []


async def test_planning_unreachable_is_503_and_nothing_stored(
    api: httpx.AsyncClient, writer: dict[str, str], reader: dict[str, str]
) -> None:
    with respx.mock(base_url="http://planning.test", assert_all_called=True) as mock:
        mock.get("/v1/plans/ii-2024-quar").mock(side_effect=httpx.ConnectError("refused"))
        resp = await api.post(
            "/v1/budget/subinvestments/1.2.1/initiatives",
            json={"plan_id": "ii-2024-quar", "initiative_code": "DAD-02"},
            headers=writer,
        )
    assert resp.status_code == 503
    assert resp.headers["content-type"].startswith("application/problem+json")
    links = await api.get("/v1/budget/subinvestments/1.2.1/initiatives", headers=reader)
    assert links.json()["items"] == []


async def test_planning_error_is_502(api: httpx.AsyncClient, writer: dict[str, str]) -> None:
    with respx.mock(base_url="http://planning.test", assert_all_called=True) as mock:
        mock.get("/v1/plans/ii-2024-quar").mock(return_value=httpx.Response(500))
        resp = await api.post(
            "/v1/budget/subinvestments/1.2.1/initiatives",
            json={"plan_id": "ii-2024-quar", "initiative_code": "DAD-03"},
            headers=writer,
        )
    assert resp.status_code == 502


def assert_problem_422(resp: httpx.Response, path: str) -> None:
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert (body["status"], body["type"].rsplit("/", 1)[-1]) == (422, "validation-error")
    assert path in [e["path"] for e in body["errors"]], body


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"plan_id": "II-2024-QUAR", "initiative_code": "DAD-01"}, "body.plan_id"),  # not planning's slug
        ({"plan_id": "ii.2024", "initiative_code": "DAD-01"}, "body.plan_id"),
        ({"plan_id": "ii-2024-quar", "initiative_code": "D" * 65}, "body.initiative_code"),
    ],
)
async def test_ids_planning_would_refuse_are_422_not_502(
    linked_api: httpx.AsyncClient, writer: dict[str, str], body: dict[str, str], path: str
) -> None:
    # Planning answers 422 for ids outside its formats; forwarded, that was an "upstream error" 502 here.
    resp = await linked_api.post("/v1/budget/subinvestments/1.1.2/initiatives", json=body, headers=writer)
    assert_problem_422(resp, path)


class RawPathRecorder(httpx.AsyncBaseTransport):
    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.raw_paths: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.raw_paths.append(request.url.raw_path)
        return await self.inner.handle_async_request(request)


async def test_planning_client_percent_encodes_ids(planning_app: FastAPI, jwt_secret: str) -> None:
    transport = RawPathRecorder(planning_app)
    client = PlanningClient(make_client("http://planning.test", transport=transport, jwt_secret=jwt_secret))
    try:
        # a `/` stays inside the plan id and `#` inside the code: planning finds no such initiative (404 → None)
        assert await client.initiative("ii-2024-quar/x", "DAD-01#y") is None
        assert transport.raw_paths == [b"/v1/plans/ii-2024-quar%2Fx/initiatives/DAD-01%23y"]
        found = await client.initiative("ii-2024-quar", "DAD-01")
        assert found is not None
        assert found["code"] == "DAD-01"
    finally:
        await client.aclose()

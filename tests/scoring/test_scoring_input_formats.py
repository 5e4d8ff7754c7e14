"""Regression tests of contract findings (team findings.md items 1, 6 and 8): a plan id, item code, version
or period outside the formats planning and execution accept is a documented 422 problem naming the field —
never a 500 (httpx.InvalidURL from a control character in the URL) nor a 502 (a `/` that changed planning's
route, or an upstream refusing the value). The clients percent-encode the id into the upstream URL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from scoring_support import PLANNER, QUAR, SECRET, VIEWER, Service

from metas_clients.planning import PlanningClient
from metas_kit.errors import AppError
from metas_kit.http import make_client

INT32_MAX = 2**31 - 1


def assert_problem_422(res: httpx.Response, path: str) -> None:
    assert res.status_code == 422, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = res.json()
    assert (body["status"], body["type"].rsplit("/", 1)[-1]) == (422, "validation-error")
    assert path in [e["path"] for e in body["errors"]], body


@pytest.mark.parametrize(
    "body",
    [
        {"plan_id": "N\U0001b936/\U0005f272", "period_to": "6434-11"},  # item 1: was 502 (the / changed the route)
        {"plan_id": "\x1dplan"},  # item 1: was 500 (httpx.InvalidURL)
        {"plan_id": "¥ó\x01äq~Ö\x97*¯", "as_of": None, "n1": None},  # item 6: was 500
        {"plan_id": "II-2024-QUAR"},  # not a slug: planning cannot hold it
        {"plan_id": "a" * 65},
    ],
)
async def test_evaluation_with_a_plan_id_outside_the_slug_format_is_422(service: Service, body: dict[str, Any]) -> None:
    res = await service.http.post("/v1/evaluations", json=body, headers=PLANNER)
    assert_problem_422(res, "body.plan_id")


async def test_simulation_with_a_control_character_in_the_plan_id_is_422(service: Service) -> None:
    # findings.md item 8: was 500 (httpx.InvalidURL).
    body = {"plan_id": "F\x14\U000c42a7", "use_registrations": True}
    assert_problem_422(await service.http.post("/v1/simulations", json=body, headers=VIEWER), "body.plan_id")
    inverse = {"plan_id": QUAR, "item_code": "Ind/1\x00", "target": {"value": "100"}}
    assert_problem_422(
        await service.http.post("/v1/simulations:inverse", json=inverse, headers=VIEWER), "body.item_code"
    )


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"plan_id": QUAR, "version": INT32_MAX + 1}, "body.version"),  # planning stores INTEGER versions
        ({"plan_id": QUAR, "period_to": "0789-02"}, "body.period_to"),  # execution's periods start in 1900
    ],
)
async def test_values_the_upstreams_would_refuse_are_422_here(
    service: Service, body: dict[str, Any], path: str
) -> None:
    assert_problem_422(await service.http.post("/v1/evaluations", json=body, headers=PLANNER), path)


async def test_a_well_formed_unknown_plan_is_still_404(service: Service) -> None:
    res = await service.http.post("/v1/evaluations", json={"plan_id": "nope-2099"}, headers=PLANNER)
    assert res.status_code == 404, res.text
    assert res.headers["content-type"].startswith("application/problem+json")


async def test_listing_filter_and_item_path_use_the_same_formats(service: Service) -> None:
    assert_problem_422(await service.http.get("/v1/evaluations?plan_id=%00x", headers=VIEWER), "query.plan_id")
    res = await service.http.get("/v1/evaluations/some-id/items/%1Dx", headers=VIEWER)
    assert_problem_422(res, "path.item_code")


class RawPathRecorder(httpx.AsyncBaseTransport):
    """The real planning app behind a transport that records the raw path of each request."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.raw_paths: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.raw_paths.append(request.url.raw_path)
        return await self.inner.handle_async_request(request)


async def test_planning_client_percent_encodes_the_plan_id(planning_app: FastAPI) -> None:
    # Defence in depth under the schema: an id with a separator, a fragment mark or a control character stays
    # one path segment (no other route of planning, no httpx.InvalidURL).
    transport = RawPathRecorder(planning_app)
    client = PlanningClient(make_client("http://planning.test", transport=transport, jwt_secret=SECRET))
    try:
        with pytest.raises(AppError):
            await client.tree("a/b#c\x1d")
        assert transport.raw_paths == [b"/v1/plans/a%2Fb%23c%1D/tree"]
        assert (await client.tree(QUAR)).document["plan"]["id"] == QUAR
    finally:
        await client.aclose()

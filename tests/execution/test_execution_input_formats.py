"""Regression tests of contract finding 7 (team findings.md) and its kin: a period outside the domain's range
(years 1900-9999), a plan id that is not planning's slug or an id beyond BIGINT is a documented 422 problem
naming the parameter — never a 500 from ``InvalidPeriod`` escaping a router. The planning client
percent-encodes the plan id into the upstream URL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from execution_support import ADMIN, IPSM, PLANNER, REG_DS, SECRET, VIEWER, Service
from fastapi import FastAPI

from metas_clients.planning import PlanningClient
from metas_kit.errors import AppError
from metas_kit.http import make_client

PLANS = "/v1/plans"


def assert_problem_422(res: httpx.Response, path: str) -> None:
    assert res.status_code == 422, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = res.json()
    assert (body["status"], body["type"].rsplit("/", 1)[-1]) == (422, "validation-error")
    assert path in [e["path"] for e in body["errors"]], body


async def test_status_of_a_period_before_1900_is_422(svc: Service) -> None:
    # findings.md item 7: `period=0789-02` reached Period.parse (InvalidPeriod: period out of range) → 500.
    res = await svc.http.get(f"{PLANS}/{IPSM}/status", params={"period": "0789-02", "limit": 1}, headers=VIEWER)
    assert_problem_422(res, "query.period")
    # The first year of the range parses; the acordo cycle (2014) owes nothing in 1900-01.
    ok = await svc.http.get(f"{PLANS}/{IPSM}/status", params={"period": "1900-01"}, headers=VIEWER)
    assert ok.status_code == 200, ok.text
    assert ok.json()["items"] == []


@pytest.mark.parametrize(
    ("method", "url", "path"),
    [
        ("GET", f"{PLANS}/{IPSM}/registrations/current?period_to=0789-02", "query.period_to"),
        ("GET", f"{PLANS}/{IPSM}/registrations?period=0789-02", "query.period"),
        ("GET", f"{PLANS}/{IPSM}/registrations/DS-I1/0789-02", "path.period"),
        ("PUT", f"{PLANS}/{IPSM}/registrations/DS-I1/0789-02", "path.period"),  # was 500 via owed_period
        ("GET", f"{PLANS}/{IPSM}/locks/1899-12/exceptions", "path.period"),
    ],
)
async def test_periods_outside_the_domain_range_are_422(svc: Service, method: str, url: str, path: str) -> None:
    res = await svc.http.request(method, url, json={"payload": {"value": 1}}, headers=ADMIN)
    assert_problem_422(res, path)


async def test_settings_catch_up_before_1900_is_422(svc: Service) -> None:
    res = await svc.http.put(
        f"{PLANS}/{IPSM}/registration-settings", json={"catch_up_through": "0789-02"}, headers=PLANNER
    )
    assert_problem_422(res, "body.catch_up_through")


@pytest.mark.parametrize("plan_id", ["IPSM-2014-ACORDO", "%1Dplan", "ipsm.2014", "a" * 65])
async def test_plan_id_outside_planning_slug_format_is_422(svc: Service, plan_id: str) -> None:
    for url in (f"{PLANS}/{plan_id}/registrations", f"{PLANS}/{plan_id}/status", f"{PLANS}/{plan_id}/deadlines"):
        assert_problem_422(await svc.http.get(url, headers=VIEWER), "path.plan_id")
    put = await svc.http.put(f"{PLANS}/{plan_id}/registrations/DS-I1/2014-01", json={"payload": {}}, headers=REG_DS)
    assert_problem_422(put, "path.plan_id")


async def test_lock_exception_id_beyond_bigint_is_422(svc: Service) -> None:
    url = f"{PLANS}/{IPSM}/locks/2014-01/exceptions/{2**63}"
    assert_problem_422(await svc.http.delete(url, headers=ADMIN), "path.exception_id")
    missing = await svc.http.delete(f"{PLANS}/{IPSM}/locks/2014-01/exceptions/{2**63 - 1}", headers=ADMIN)
    assert missing.status_code == 404, missing.text


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("term?start=9999-12-30&days=5", "start"),  # counting ran past date.max: OverflowError → 500
        ("duration?start=9999-12-30&end=9999-12-31", "end"),  # moving the end to a business day overflowed
    ],
)
async def test_procedural_counting_past_the_last_date_is_422(svc: Service, query: str, path: str) -> None:
    res = await svc.http.get(f"{PLANS}/{IPSM}/calendar/{query}", headers=VIEWER)
    assert_problem_422(res, path)


class RawPathRecorder(httpx.AsyncBaseTransport):
    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.raw_paths: list[bytes] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.raw_paths.append(request.url.raw_path)
        return await self.inner.handle_async_request(request)


async def test_planning_client_percent_encodes_the_plan_id(planning_app: FastAPI) -> None:
    transport = RawPathRecorder(planning_app)
    client = PlanningClient(
        make_client("http://planning.test", transport=transport, jwt_secret=SECRET, service_name="execution")
    )
    try:
        with pytest.raises(AppError):  # planning refuses the id; no httpx.InvalidURL, no other route
            await client.tree("a/b#c\x1d")
        assert transport.raw_paths == [b"/v1/plans/a%2Fb%23c%1D/tree"]
    finally:
        await client.aclose()
    real = PlanningClient(
        make_client(
            "http://planning.test",
            transport=httpx.ASGITransport(app=planning_app),
            jwt_secret=SECRET,
            service_name="execution",
        )
    )
    assert (await real.tree(IPSM)).document["plan"]["id"] == IPSM
    await real.aclose()

"""Regression tests of contract findings (team findings.md items 2 and 5): identifiers and version numbers
outside their documented formats are a documented 422 problem (never a 500 from the database), and the
YAML export's content type is one the OpenAPI document declares."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import yaml
from planning_api import PLANNER, VIEWER, Api
from planning_seeds import load_plan

from planning.domain.document import parse_document

INT32_MAX = 2**31 - 1
PLAN = "ipsm-2014-acordo"


def assert_problem_422(res: httpx.Response, path: str) -> dict[str, Any]:
    assert res.status_code == 422, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = res.json()
    assert body["status"] == 422
    assert body["type"].endswith("/validation-error")
    assert path in [e["path"] for e in body["errors"]], body
    return body


async def test_version_number_beyond_int32_is_422_not_500(api: Api) -> None:
    # findings.md item 2: asyncpg refused -25426532541 ("value out of int32 range") and the route answered 500.
    res = await api.client.get(f"/v1/plans/{PLAN}/versions/-25426532541", headers=VIEWER)
    assert_problem_422(res, "path.number")
    for number in (0, INT32_MAX + 1):
        assert_problem_422(await api.client.get(f"/v1/plans/{PLAN}/versions/{number}", headers=VIEWER), "path.number")
    # The largest storable number is accepted as input and is simply not found.
    missing = await api.client.get(f"/v1/plans/{PLAN}/versions/{INT32_MAX}", headers=VIEWER)
    assert missing.status_code == 404, missing.text


@pytest.mark.parametrize(
    "url",
    [
        f"/v1/plans/{PLAN}/tree?version={INT32_MAX + 1}",
        f"/v1/plans/{PLAN}/export?version={INT32_MAX + 1}",
        f"/v1/plans/{PLAN}/indicators?version={INT32_MAX + 1}",
        f"/v1/plans/{PLAN}/indicators/I1?version=-25426532541",
    ],
)
async def test_version_query_beyond_int32_is_422(api: Api, url: str) -> None:
    assert_problem_422(await api.client.get(url, headers=VIEWER), "query.version")


@pytest.mark.parametrize(
    ("plan_id", "why"),
    [("N%F0%9B%A4%B6", "non-ASCII"), ("%1Dplan", "control character"), ("IPSM-2014", "upper case"), ("a" * 65, "long")],
)
async def test_plan_id_outside_the_slug_format_is_422(api: Api, plan_id: str, why: str) -> None:
    for url in (f"/v1/plans/{plan_id}", f"/v1/plans/{plan_id}/tree", f"/v1/plans/{plan_id}/indicators"):
        assert_problem_422(await api.client.get(url, headers=VIEWER), "path.plan_id")


async def test_item_code_and_organisation_code_formats_are_422(api: Api) -> None:
    assert_problem_422(await api.client.get(f"/v1/plans/{PLAN}/indicators/%00x", headers=VIEWER), "path.code")
    assert_problem_422(await api.client.get(f"/v1/plans/{PLAN}/indicators/{'I' * 65}", headers=VIEWER), "path.code")
    assert_problem_422(await api.client.get("/v1/organisations/IPSM", headers=VIEWER), "path.code")


async def test_yaml_export_content_type_is_documented(api: Api) -> None:
    # findings.md item 5: the export answered application/yaml but documented only application/json.
    imported = await api.client.post("/v1/plans:import", json=load_plan(PLAN), headers=PLANNER)
    assert imported.status_code == 201, imported.text
    res = await api.client.get(f"/v1/plans/{PLAN}/export", params={"format": "yaml"}, headers=VIEWER)
    assert res.status_code == 200
    media_type = res.headers["content-type"].split(";")[0]
    assert media_type == "application/yaml"
    documented = api.app.openapi()["paths"]["/v1/plans/{plan_id}/export"]["get"]["responses"]["200"]["content"]
    assert set(documented) == {"application/json", "application/yaml"}
    # Both carry the plan document (a YAML body is read as the data it holds, not as a string).
    plan_document = {"$ref": "#/components/schemas/PlanDocument"}
    assert documented["application/yaml"]["schema"] == documented["application/json"]["schema"] == plan_document
    assert parse_document(yaml.safe_load(res.text)).plan.id == PLAN
    as_json = await api.client.get(f"/v1/plans/{PLAN}/export", headers=VIEWER)
    assert as_json.headers["content-type"].split(";")[0] in documented

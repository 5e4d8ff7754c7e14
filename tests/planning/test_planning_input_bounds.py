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


# ---- issue 17: the number grammar, bounded text and dates in the plan document, tamper-proof cursors ----


def _with_indicator(**fields: Any) -> dict[str, Any]:
    doc = load_plan(PLAN)
    doc["indicators"][0].update(fields)
    return doc


async def _refused(api: Api, doc: dict[str, Any], path: str) -> dict[str, Any]:
    res = await api.client.post("/v1/plans:import", json=doc, headers=PLANNER)
    assert res.status_code == 422, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = res.json()
    assert path in [e["path"] for e in body["errors"]], body["errors"][:5]
    # nothing stored: the plan does not exist
    assert (await api.client.get(f"/v1/plans/{PLAN}", headers=VIEWER)).status_code == 404
    return body


@pytest.mark.parametrize(
    "meta",
    [
        "1e30",
        "1E+999999999999",
        "1e-999999",
        "9" * 4000,
        "\u0661\u0662\u0663",  # Arabic-Indic digits
        "\uff11\uff12\uff13",  # full-width digits
        "1_000",
        " 5 \n",
        "NaN",
        "Infinity",
        "0x10",
        "5.",
        ".5",
        "005",  # Decimal would keep it as 5: not as sent
        12.5,  # a JSON number with a fraction: the digits as sent are gone
        True,
    ],
)
async def test_a_meta_outside_the_number_grammar_is_422_naming_it(api: Api, meta: Any) -> None:
    await _refused(api, _with_indicator(meta=meta), "indicators[0].meta")


@pytest.mark.parametrize(
    ("field", "value"),
    [("tolerance", "1e3"), ("critical_value", "1,5"), ("weight", "10.001"), ("weight", "-5"), ("weight", "101")],
)
async def test_tolerances_critical_values_and_weights_follow_the_grammar(api: Api, field: str, value: str) -> None:
    await _refused(api, _with_indicator(**{field: value}), f"indicators[0].{field}")


async def test_reference_values_follow_the_grammar(api: Api) -> None:
    await _refused(api, _with_indicator(reference_values={"2013": "1e5"}), "indicators[0].reference_values.2013")


async def test_decimals_are_stored_exactly_as_sent(api: Api) -> None:
    doc = _with_indicator(meta="2.30", tolerance="0.500000", critical_value="-1.5")
    doc["indicators"][0]["reference_values"] = {"2013": "007.5"}
    await _refused(api, doc, "indicators[0].reference_values.2013")
    doc["indicators"][0]["reference_values"] = {"2013": "7.50"}
    res = await api.client.post("/v1/plans:import", json=doc, headers=PLANNER)
    assert res.status_code == 201, res.text
    stored = (
        await api.client.get(f"/v1/plans/{PLAN}/indicators/{doc['indicators'][0]['code']}", headers=VIEWER)
    ).json()
    assert (stored["meta"], stored["tolerance"], stored["critical_value"]) == ("2.30", "0.500000", "-1.5")
    assert stored["reference_values"] == {"2013": "7.50"}
    # a JSON integer is a decimal too, kept as its digits
    assert (await api.client.post("/v1/plans:import", json=_with_indicator(meta=5), headers=PLANNER)).status_code == 200


async def test_an_indicator_name_of_a_megabyte_is_422(api: Api) -> None:
    body = await _refused(api, _with_indicator(name="x" * 1_000_000), "indicators[0].name")
    assert len(str(body)) < 20_000  # the refusal does not echo the megabyte back


@pytest.mark.parametrize(
    ("path", "mutate"),
    [
        ("indicators[0].formula", lambda d: d["indicators"][0].update(formula="f" * 10_001)),
        ("units[0].name", lambda d: d["units"][0].update(name="")),
        ("plan.title", lambda d: d["plan"].update(title="a\x00b")),
        ("organisation.as_printed", lambda d: d["organisation"].update(as_printed={str(i): "x" for i in range(201)})),
        ("products[0].due_date", lambda d: d["products"][0].update(due_date="9999-12-31")),
        ("plan.issued_on", lambda d: d["plan"].update(issued_on="1066-10-14")),
    ],
)
async def test_text_objects_and_dates_are_bounded(api: Api, path: str, mutate: Any) -> None:
    doc = load_plan(PLAN)
    mutate(doc)
    await _refused(api, doc, path)


@pytest.mark.parametrize(
    "cursor",
    ["abc", "eyJpZCI6IngifQ", "e30", "x" * 3000, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["],
)
async def test_tampered_cursors_are_a_400_problem(api: Api, cursor: str) -> None:
    assert (await api.client.post("/v1/plans:import", json=load_plan(PLAN), headers=PLANNER)).status_code == 201
    for url in ("/v1/plans", "/v1/organisations", f"/v1/plans/{PLAN}/indicators"):
        res = await api.client.get(url, params={"cursor": cursor}, headers=VIEWER)
        assert res.status_code in (400, 422), (url, res.status_code, res.text[:200])
        assert res.headers["content-type"].startswith("application/problem+json")
    # a cursor issued for one list is not accepted by another (its fields do not match)
    page = (await api.client.get("/v1/plans", params={"limit": 1}, headers=VIEWER)).json()
    issued = (await api.client.get(f"/v1/plans/{PLAN}/indicators", params={"limit": 1}, headers=VIEWER)).json()
    assert page["next_cursor"] is None
    other = await api.client.get("/v1/organisations", params={"cursor": issued["next_cursor"]}, headers=VIEWER)
    assert other.status_code == 400


async def test_unquoted_yaml_decimals_are_kept_as_written(api: Api) -> None:
    doc = _with_indicator(meta="2.30")
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).replace("meta: '2.30'", "meta: 2.30", 1)
    assert "meta: 2.30\n" in text
    res = await api.client.post(
        "/v1/plans:import", content=text.encode(), headers={**PLANNER, "content-type": "application/yaml"}
    )
    assert res.status_code == 201, res.text
    code = doc["indicators"][0]["code"]
    assert (await api.client.get(f"/v1/plans/{PLAN}/indicators/{code}", headers=VIEWER)).json()["meta"] == "2.30"


async def test_item_bodies_are_bounded_free_form_objects(api: Api) -> None:
    created = await api.client.post("/v1/plans:import", json=load_plan(PLAN), headers=PLANNER)
    headers = {**PLANNER, "if-match": created.headers["etag"]}
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(300):
        node["a"] = {}
        node = node["a"]
    for method, url in (("PATCH", f"/v1/plans/{PLAN}/units/DS"), ("POST", f"/v1/plans/{PLAN}/units")):
        res = await api.client.request(method, url, json={"name": "x", "as_printed": deep}, headers=headers)
        assert res.status_code == 422, res.text[:300]
        assert res.headers["content-type"].startswith("application/problem+json")
    assert (await api.client.get(f"/v1/plans/{PLAN}/versions/1", headers=VIEWER)).headers["etag"] == created.headers[
        "etag"
    ]

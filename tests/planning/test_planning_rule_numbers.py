"""Issue 17 regression, on both backends: a decimal inside a scoring rule of a plan document follows the one number
grammar. Off the grammar it is a 422 problem naming the parameter's path — through import, dry-run, a draft's PUT
and an item PATCH — and nothing is written; on it, the rule is stored with the text as sent."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from planning_api import PLANNER, VIEWER, Api
from planning_seeds import load_plan

PLAN = "ipsm-2014-acordo"
# The first indicator's rule is the Anexo IV general rule; its OBS2 table's first row starts at '100'.
OBS2_MIN = "indicators[0].scoring_rule.general.obs2_table.rows[0].intervals[0].min"
# The first product's delay table: band 2 (1 to 15 days late) scores '90.0'.
BAND_SCORE = "products[0].scoring_rule.delay_table.bands[1].score"
BAD = ["1e3", " 5", "\u0661\u0662\u0663", 1.5]


def _bad_doc(value: Any) -> dict[str, Any]:
    doc = load_plan(PLAN)
    doc["indicators"][0]["scoring_rule"]["obs2_table"]["rows"][0]["intervals"][0]["min"] = value
    doc["products"][0]["scoring_rule"]["bands"][1]["score"] = value
    return doc


def _assert_names(res: Any, *paths: str) -> None:
    assert res.status_code == 422, res.text[:500]
    assert res.headers["content-type"].startswith("application/problem+json")
    named = {e["path"] for e in res.json()["errors"]}
    assert set(paths) <= named, named


@pytest.mark.parametrize("value", BAD)
async def test_a_rule_decimal_off_the_grammar_is_422_naming_it(api: Api, value: Any) -> None:
    doc = _bad_doc(value)
    for dry_run in ("false", "true"):
        res = await api.client.post("/v1/plans:import", json=doc, params={"dry_run": dry_run}, headers=PLANNER)
        _assert_names(res, OBS2_MIN, BAND_SCORE)
    # YAML too: an unquoted 1.5 reaches the grammar as the text written, which is valid, so only text values here
    if isinstance(value, str):
        res = await api.client.post(
            "/v1/plans:import",
            content=yaml.safe_dump(doc, allow_unicode=True).encode(),
            headers={**PLANNER, "content-type": "application/yaml"},
        )
        _assert_names(res, OBS2_MIN, BAND_SCORE)
    assert (await api.client.get(f"/v1/plans/{PLAN}", headers=VIEWER)).status_code == 404


async def test_a_draft_keeps_its_rules_when_a_put_or_patch_is_refused(api: Api) -> None:
    created = await api.client.post("/v1/plans:import", json=load_plan(PLAN), headers=PLANNER)
    assert created.status_code == 201, created.text
    etag = created.headers["etag"]
    base = f"/v1/plans/{PLAN}"
    for value in BAD:
        put = await api.client.put(
            f"{base}/versions/1/document", json=_bad_doc(value), headers={**PLANNER, "if-match": etag}
        )
        _assert_names(put, OBS2_MIN, BAND_SCORE)
    product = load_plan(PLAN)["products"][0]
    rule = product["scoring_rule"]
    rule["partial_max"] = "5e1"
    patch = await api.client.patch(
        f"{base}/products/{product['code']}", json={"scoring_rule": rule}, headers={**PLANNER, "if-match": etag}
    )
    assert patch.status_code == 422, patch.text[:500]
    assert any(e["path"].endswith("scoring_rule.delay_table.partial_max") for e in patch.json()["errors"])
    version = await api.client.get(f"{base}/versions/1", headers=VIEWER)
    assert version.headers["etag"] == etag  # nothing written


async def test_rule_decimals_on_the_grammar_are_stored_as_sent(api: Api) -> None:
    doc = load_plan(PLAN)
    doc["products"][0]["scoring_rule"]["partial_max"] = "40.50"
    doc["indicators"][0]["scoring_rule"]["obs2_table"]["rows"][0]["intervals"][0]["min"] = 100  # a JSON integer
    assert (await api.client.post("/v1/plans:import", json=doc, headers=PLANNER)).status_code == 201
    tree = (await api.client.get(f"/v1/plans/{PLAN}/tree", headers=VIEWER)).json()
    assert tree["products"][0]["scoring_rule"]["partial_max"] == "40.50"
    assert tree["products"][0]["scoring_rule"]["bands"][1]["score"] == "90.0"
    assert tree["indicators"][0]["scoring_rule"]["obs2_table"]["rows"][0]["intervals"][0]["min"] == "100"

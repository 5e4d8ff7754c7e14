"""Bad input is a 4xx naming the field, never a 500 nor a value silently changed (issue of hardening): the kit's
number grammar on every decimal of simulations, committee decisions and rule checks; bounded texts, maps and
inline plans. Both backends (the `service` fixture)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scoring_support import IPSM, IPSM_COMMITTEE, PLANNER, QUAR, VIEWER, Service, plan_document

# Each was a 500, or stored as another value, before the grammar: exponent, overflow, NaN, underscores,
# non-ASCII digits, whitespace, a 4,000-digit number, a JSON float.
BAD_NUMBERS: list[Any] = [
    "1e30",
    "1E+999999999999",
    "1e-999999",
    "NaN",
    "Infinity",
    "1_000",
    "١٢٣",
    "１２３",
    " 5 \n",
    "9" * 4000,
    0.5,
    "",
    "--1",
    "0x10",
]


def assert_422(response: Any, path: str) -> None:
    assert response.status_code == 422, response.text[:300]
    assert response.headers["content-type"].startswith("application/problem+json")
    paths = [e["path"] for e in response.json()["errors"]]
    assert any(p.endswith(path) for p in paths), paths


@pytest.mark.parametrize("bad", BAD_NUMBERS)
async def test_simulation_numbers_follow_the_grammar(service: Service, bad: Any) -> None:
    body = {"plan_id": IPSM, "results": {"DS-I2": {"value": bad}}}
    assert_422(await service.http.post("/v1/simulations", json=body, headers=VIEWER), "results.DS-I2.value")
    composite = {"plan_id": IPSM, "results": {"DPGF-I02": {"components": {"X": bad}}}}
    assert_422(
        await service.http.post("/v1/simulations", json=composite, headers=VIEWER), "results.DPGF-I02.components.X"
    )
    inverse = {"plan_id": IPSM, "item_code": "DS-I2", "target": {"kind": "score", "value": bad}}
    assert_422(await service.http.post("/v1/simulations:inverse", json=inverse, headers=VIEWER), "target.value")
    check = {"rule": {"kind": "quar_realization"}, "meta": bad}
    assert_422(await service.http.post("/v1/rules:check", json=check, headers=VIEWER), "meta")


@pytest.mark.parametrize("bad", BAD_NUMBERS)
async def test_committee_numbers_follow_the_grammar(service: Service, bad: Any) -> None:
    partial = {"plan_id": IPSM, "committee": {"partial_scores": {"DPGF-P03": {"score": bad, "justification": "x"}}}}
    assert_422(
        await service.http.post("/v1/evaluations", json=partial, headers=PLANNER),
        "committee.partial_scores.DPGF-P03.score",
    )
    inputs = {"plan_id": IPSM, "committee": {"inputs": {"DP-P2": {"quantity": bad}}}}
    assert_422(
        await service.http.post("/v1/evaluations", json=inputs, headers=PLANNER), "committee.inputs.DP-P2.quantity"
    )
    assert_422(await service.http.post("/v1/evaluations", json={"plan_id": IPSM, "n1": bad}, headers=PLANNER), "n1")
    listed = await service.http.get("/v1/evaluations", params={"plan_id": IPSM}, headers=VIEWER)
    assert listed.json()["items"] == []  # nothing stored by any refusal


async def test_numbers_are_kept_exactly_as_sent(service: Service) -> None:
    committee = {
        **IPSM_COMMITTEE,
        "partial_scores": {"DPGF-P03": {"score": "40.50", "justification": "metade"}},
        "inputs": {**IPSM_COMMITTEE["inputs"], "DP-P2": {"quantity": "250.000"}},
    }
    created = await service.http.post(
        "/v1/evaluations",
        json={"plan_id": IPSM, "period_to": "2014-12", "n1": "90.0", "committee": committee},
        headers=PLANNER,
    )
    assert created.status_code == 201, created.text
    inputs = (await service.http.get(f"/v1/evaluations/{created.json()['id']}/inputs", headers=VIEWER)).json()
    stored = inputs["inputs"]
    assert stored["committee"]["partial_scores"]["DPGF-P03"]["score"] == "40.50"
    assert stored["committee"]["inputs"]["DP-P2"]["quantity"] == "250.000"
    assert stored["options"]["n1"] == "90.0"
    # DP-P2: 250 / 303 × 100 = 82.51 whatever the trailing zeros
    assert created.json()["results"]["products"]["DP-P2"]["value"] == "82.51"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"committee": {"causes": {"Ind.3": "x" * 4001}}}, "committee.causes.Ind.3"),
        ({"committee": {"partial_scores": {"Ind.3": {"score": "10", "justification": ""}}}}, "justification"),
        ({"committee": {"set_aside": ["Ind.1"] * 2001}}, "committee.set_aside"),
        ({"committee": {"reasons": {"Ind.1": "r" * 2001}}}, "committee.reasons.Ind.1"),
        ({"committee": {"causes": {"bad code/": "x"}}}, "[key]"),
    ],
)
async def test_texts_and_maps_are_bounded(service: Service, body: dict[str, Any], path: str) -> None:
    response = await service.http.post("/v1/evaluations", json={"plan_id": QUAR, **body}, headers=PLANNER)
    assert_422(response, path)


async def test_an_inline_plan_is_bounded_and_its_bad_figures_are_a_422(service: Service) -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(300):
        node["x"] = {}
        node = node["x"]
    nested = {"plan": {"plan": {"id": "x"}, "deep": deep}, "results": {}}
    assert_422(await service.http.post("/v1/simulations", json=nested, headers=VIEWER), "plan")
    # an inline plan's own figures are read by the engine: an overflowing meta is the plan's fault, a 422
    document = plan_document(QUAR)
    document["indicators"][0]["meta"] = "1e999999"
    response = await service.http.post(
        "/v1/simulations", json={"plan": document, "results": {"Ind.1": {"value": "100"}}}, headers=VIEWER
    )
    assert response.status_code == 422, response.text[:300]
    assert "plan.indicators[0].meta" in response.text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
async def test_any_value_is_a_score_or_a_422_never_a_500(service: Service, value: Any) -> None:
    body = {"plan_id": QUAR, "results": {"Ind.3": {"value": value}}}
    response = await service.http.post("/v1/simulations", json=body, headers=VIEWER)
    assert response.status_code in (200, 422), response.text[:300]
    if response.status_code == 200 and value is not None:
        steps = response.json()["results"]["indicators"]["Ind.3"]["steps"]
        assert steps[0]["values"]["R"] == str(value)  # read exactly as sent

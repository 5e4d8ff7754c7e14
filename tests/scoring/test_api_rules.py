"""/v1/rules: the rule schema and the static check planning's rules go through."""

from __future__ import annotations

from scoring_support import VIEWER, Service


async def test_schema_lists_every_kind(service: Service) -> None:
    response = await service.http.get("/v1/rules/schema", headers=VIEWER)
    assert response.status_code == 200
    body = response.json()
    assert set(body["kinds"]) == {
        "general",
        "ratio",
        "threshold",
        "step_table",
        "weighted_composite",
        "derived_from_teams",
        "quar_realization",
        "delay_table",
    }
    assert body["schema"]["discriminator"]["propertyName"] == "kind"


async def test_check_reports_problems_and_schema_errors(service: Service) -> None:
    ok = await service.http.post(
        "/v1/rules:check",
        json={
            "rule": {"kind": "quar_realization"},
            "polarity": "lower_is_better",
            "meta": "35",
            "tolerance": "5",
            "critical_value": "20",
        },
        headers=VIEWER,
    )
    assert ok.status_code == 200
    assert ok.json()["scorable"] is True
    assert ok.json()["rule"]["ceiling"] == "125"
    wrong_side = await service.http.post(
        "/v1/rules:check",
        json={"rule": {"kind": "quar_realization"}, "meta": "35", "tolerance": "5", "critical_value": "20"},
        headers=VIEWER,
    )
    assert wrong_side.json()["scorable"] is False
    assert "critical value" in wrong_side.json()["problems"][0]
    zero = await service.http.post("/v1/rules:check", json={"rule": {"kind": "ratio"}, "meta": "0"}, headers=VIEWER)
    assert zero.json()["problems"] == ["meta is 0: ratio result / meta would divide by zero"]
    bad = await service.http.post("/v1/rules:check", json={"rule": {"kind": "ratio", "scale": 7}}, headers=VIEWER)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"].startswith("rule.ratio.scale")

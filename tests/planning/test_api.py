"""The planning API on PostgreSQL and SQLite: seeds, import/export round-trip, idempotency,
validation problems, versions, ETags and item listings."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from planning_api import ADMIN, PLANNER, VIEWER, Api
from planning_seeds import PLANS, load_plan

from planning.domain.document import PlanDocument, dump_document
from planning.seed import load as seed_load

YAML = {"content-type": "application/yaml"}


async def import_plan(api: Api, data: dict[str, Any], **params: Any) -> Any:
    return await api.client.post("/v1/plans:import", json=data, headers=PLANNER, params=params)


def seed_yaml(name: str) -> bytes:
    return (PLANS / f"{name}.yaml").read_bytes()


async def test_seed_loader_loads_both_plans_idempotently(api: Api) -> None:
    first = await seed_load(Path(PLANS), api.url)
    assert [(r["plan_id"], r["action"], r["status"]) for r in first] == [
        ("ii-2024-quar", "create", "approved"),
        ("ipsm-2014-acordo", "create", "approved"),
    ]
    again = await seed_load(Path(PLANS), api.url)
    assert [r["action"] for r in again] == ["unchanged", "unchanged"]
    plans = (await api.client.get("/v1/plans", headers=VIEWER)).json()["items"]
    assert [(p["id"], p["current_version"], p["latest_version"]) for p in plans] == [
        ("ii-2024-quar", 1, 1),
        ("ipsm-2014-acordo", 1, 1),
    ]
    versions = (await api.client.get("/v1/plans/ipsm-2014-acordo/versions", headers=VIEWER)).json()
    assert [v["status"] for v in versions["items"]] == ["approved"]
    orgs = (await api.client.get("/v1/audit", params={"entity_type": "organisation"}, headers=ADMIN)).json()
    assert sorted((e["entity_id"], e["action"]) for e in orgs["items"]) == [
        ("ii", "organisation.create"),
        ("ipsm", "organisation.create"),
    ]
    assert (await api.client.get("/v1/organisations/ipsm", headers=VIEWER)).json()["country"] == "BR"


async def test_import_yaml_then_export_equals_import(api: Api) -> None:
    for name in ("ii-2024-quar", "ipsm-2014-acordo"):
        res = await api.client.post("/v1/plans:import", content=seed_yaml(name), headers={**PLANNER, **YAML})
        assert res.status_code == 201, res.text
        assert res.json()["action"] == "create"
        original = load_plan(name)
        as_json = await api.client.get(f"/v1/plans/{name}/export", params={"format": "json"}, headers=VIEWER)
        assert as_json.json() == original
        as_yaml = await api.client.get(f"/v1/plans/{name}/export", params={"format": "yaml"}, headers=VIEWER)
        assert as_yaml.headers["content-type"].startswith("application/yaml")
        assert yaml.safe_load(as_yaml.text) == original
        # the export imports back as the same content: nothing changes
        back = await api.client.post("/v1/plans:import", content=as_yaml.content, headers={**PLANNER, **YAML})
        assert (back.status_code, back.json()["action"]) == (200, "unchanged")


async def test_importing_the_same_document_twice_changes_nothing(api: Api) -> None:
    data = load_plan("ipsm-2014-acordo")
    first = await import_plan(api, data)
    second = await import_plan(api, data)
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["changed"] is False
    assert second.json()["etag"] == first.json()["etag"]
    versions = (await api.client.get("/v1/plans/ipsm-2014-acordo/versions", headers=VIEWER)).json()["items"]
    assert len(versions) == 1
    audit = (await api.client.get("/v1/audit", params={"entity_type": "plan"}, headers=ADMIN)).json()
    assert [e["action"] for e in audit["items"]] == ["plan.import"]  # one write, one audit event
    metrics = (await api.client.get("/metrics")).text
    assert 'metas_planning_plan_writes_total{action="create",plan="ipsm-2014-acordo"}' in metrics


async def test_dry_run_summarises_and_writes_nothing(api: Api) -> None:
    res = await import_plan(api, load_plan("ii-2024-quar"), dry_run="true")
    assert res.status_code == 201
    body = res.json()
    assert (body["dry_run"], body["action"]) == (True, "create")
    assert body["summary"]["indicators"] == 20
    assert body["summary"]["initiatives"] == 157
    assert body["summary"]["operational_objectives"] == 14
    assert any(w["code"] == "name_variant_collision" for w in body["warnings"])
    assert (await api.client.get("/v1/plans/ii-2024-quar", headers=VIEWER)).status_code == 404


async def test_invalid_document_is_refused_with_every_error(api: Api) -> None:
    data = load_plan("ipsm-2014-acordo")
    data["products"][0]["weight"] = "21"  # Procuradoria 60 + 41 = 101
    ratio = next(i for i, x in enumerate(data["indicators"]) if x["code"] == "DPGF-I05")
    data["indicators"][ratio]["meta"] = "0"
    data["indicators"][1]["code"] = data["indicators"][0]["code"]
    res = await import_plan(api, data)
    assert res.status_code == 422
    assert res.headers["content-type"] == "application/problem+json"
    problem = res.json()
    assert problem["type"].endswith("/plan-invalid")
    got = {(e["code"], e["path"]) for e in problem["errors"]}
    assert got == {
        ("weights_sum", "units[0]"),
        ("rule_problem", f"indicators[{ratio}].scoring_rule"),
        ("duplicate_code", "indicators[1].code"),
    }
    assert len(problem["warnings"]) >= 19
    assert (await api.client.get("/v1/plans/ipsm-2014-acordo", headers=VIEWER)).status_code == 404


async def test_impossible_date_is_refused_by_path(api: Api) -> None:
    data = load_plan("ipsm-2014-acordo")
    data["products"][1]["due_date"] = "2014-11-31"
    res = await import_plan(api, data)
    assert res.status_code == 422
    assert {(e["code"], e["path"]) for e in res.json()["errors"]} == {("schema", "products[1].due_date")}


async def test_viewer_cannot_import(api: Api) -> None:
    res = await api.client.post("/v1/plans:import", json=load_plan("ipsm-2014-acordo"), headers=VIEWER)
    assert res.status_code == 403


async def test_tree_etag_and_not_modified(api: Api) -> None:
    await import_plan(api, load_plan("ipsm-2014-acordo"))
    tree = await api.client.get("/v1/plans/ipsm-2014-acordo/tree", headers=VIEWER)
    assert tree.status_code == 200
    etag = tree.headers["etag"]
    assert etag.startswith('"ipsm-2014-acordo-v1-')
    assert tree.headers["x-plan-version-status"] == "draft"
    assert len(tree.json()["indicators"]) == 26
    cached = await api.client.get("/v1/plans/ipsm-2014-acordo/tree", headers={**VIEWER, "if-none-match": etag})
    assert cached.status_code == 304
    assert cached.content == b""


async def test_tree_with_a_stale_tag_or_a_missing_version(api: Api) -> None:
    await import_plan(api, load_plan("ipsm-2014-acordo"))
    path = "/v1/plans/ipsm-2014-acordo/tree"
    fresh = await api.client.get(path, headers=VIEWER)
    stale = await api.client.get(path, headers={**VIEWER, "if-none-match": '"ipsm-2014-acordo-v0-old"'})
    assert stale.status_code == 200
    assert stale.json() == fresh.json()
    for header in ("etag", "x-plan-version", "x-plan-version-status"):
        assert stale.headers[header] == fresh.headers[header]
    assert (await api.client.get(path, params={"version": 1}, headers=VIEWER)).json() == fresh.json()
    missing = await api.client.get(path, params={"version": 9}, headers=VIEWER)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Plan 'ipsm-2014-acordo' has no version 9."
    unknown = await api.client.get("/v1/plans/no-such-plan/tree", headers=VIEWER)
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "No plan 'no-such-plan'."


async def test_an_edit_that_changes_nothing_writes_nothing(api: Api) -> None:
    await import_plan(api, load_plan("ipsm-2014-acordo"))
    base = "/v1/plans/ipsm-2014-acordo"
    etag = (await api.client.get(f"{base}/versions/1", headers=VIEWER)).headers["etag"]
    current = (await api.client.get(f"{base}/indicators/DP-I1", headers=VIEWER)).json()
    audit_before = (await api.client.get("/v1/audit", headers=ADMIN)).json()
    same = await api.client.patch(
        f"{base}/indicators/DP-I1", json={"formula": current["formula"]}, headers={**PLANNER, "if-match": etag}
    )
    assert same.status_code == 200, same.text
    assert same.headers["etag"] == etag  # still valid for the next edit
    audit_after = (await api.client.get("/v1/audit", headers=ADMIN)).json()
    assert audit_after["items"] == audit_before["items"]


async def test_versions_draft_approve_revise_and_item_edits(api: Api) -> None:
    await import_plan(api, load_plan("ipsm-2014-acordo"))
    base = "/v1/plans/ipsm-2014-acordo"
    v1 = await api.client.get(f"{base}/versions/1", headers=VIEWER)
    etag1 = v1.headers["etag"]

    # a draft item edit needs If-Match: missing 428, stale 412, current 200
    patch = {"formula": "média dos dias úteis"}
    assert (await api.client.patch(f"{base}/indicators/DP-I1", json=patch, headers=PLANNER)).status_code == 428
    stale = {**PLANNER, "if-match": '"ipsm-2014-acordo-v1-stale"'}
    assert (await api.client.patch(f"{base}/indicators/DP-I1", json=patch, headers=stale)).status_code == 412
    ok = await api.client.patch(f"{base}/indicators/DP-I1", json=patch, headers={**PLANNER, "if-match": etag1})
    assert ok.status_code == 200, ok.text
    assert ok.json()["formula"] == "média dos dias úteis"
    etag1b = ok.headers["etag"]
    assert etag1b != etag1

    # an edit that breaks a team's weights is refused with the path of the broken sum
    bad = await api.client.patch(
        f"{base}/indicators/DP-I1", json={"weight": "11"}, headers={**PLANNER, "if-match": etag1b}
    )
    assert bad.status_code == 422
    assert {(e["code"], e["path"]) for e in bad.json()["errors"]} == {("weights_sum", "units[3]")}

    assert (await api.client.post(f"{base}/versions/1:approve", headers=PLANNER)).status_code == 428
    assert (
        await api.client.post(f"{base}/versions/1:approve", headers={**PLANNER, "if-match": etag1})
    ).status_code == 412
    approved = await api.client.post(f"{base}/versions/1:approve", headers={**PLANNER, "if-match": etag1b})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"

    # an approved version is immutable
    put = await api.client.put(
        f"{base}/versions/1/document", json=load_plan("ipsm-2014-acordo"), headers={**PLANNER, "if-match": etag1b}
    )
    assert put.status_code == 409
    no_draft = await api.client.patch(f"{base}/indicators/DP-I1", json=patch, headers={**PLANNER, "if-match": etag1b})
    assert no_draft.status_code == 409

    # a revision makes a new draft; the tree keeps serving the approved version until v2 is approved
    v2 = await api.client.post(f"{base}/versions/1:revise", headers=PLANNER)
    assert v2.status_code == 201
    assert (v2.json()["number"], v2.json()["based_on"], v2.json()["status"]) == (2, 1, "draft")
    assert (await api.client.post(f"{base}/versions/1:revise", headers=PLANNER)).status_code == 409
    edit = await api.client.patch(
        f"{base}/products/DS-P01",
        json={"deliverable": "Cartilha publicada"},
        headers={**PLANNER, "if-match": v2.headers["etag"]},
    )
    assert edit.status_code == 200
    tree = await api.client.get(f"{base}/tree", headers=VIEWER)
    assert tree.headers["x-plan-version"] == "1"
    assert (
        await api.client.post(f"{base}/versions/2:approve", headers={**PLANNER, "if-match": edit.headers["etag"]})
    ).status_code == 200
    tree = await api.client.get(f"{base}/tree", headers=VIEWER)
    assert tree.headers["x-plan-version"] == "2"
    ds_p01 = next(p for p in tree.json()["products"] if p["code"] == "DS-P01")
    assert ds_p01["deliverable"] == "Cartilha publicada"
    statuses = [v["status"] for v in (await api.client.get(f"{base}/versions", headers=VIEWER)).json()["items"]]
    assert statuses == ["superseded", "approved"]
    old = await api.client.get(f"{base}/tree", params={"version": 1}, headers=VIEWER)
    assert next(p for p in old.json()["products"] if p["code"] == "DS-P01")["deliverable"] != "Cartilha publicada"

    audit = (await api.client.get("/v1/audit", headers=ADMIN)).json()
    audit["items"] = [e for e in audit["items"] if e["entity_type"] in ("plan", "plan_item")]
    assert [e["action"] for e in reversed(audit["items"])] == [
        "plan.import",
        "plan_item.update",
        "plan.approve",
        "plan.revise",
        "plan_item.update",
        "plan.approve",
    ]
    first_patch = audit["items"][-2]["changes"]
    assert first_patch["item"] == "indicators/DP-I1"
    assert first_patch["fields"]["formula"][1] == "média dos dias úteis"


async def test_item_listing_filters_and_pages(api: Api) -> None:
    await import_plan(api, load_plan("ipsm-2014-acordo"))
    await import_plan(api, load_plan("ii-2024-quar"))
    ds = await api.client.get("/v1/plans/ipsm-2014-acordo/indicators", params={"unit_code": "DS"}, headers=VIEWER)
    assert [i["code"] for i in ds.json()["items"]] == [f"DS-I{n}" for n in range(1, 7)]
    prods = await api.client.get("/v1/plans/ipsm-2014-acordo/products", params={"unit_code": "DS"}, headers=VIEWER)
    assert [p["code"] for p in prods.json()["items"]] == ["DS-P01", "DS-P02"]
    one = await api.client.get("/v1/plans/ii-2024-quar/indicators/Ind.4", headers=VIEWER)
    assert (one.json()["meta"], one.json()["critical_value"], one.json()["polarity"]) == ("35", "20", "lower_is_better")
    ops = await api.client.get(
        "/v1/plans/ii-2024-quar/objectives", params={"level": "operational", "limit": 500}, headers=VIEWER
    )
    assert len(ops.json()["items"]) == 14
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 50, **({"cursor": cursor} if cursor else {})}
        page = (await api.client.get("/v1/plans/ii-2024-quar/initiatives", params=params, headers=VIEWER)).json()
        seen += [i["code"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 157
    assert len(set(seen)) == 157
    missing = await api.client.get("/v1/plans/ii-2024-quar/indicators/Ind.99", headers=VIEWER)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


async def test_import_of_a_changed_document_opens_a_new_version_after_approval(api: Api) -> None:
    data = load_plan("ii-2024-quar")
    first = (await import_plan(api, data)).json()
    await api.client.post("/v1/plans/ii-2024-quar/versions/1:approve", headers={**PLANNER, "if-match": first["etag"]})
    data["plan"]["title"] = "QUAR 2024 (revisto)"
    res = await import_plan(api, data)
    assert (res.status_code, res.json()["action"], res.json()["version"]) == (201, "new_version", 2)
    assert json.loads((await api.client.get("/v1/plans/ii-2024-quar", headers=VIEWER)).text)["current_version"] == 1


async def test_items_are_added_and_removed_in_a_draft_with_validation(api: Api) -> None:
    first = (await import_plan(api, load_plan("ipsm-2014-acordo"))).json()
    base = "/v1/plans/ipsm-2014-acordo"
    etag = first["etag"]

    unit = {"code": "GAB", "name": "Gabinete", "kind": "department"}
    added = await api.client.post(f"{base}/units", json=unit, headers={**PLANNER, "if-match": etag})
    assert added.status_code == 201, added.text
    etag = added.headers["etag"]
    assert (await api.client.get(f"{base}/units/GAB", headers=VIEWER)).json()["name"] == "Gabinete"

    objective = {"kind": "strategic_objective", "code": "SO18", "name": "Novo objetivo"}
    added = await api.client.post(f"{base}/objectives", json=objective, headers={**PLANNER, "if-match": etag})
    assert added.status_code == 201, added.text
    etag = added.headers["etag"]
    got = (await api.client.get(f"{base}/objectives/SO18", headers=VIEWER)).json()
    assert (got["kind"], got["name"]) == ("strategic_objective", "Novo objetivo")

    # a 7th DS indicator of weight 10 makes DS 60 + 40 + 10 = 110: refused, nothing stored
    new = load_plan("ipsm-2014-acordo")["indicators"][6] | {"code": "DS-I7", "weight": "10"}
    bad = await api.client.post(f"{base}/indicators", json=new, headers={**PLANNER, "if-match": etag})
    assert bad.status_code == 422
    assert {(e["code"], e["path"]) for e in bad.json()["errors"]} == {("weights_sum", "units[2]")}
    assert (await api.client.get(f"{base}/indicators/DS-I7", headers=VIEWER)).status_code == 404

    # removing DP product 2 (peso 10) leaves DP at 90: refused
    gone = await api.client.delete(f"{base}/products/DP-P2", headers={**PLANNER, "if-match": etag})
    assert gone.status_code == 422
    assert {(e["code"], e["path"]) for e in gone.json()["errors"]} == {("weights_sum", "units[3]")}

    removed = await api.client.delete(f"{base}/units/GAB", headers={**PLANNER, "if-match": etag})
    assert removed.status_code == 204
    assert (await api.client.get(f"{base}/units/GAB", headers=VIEWER)).status_code == 404
    stale = await api.client.delete(f"{base}/objectives/SO18", headers={**PLANNER, "if-match": etag})
    assert stale.status_code == 412


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


async def test_every_timestamp_is_rfc3339_with_an_offset(api: Api) -> None:
    # SQLite hands back naive datetimes; both backends must answer with an offset.
    created = await import_plan(api, load_plan("ipsm-2014-acordo"))
    base = "/v1/plans/ipsm-2014-acordo"
    approved = await api.client.post(
        f"{base}/versions/1:approve", headers={**PLANNER, "if-match": created.headers["etag"]}
    )
    version = approved.json()
    assert RFC3339.match(version["created_at"]), version["created_at"]
    assert RFC3339.match(version["approved_at"]), version["approved_at"]
    listed = (await api.client.get(f"{base}/versions", headers=VIEWER)).json()["items"]
    assert all(RFC3339.match(v["created_at"]) for v in listed)
    audit = (await api.client.get("/v1/audit", headers=ADMIN)).json()["items"]
    assert audit
    assert all(RFC3339.match(e["at"]) for e in audit), [e["at"] for e in audit]


async def test_the_tree_served_as_stored_is_a_valid_plan_document(api: Api) -> None:
    # The tree route skips response validation for speed (api/plans.py): the check lives here.
    for name in ("ii-2024-quar", "ipsm-2014-acordo"):
        assert (await import_plan(api, load_plan(name))).status_code == 201
        for path in (f"/v1/plans/{name}/tree", f"/v1/plans/{name}/export"):
            res = await api.client.get(path, headers=VIEWER)
            assert res.headers["content-type"].startswith("application/json")
            parsed = PlanDocument.model_validate_json(res.content)
            assert dump_document(parsed) == res.json()

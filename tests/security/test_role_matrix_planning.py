"""Planning: who may do what. Roles from docs/architecture.md: the planner defines plans (every write here);
every role reads; only admin and auditor read the audit trail. Called in process, PostgreSQL, seed plans loaded."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml
from security_support import (
    EVERY_ROLE,
    PLANS,
    QUAR,
    ROLES,
    Op,
    Stack,
    assert_forbidden,
    cases,
    check_read,
    check_role,
    op,
    operations_of,
)

PLAN = f"/v1/plans/{QUAR}"
SEED_DOCUMENT = (PLANS / f"{QUAR}.yaml").read_text(encoding="utf-8")
ETAG = {"if-match": '"stale"'}

WRITES: list[Op] = [
    op("POST", "/v1/plans:import", ("planner",), body={}),
    op(
        "PUT",
        "/v1/plans/{plan_id}/versions/{number}/document",
        ("planner",),
        path=f"{PLAN}/versions/9/document",
        body={},
        headers=ETAG,
    ),
    op(
        "POST",
        "/v1/plans/{plan_id}/versions/{number}:approve",
        ("planner",),
        path=f"{PLAN}/versions/9:approve",
        headers=ETAG,
    ),
    op("POST", "/v1/plans/{plan_id}/versions/{number}:revise", ("planner",), path=f"{PLAN}/versions/9:revise"),
    op(
        "POST",
        "/v1/plans/{plan_id}/{collection}",
        ("planner",),
        path=f"{PLAN}/units?version=9",
        body={"code": "X", "name": "x", "kind": "team"},
        headers=ETAG,
    ),
    op(
        "PATCH",
        "/v1/plans/{plan_id}/{collection}/{code}",
        ("planner",),
        path=f"{PLAN}/units/DAS?version=9",
        body={"name": "x"},
        headers=ETAG,
    ),
    op(
        "DELETE",
        "/v1/plans/{plan_id}/{collection}/{code}",
        ("planner",),
        path=f"{PLAN}/units/DAS?version=9",
        headers=ETAG,
    ),
]

READS: list[Op] = [
    op("GET", "/v1/organisations", EVERY_ROLE),
    op("GET", "/v1/organisations/{code}", EVERY_ROLE, path="/v1/organisations/ii"),
    op("GET", "/v1/plans", EVERY_ROLE),
    op("GET", "/v1/plans/{plan_id}", EVERY_ROLE, path=PLAN),
    op("GET", "/v1/plans/{plan_id}/tree", EVERY_ROLE, path=f"{PLAN}/tree"),
    op("GET", "/v1/plans/{plan_id}/export", EVERY_ROLE, path=f"{PLAN}/export?format=yaml"),
    op("GET", "/v1/plans/{plan_id}/versions", EVERY_ROLE, path=f"{PLAN}/versions"),
    op("GET", "/v1/plans/{plan_id}/versions/{number}", EVERY_ROLE, path=f"{PLAN}/versions/1"),
    op("GET", "/v1/plans/{plan_id}/{collection}", EVERY_ROLE, path=f"{PLAN}/initiatives?unit_code=DAS"),
    op("GET", "/v1/plans/{plan_id}/{collection}/{code}", EVERY_ROLE, path=f"{PLAN}/units/DAS"),
]

AUDIT = op("GET", "/v1/audit", ("auditor",))


def test_the_table_covers_every_operation(pg_stack: Stack) -> None:
    assert operations_of(pg_stack.apps["planning"]) == {o.name for o in [*WRITES, *READS, AUDIT]}


@pytest.mark.parametrize(("operation", "role"), cases(WRITES))
async def test_writes(pg_stack: Stack, as_role: Callable[[str], dict[str, str]], operation: Op, role: str) -> None:
    await check_role(pg_stack["planning"], operation, role, as_role(role))


@pytest.mark.parametrize(("operation", "role"), cases(READS))
async def test_reads(pg_stack: Stack, as_role: Callable[[str], dict[str, str]], operation: Op, role: str) -> None:
    await check_read(pg_stack["planning"], operation, as_role(role))


@pytest.mark.parametrize("role", ROLES)
async def test_audit_trail_is_for_auditors(
    pg_stack: Stack, as_role: Callable[[str], dict[str, str]], role: str
) -> None:
    await check_role(pg_stack["planning"], AUDIT, role, as_role(role))


async def test_a_token_without_roles_reads_nothing(pg_stack: Stack, bearer: Callable[..., dict[str, str]]) -> None:
    resp = await pg_stack["planning"].get(PLAN, headers=bearer(sub="nobody"))
    assert_forbidden(resp, "roles")


async def test_a_budget_user_cannot_import_plans(pg_stack: Stack, bearer: Callable[..., dict[str, str]]) -> None:
    document = yaml.safe_load(SEED_DOCUMENT)
    document["plan"]["title"] = "changed by the budget office"
    resp = await pg_stack["planning"].post("/v1/plans:import", json=document, headers=bearer("budget", sub="bob"))
    assert_forbidden(resp, "'planner'")
    # nothing was written: the plan still has one version and no audit event names bob
    versions = (await pg_stack["planning"].get(f"{PLAN}/versions", headers=bearer("viewer"))).json()["items"]
    assert [v["number"] for v in versions] == [1]
    audit = await pg_stack["planning"].get("/v1/audit?actor=bob", headers=bearer("auditor"))
    assert audit.json()["items"] == []


async def test_the_same_import_by_a_planner_passes(pg_stack: Stack, bearer: Callable[..., dict[str, str]]) -> None:
    """The control of the test above: the seed document itself, imported by a planner, is accepted (unchanged)."""
    document = yaml.safe_load(SEED_DOCUMENT)
    resp = await pg_stack["planning"].post("/v1/plans:import?dry_run=true", json=document, headers=bearer("planner"))
    assert resp.status_code == 200, resp.text[:300]
    assert resp.json()["action"] == "unchanged"

"""Scoring: planners and certifiers (and admin) run evaluations, the only write; everything else — including the
POSTs that only compute (simulations, inverse questions, rule checks, reproducing a stored run) — is a read open
to every role. The audit trail is for auditors. In process on PostgreSQL with planning and execution upstream."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from security_support import (
    EVERY_ROLE,
    IPSM,
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

WRITES: list[Op] = [
    # an unknown plan: allowed roles get planning's 404, the others 403 before planning is asked
    op("POST", "/v1/evaluations", ("planner", "certifier"), body={"plan_id": "no-such-plan"}),
    op("POST", "/v1/evaluations:final", ("planner", "certifier"), body={"plan_id": "no-such-plan"}),
]


def reads(evaluation_id: str) -> list[Op]:
    ev = f"/v1/evaluations/{evaluation_id}"
    return [
        op("GET", "/v1/evaluations", EVERY_ROLE, path=f"/v1/evaluations?plan_id={QUAR}"),
        op("GET", "/v1/evaluations/{evaluation_id}", EVERY_ROLE, path=ev),
        op("GET", "/v1/evaluations/{evaluation_id}/inputs", EVERY_ROLE, path=f"{ev}/inputs"),
        op("GET", "/v1/evaluations/{evaluation_id}/items/{item_code}", EVERY_ROLE, path=f"{ev}/items/Ind.4"),
        op("POST", "/v1/evaluations/{evaluation_id}:reproduce", EVERY_ROLE, path=f"{ev}:reproduce"),
        op("GET", "/v1/evaluations/{evaluation_id}/report", EVERY_ROLE, path=f"{ev}/report?format=csv"),
        op("POST", "/v1/simulations", EVERY_ROLE, body={"plan_id": IPSM, "results": {"DS-I2": {"value": "52000"}}}),
        op(
            "POST",
            "/v1/simulations:inverse",
            EVERY_ROLE,
            body={"plan_id": IPSM, "item_code": "DS-I2", "target": {"kind": "score", "value": "66.67"}},
        ),
        op("GET", "/v1/rules/schema", EVERY_ROLE),
        op("POST", "/v1/rules:check", EVERY_ROLE, body={"rule": {"kind": "quar_realization"}, "meta": "35"}),
    ]


READ_NAMES = [o.name for o in reads("x")]
AUDIT = op("GET", "/v1/audit", ("auditor",))


@pytest.fixture(scope="module")
async def evaluation_id(pg_stack: Stack, bearer: Callable[..., dict[str, str]]) -> str:
    resp = await pg_stack["scoring"].post(
        "/v1/evaluations", json={"plan_id": QUAR, "period_to": "2024-02"}, headers=bearer("certifier")
    )
    assert resp.status_code == 201, resp.text[:300]
    return str(resp.json()["id"])


def test_the_table_covers_every_operation(pg_stack: Stack) -> None:
    assert operations_of(pg_stack.apps["scoring"]) == {o.name for o in [*WRITES, *reads("x"), AUDIT]}


@pytest.mark.parametrize(("operation", "role"), cases(WRITES))
async def test_writes(pg_stack: Stack, as_role: Callable[[str], dict[str, str]], operation: Op, role: str) -> None:
    await check_role(pg_stack["scoring"], operation, role, as_role(role))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", READ_NAMES)
async def test_reads(
    pg_stack: Stack, evaluation_id: str, as_role: Callable[[str], dict[str, str]], name: str, role: str
) -> None:
    operation = next(o for o in reads(evaluation_id) if o.name == name)
    await check_read(pg_stack["scoring"], operation, as_role(role))


@pytest.mark.parametrize("role", ROLES)
async def test_audit_trail_is_for_auditors(
    pg_stack: Stack, as_role: Callable[[str], dict[str, str]], role: str
) -> None:
    await check_role(pg_stack["scoring"], AUDIT, role, as_role(role))


async def test_a_simulation_by_a_viewer_stores_nothing(pg_stack: Stack, bearer: Callable[..., dict[str, str]]) -> None:
    """The compute-only POSTs are reads because they write nothing: no evaluation, no audit event."""
    sc = pg_stack["scoring"]
    body = {"plan_id": IPSM, "results": {"DS-I2": {"value": "52000"}}}
    before = (await sc.get("/v1/audit", headers=bearer("auditor"))).json()["items"]
    resp = await sc.post("/v1/simulations", json=body, headers=bearer("viewer", sub="vera"))
    assert resp.status_code == 200
    assert resp.json()["stored"] is False
    assert (await sc.get("/v1/audit", headers=bearer("auditor"))).json()["items"] == before
    assert (await sc.get(f"/v1/evaluations?plan_id={IPSM}", headers=bearer("viewer"))).json()["items"] == []


@pytest.mark.parametrize("role", ["registrar", "viewer", "budget"])
async def test_only_planners_and_certifiers_evaluate_a_real_plan(
    pg_stack: Stack, bearer: Callable[..., dict[str, str]], role: str
) -> None:
    resp = await pg_stack["scoring"].post("/v1/evaluations", json={"plan_id": IPSM}, headers=bearer(role))
    assert_forbidden(resp, "'certifier'", "'planner'")

"""Budget: the budget role (and admin) writes amounts and initiative links; every role reads the structure,
code tables, amounts, reports and reconciliation; the audit trail is for auditors.
In process on PostgreSQL, the PRR seed loaded, planning upstream for the initiative links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from security_support import (
    EVERY_ROLE,
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

B = "/v1/budget"
AMOUNT = {"breakdown": "subinvestment", "subinvestment": "1.1.1", "year": 2024, "month": 3, "phase": "executed"}

WRITES: list[Op] = [
    op("POST", "/v1/budget/amounts", ("budget",), path=f"{B}/amounts", body={**AMOUNT, "amount": "-bad"}),
    op(
        "PATCH",
        "/v1/budget/amounts/{amount_id}",
        ("budget",),
        path=f"{B}/amounts/999999",
        body={"amount": "1.00"},
        headers={"if-match": '"stale"'},
    ),
    op(
        "DELETE",
        "/v1/budget/amounts/{amount_id}",
        ("budget",),
        path=f"{B}/amounts/999999",
        headers={"if-match": '"stale"'},
    ),
    op(
        "POST",
        "/v1/budget/subinvestments/{code}/initiatives",
        ("budget",),
        path=f"{B}/subinvestments/1.1.1/initiatives",
        body={"plan_id": QUAR, "initiative_code": "NO-SUCH-INITIATIVE"},
    ),
    op(
        "DELETE",
        "/v1/budget/subinvestments/{code}/initiatives/{plan_id}/{initiative_code}",
        ("budget",),
        path=f"{B}/subinvestments/1.1.1/initiatives/{QUAR}/DAS-01",
    ),
]


def reads(published_id: Any, amount_id: Any) -> list[Op]:
    return [
        op("GET", "/v1/budget/structure", EVERY_ROLE, path=f"{B}/structure"),
        op("GET", "/v1/budget/published-budgets", EVERY_ROLE, path=f"{B}/published-budgets"),
        op(
            "GET",
            "/v1/budget/published-budgets/{published_id}",
            EVERY_ROLE,
            path=f"{B}/published-budgets/{published_id}",
        ),
        op("GET", "/v1/budget/eixos/{number}", EVERY_ROLE, path=f"{B}/eixos/1"),
        op("GET", "/v1/budget/subinvestments", EVERY_ROLE, path=f"{B}/subinvestments?eixo=1"),
        op("GET", "/v1/budget/subinvestments/{code}", EVERY_ROLE, path=f"{B}/subinvestments/1.4.3"),
        op("GET", "/v1/budget/fund-items", EVERY_ROLE, path=f"{B}/fund-items"),
        op("GET", "/v1/budget/code-tables", EVERY_ROLE, path=f"{B}/code-tables"),
        op("GET", "/v1/budget/economic-codes", EVERY_ROLE, path=f"{B}/economic-codes?prefix=D.02"),
        op("GET", "/v1/budget/economic-codes/{code}", EVERY_ROLE, path=f"{B}/economic-codes/D.02.02.05.01"),
        op("GET", "/v1/budget/amounts", EVERY_ROLE, path=f"{B}/amounts?year=2024&limit=5"),
        op("GET", "/v1/budget/amounts/{amount_id}", EVERY_ROLE, path=f"{B}/amounts/{amount_id}"),
        op(
            "GET",
            "/v1/budget/reports/planned-vs-executed",
            EVERY_ROLE,
            path=f"{B}/reports/planned-vs-executed?group_by=eixo,year",
        ),
        op("GET", "/v1/budget/reports/cumulative", EVERY_ROLE, path=f"{B}/reports/cumulative?by=eixo&format=csv"),
        op(
            "GET",
            "/v1/budget/reports/execution-document",
            EVERY_ROLE,
            path=f"{B}/reports/execution-document?format=csv&year=2024",
        ),
        op("GET", "/v1/budget/reconciliation", EVERY_ROLE, path=f"{B}/reconciliation"),
        op("GET", "/v1/reconciliation", EVERY_ROLE),
        op("GET", "/v1/budget/initiative-links", EVERY_ROLE, path=f"{B}/initiative-links?plan_id={QUAR}"),
        op(
            "GET",
            "/v1/budget/subinvestments/{code}/initiatives",
            EVERY_ROLE,
            path=f"{B}/subinvestments/1.1.1/initiatives",
        ),
    ]


READ_NAMES = [o.name for o in reads(0, 0)]
AUDIT = op("GET", "/v1/audit", ("auditor",))


@pytest.fixture(scope="module")
async def ids(pg_stack: Stack, bearer: Callable[..., dict[str, str]]) -> tuple[Any, Any]:
    viewer = bearer("viewer")
    published = (await pg_stack["budget"].get(f"{B}/published-budgets", headers=viewer)).json()
    amounts = (await pg_stack["budget"].get(f"{B}/amounts?limit=1", headers=viewer)).json()
    return published["items"][0]["id"], amounts["items"][0]["id"]


def test_the_table_covers_every_operation(pg_stack: Stack) -> None:
    assert operations_of(pg_stack.apps["budget"]) == {o.name for o in [*WRITES, *reads(0, 0), AUDIT]}


@pytest.mark.parametrize(("operation", "role"), cases(WRITES))
async def test_writes(pg_stack: Stack, as_role: Callable[[str], dict[str, str]], operation: Op, role: str) -> None:
    await check_role(pg_stack["budget"], operation, role, as_role(role))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", READ_NAMES)
async def test_reads(
    pg_stack: Stack, ids: tuple[Any, Any], as_role: Callable[[str], dict[str, str]], name: str, role: str
) -> None:
    operation = next(o for o in reads(*ids) if o.name == name)
    await check_read(pg_stack["budget"], operation, as_role(role))


@pytest.mark.parametrize("role", ROLES)
async def test_audit_trail_is_for_auditors(
    pg_stack: Stack, as_role: Callable[[str], dict[str, str]], role: str
) -> None:
    await check_role(pg_stack["budget"], AUDIT, role, as_role(role))


@pytest.mark.parametrize("role", ["planner", "certifier", "registrar", "service"])
async def test_a_planner_cannot_write_budget_amounts(
    pg_stack: Stack, bearer: Callable[..., dict[str, str]], role: str
) -> None:
    """A valid amount — the budget role records it (201) — is refused to the other writing roles, and leaves
    no amount behind."""
    bg = pg_stack["budget"]
    body = {**AMOUNT, "amount": "1230.00", "description": f"sec {role}"}
    resp = await bg.post(f"{B}/amounts", json=body, headers=bearer(role, sub=f"sec-{role}"))
    assert_forbidden(resp, "'budget'")
    listed = (
        await bg.get(
            f"{B}/amounts?subinvestment=1.1.1&phase=executed&year=2024&month=3&limit=500", headers=bearer("viewer")
        )
    ).json()["items"]
    assert f"sec {role}" not in {a.get("description") for a in listed}
    ok = await bg.post(f"{B}/amounts", json=body, headers=bearer("budget", sub="sec-budget"))
    assert ok.status_code == 201, ok.text[:300]
    assert ok.json()["gross"] == "1230.00"

"""The budget belongs to one organisation (`ii` for the PRR seed): every route tried by every role of `ii` and of
another organisation (`ipsm`), on PostgreSQL and SQLite. Another organisation's caller is told there is no budget
(404) on reads, writes and CSV exports alike; the owner's roles that do not write budgets get 403."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from harness.tokens import principal_for

from metas_kit.auth import issue_token

OWN, OTHER = "ii", "ipsm"
AMOUNT = {"breakdown": "subinvestment", "subinvestment": "1.1.1", "year": 2024, "phase": "executed"}
READS = [
    "/v1/budget/structure",
    "/v1/budget/published-budgets",
    "/v1/budget/eixos/1",
    "/v1/budget/subinvestments",
    "/v1/budget/subinvestments/1.1.1",
    "/v1/budget/subinvestments/1.1.1/initiatives",
    "/v1/budget/initiative-links",
    "/v1/budget/fund-items",
    "/v1/budget/code-tables",
    "/v1/budget/economic-codes",
    "/v1/budget/economic-codes/D.02",
    "/v1/budget/amounts",
    "/v1/budget/reports/planned-vs-executed",
    "/v1/budget/reports/cumulative",
    "/v1/budget/reconciliation",
    "/v1/reconciliation",
]
CSV = [
    "/v1/budget/reports/planned-vs-executed?group_by=subinvestment&format=csv",
    "/v1/budget/reports/cumulative?format=csv",
    "/v1/budget/reconciliation?format=csv&include_ok=true",
    "/v1/budget/reports/execution-document?format=csv&year=2024",
]
ROLES = ("viewer", "planner", "registrar", "certifier", "budget", "auditor", "admin")

Headers = Callable[[str, str], dict[str, str]]


@pytest.fixture(scope="module")
def as_(jwt_secret: str) -> Headers:
    def make(role: str, org: str) -> dict[str, str]:
        principal = principal_for(role, org=org, units=["DS"] if role == "registrar" else (), sub=f"{role}-{org}")
        return {"authorization": "Bearer " + issue_token(principal, jwt_secret)}

    return make


@pytest.mark.parametrize("role", ROLES)
async def test_every_read_and_export_own_200_other_404(api: httpx.AsyncClient, as_: Headers, role: str) -> None:
    for path in [*READS, *CSV]:
        own = await api.get(path, headers=as_(role, OWN))
        assert own.status_code == 200, (path, own.text[:200])
        other = await api.get(path, headers=as_(role, OTHER))
        assert other.status_code == 404, (path, other.status_code)
        assert other.headers["content-type"].startswith("application/problem+json")
        # the one refusal for every route: nothing of the budget in it
        assert other.json()["detail"] == "There is no budget here for your organisations."
    amount_id = (await api.get("/v1/budget/amounts", params={"limit": 1}, headers=as_("viewer", OWN))).json()["items"][
        0
    ]["id"]
    assert (await api.get(f"/v1/budget/amounts/{amount_id}", headers=as_(role, OWN))).status_code == 200
    assert (await api.get(f"/v1/budget/amounts/{amount_id}", headers=as_(role, OTHER))).status_code == 404


async def test_csv_exports_of_the_owner_hold_the_rows(api: httpx.AsyncClient, as_: Headers) -> None:
    resp = await api.get(
        CSV[0].split("?")[0], params={"group_by": "subinvestment", "format": "csv"}, headers=as_("viewer", OWN)
    )
    assert resp.headers["content-type"].startswith("text/csv")
    assert "\r\n1.1.1," in resp.text


@pytest.mark.parametrize("role", ["budget", "admin"])
async def test_writers_of_the_owner_write_and_of_another_organisation_get_404(
    api: httpx.AsyncClient, as_: Headers, role: str
) -> None:
    refused = await api.post("/v1/budget/amounts", json={**AMOUNT, "amount": "10.00"}, headers=as_(role, OTHER))
    assert refused.status_code == 404, refused.text
    created = await api.post("/v1/budget/amounts", json={**AMOUNT, "amount": "10.00"}, headers=as_(role, OWN))
    assert created.status_code == 201, created.text
    url, etag = f"/v1/budget/amounts/{created.json()['id']}", created.headers["etag"]
    for method, kwargs in (("PATCH", {"json": {"amount": "11.00"}}), ("DELETE", {})):
        other = await api.request(method, url, headers={**as_(role, OTHER), "if-match": etag}, **kwargs)
        assert other.status_code == 404, (method, other.text)
    assert (await api.get(url, headers=as_("viewer", OWN))).json()["gross"] == "10.00"
    deleted = await api.delete(url, headers={**as_(role, OWN), "if-match": etag})
    assert deleted.status_code == 204


@pytest.mark.parametrize("role", ["viewer", "planner", "registrar", "certifier", "auditor"])
async def test_roles_of_the_owner_that_do_not_write_budgets_get_403(
    api: httpx.AsyncClient, as_: Headers, role: str
) -> None:
    before = (await api.get("/v1/budget/amounts", params={"limit": 500}, headers=as_("viewer", OWN))).json()
    resp = await api.post("/v1/budget/amounts", json={**AMOUNT, "amount": "10.00"}, headers=as_(role, OWN))
    assert resp.status_code == 403
    link = await api.post(
        "/v1/budget/subinvestments/1.1.1/initiatives",
        json={"plan_id": "ii-2024-quar", "initiative_code": "DAD-01"},
        headers=as_(role, OWN),
    )
    assert link.status_code == 403
    after = (await api.get("/v1/budget/amounts", params={"limit": 500}, headers=as_("viewer", OWN))).json()
    assert after == before


async def test_a_budget_officer_of_both_organisations_writes_the_owners_budget(
    api: httpx.AsyncClient, jwt_secret: str
) -> None:
    principal = principal_for(grants=[("budget", OTHER), ("viewer", OWN)], sub="two-hats")
    who = {"authorization": "Bearer " + issue_token(principal, jwt_secret)}
    # budget rights in another organisation give none here: reading is allowed (viewer of ii), writing is not
    assert (await api.get("/v1/budget/structure", headers=who)).status_code == 200
    resp = await api.post("/v1/budget/amounts", json={**AMOUNT, "amount": "10.00"}, headers=who)
    assert resp.status_code == 403


async def test_the_audit_trail_of_the_budget_is_the_owners(api: httpx.AsyncClient, as_: Headers) -> None:
    own = await api.get("/v1/audit", headers=as_("auditor", OWN))
    assert own.status_code == 200
    assert own.json()["items"], "the seed load is audited"
    other = await api.get("/v1/audit", headers=as_("auditor", OTHER))
    assert other.status_code == 200
    assert other.json() == {"items": [], "next_cursor": None}

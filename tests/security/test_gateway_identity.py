"""Through the gateway: a system's API key becomes the identity stored for it (roles, units), forwarded to the
service, which enforces the same rules as for a person's token; a bearer token always wins over a key (a viewer
cannot borrow a system's rights); the request id given to the gateway reaches the service's audit trail.
The gateway runs in process with its upstream clients pointed at the in-process services (PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from security_support import QUAR, SERVICES, Stack

from gateway.app import create_app
from gateway.identity import hash_api_key
from gateway.settings import GatewaySettings

KEYS = {
    "das-feed-key": {"sub": "system:das-feed", "roles": ["registrar"], "units": ["DAS"]},
    "dashboard-key": {"sub": "system:dashboard", "roles": ["viewer"]},
    "admin-key": {"sub": "system:ops", "roles": ["admin"]},
}
REGS = f"/api/execution/v1/plans/{QUAR}/registrations"
INITIATIVE = {"payload": {"cumulative_percent": "25"}}


@pytest.fixture(scope="module")
async def gateway(pg_stack: Stack, jwt_secret: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = GatewaySettings(
        jwt_secret=jwt_secret,
        api_keys={hash_api_key(key): ident for key, ident in KEYS.items()},
        retries=0,
        log_json=False,
        log_level="ERROR",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        for name in SERVICES:
            upstream = app.state.upstreams[name]
            await upstream.client.aclose()
            upstream.client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=pg_stack.apps[name]), base_url=f"http://{name}.test"
            )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            yield client


async def test_a_registrar_systems_key_writes_for_its_units_only(
    gateway: httpx.AsyncClient, bearer: Callable[..., dict[str, str]]
) -> None:
    key = {"x-api-key": "das-feed-key"}
    mine = f"sec-gw-{uuid.uuid4().hex}"
    own = await gateway.put(f"{REGS}/DAS-11/2024-02", json=INITIATIVE, headers={**key, "x-request-id": mine})
    assert own.status_code == 201, own.text[:300]
    # The audit trail carries the gateway's own request id; the caller's comes back apart (issue 17).
    rid = own.headers["x-request-id"]
    assert rid != mine
    assert own.headers["x-client-request-id"] == mine
    assert own.json()["updated_by"] == "system:das-feed"
    other = await gateway.put(f"{REGS}/DAD-11/2024-02", json=INITIATIVE, headers=key)
    assert other.status_code == 403, other.text[:300]
    assert "'DAD'" in other.json()["detail"]
    # the audit trail, read through the gateway by an auditor, names the system and the gateway's request id
    audit = await gateway.get(f"/api/execution/v1/audit?request_id={rid}", headers=bearer("auditor"))
    assert audit.status_code == 200, audit.text[:300]
    [event] = audit.json()["items"]
    assert (event["actor"], event["roles"], event["action"]) == (
        "system:das-feed",
        ["registrar"],
        "registration.submit",
    )
    assert event["entity_id"] == f"{QUAR}/DAS-11/2024-02"


async def test_a_viewer_key_reads_and_cannot_write(gateway: httpx.AsyncClient) -> None:
    key = {"x-api-key": "dashboard-key"}
    assert (await gateway.get(f"{REGS}?unit_code=DAS", headers=key)).status_code == 200
    resp = await gateway.put(f"{REGS}/DAS-12/2024-02", json=INITIATIVE, headers=key)
    assert resp.status_code == 403
    assert (await gateway.get("/api/planning/v1/audit", headers=key)).status_code == 403


async def test_a_bearer_token_wins_over_an_api_key(
    gateway: httpx.AsyncClient, bearer: Callable[..., dict[str, str]], jwt_secret: str
) -> None:
    """A viewer who also sends an admin system's key stays a viewer; a forged token is not rescued by a key."""
    both = {**bearer("viewer", sub="vic"), "x-api-key": "admin-key"}
    resp = await gateway.put(
        "/api/execution/v1/organisations/sec-org/closures/2024-07-01", json={"name": "x"}, headers=both
    )
    assert resp.status_code == 403, resp.text[:300]
    forged = {"authorization": "Bearer not.a.token", "x-api-key": "admin-key"}
    assert (await gateway.get(f"/api/planning/v1/plans/{QUAR}", headers=forged)).status_code == 401


async def test_unknown_keys_and_no_credentials_stop_at_the_gateway(gateway: httpx.AsyncClient) -> None:
    for headers in ({"x-api-key": "guessed-key"}, {"x-api-key": ""}, {}):
        resp = await gateway.get(f"/api/planning/v1/plans/{QUAR}", headers=headers)
        assert resp.status_code == 401, (headers, resp.status_code)
        assert resp.headers["www-authenticate"] == "Bearer"

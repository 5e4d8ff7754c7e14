"""Execution: who may do what. From docs/architecture.md and docs/api/execution.md: registrars register results
only for the units in their token (systems with the `service` role feed registrations through the bulk import
only, for any unit);
certifiers certify and reject; planners and certifiers (and the scoring service, after an evaluation) lock
periods and grant lock exceptions; only admin unlocks; planners keep closures and registration settings.
Every role reads; the audit trail is for auditors.
In process on PostgreSQL, planning seeded with both plans; writes go to the QUAR plan (cycle 2024) at 2024-03-11."""

from __future__ import annotations

from collections.abc import Callable

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

REGS = f"/v1/plans/{QUAR}/registrations"
STALE = {"if-match": '"stale"'}
INITIATIVE = {"payload": {"cumulative_percent": "40"}}

WRITES: list[Op] = [
    op(
        "PUT",
        "/v1/plans/{plan_id}/registrations/{item_code}/{period}",
        ("registrar",),
        path=f"{REGS}/DAS-01/2024-02",
        body=INITIATIVE,
    ),
    op(
        "POST",
        "/v1/plans/{plan_id}/registrations/{item_code}/{period}:certify",
        ("certifier",),
        path=f"{REGS}/DAS-02/2024-01:certify",
        headers=STALE,
    ),
    op(
        "POST",
        "/v1/plans/{plan_id}/registrations/{item_code}/{period}:reject",
        ("certifier",),
        path=f"{REGS}/DAS-02/2024-01:reject",
        body={"reason": "evidence missing"},
        headers=STALE,
    ),
    op(
        "POST",
        "/v1/plans/{plan_id}/registrations:import",
        ("registrar", "service"),
        path=f"{REGS}:import",
        body={"reason": "matrix", "registrations": [{"item_code": "nope", "period": "2024-01", "payload": {}}]},
    ),
    # The registration template: a registrar's (download, check and import; the empty body is a 415).
    op(
        "GET",
        "/v1/plans/{plan_id}/registration-template",
        ("registrar",),
        path=f"/v1/plans/{QUAR}/registration-template?unit_code=DAS&period=2024-01",
    ),
    op(
        "POST",
        "/v1/plans/{plan_id}/registration-template:dry-run",
        ("registrar",),
        path=f"/v1/plans/{QUAR}/registration-template:dry-run",
    ),
    op(
        "POST",
        "/v1/plans/{plan_id}/registration-template:import",
        ("registrar",),
        path=f"/v1/plans/{QUAR}/registration-template:import",
    ),
    op(
        "PUT",
        "/v1/plans/{plan_id}/locks/{period}",
        ("planner", "certifier", "service"),
        path=f"/v1/plans/{QUAR}/locks/2024-11",
        body={"reason": "evaluated"},
    ),
    op("DELETE", "/v1/plans/{plan_id}/locks/{period}", (), path=f"/v1/plans/{QUAR}/locks/2024-10"),
    op(
        "POST",
        "/v1/plans/{plan_id}/locks/{period}/exceptions",
        ("planner", "certifier", "service"),
        path=f"/v1/plans/{QUAR}/locks/2024-11/exceptions",
        body={"unit_code": "DAS", "until": "2020-01-01T00:00:00Z", "reason": "late evidence"},
    ),
    op(
        "DELETE",
        "/v1/plans/{plan_id}/locks/{period}/exceptions/{exception_id}",
        ("planner", "certifier", "service"),
        path=f"/v1/plans/{QUAR}/locks/2024-11/exceptions/999999",
    ),
    op(
        "PUT",
        "/v1/organisations/{org_code}/closures/{day}",
        ("planner",),
        path="/v1/organisations/sec-org/closures/2024-12-26",
        body={"name": "matrix closure"},
    ),
    op(
        "DELETE",
        "/v1/organisations/{org_code}/closures/{day}",
        ("planner",),
        path="/v1/organisations/sec-org/closures/2024-12-27",
    ),
    op(
        "PUT",
        "/v1/plans/{plan_id}/registration-settings",
        ("planner",),
        path=f"/v1/plans/{QUAR}/registration-settings",
        body={"timezone": "Nowhere/Atlantis"},
    ),
    op(
        "POST",
        "/v1/plans/{plan_id}/unlock-requests",
        ("registrar",),
        path=f"/v1/plans/{QUAR}/unlock-requests",
        body={"period": "2024-11", "item_code": "DAS-02", "reason": "matrix"},
    ),
    op(
        "POST",
        "/v1/plans/{plan_id}/unlock-requests/{request_id}:grant",
        ("planner",),
        path=f"/v1/plans/{QUAR}/unlock-requests/999999:grant",
        body={"until": "2030-01-01T00:00:00Z"},
    ),
    op(
        "POST",
        "/v1/plans/{plan_id}/unlock-requests/{request_id}:refuse",
        ("planner",),
        path=f"/v1/plans/{QUAR}/unlock-requests/999999:refuse",
        body={"reason": "matrix"},
    ),
    op(
        "POST",
        "/v1/plans/{plan_id}/registrations/{item_code}/{period}/evidence",
        ("registrar",),
        path=f"{REGS}/DAS-02/2024-01/evidence?name=matrix.pdf",
    ),
    op(
        "DELETE",
        "/v1/plans/{plan_id}/registrations/{item_code}/{period}/evidence/{evidence_id}",
        ("registrar",),
        path=f"{REGS}/DAS-02/2024-01/evidence/999999",
    ),
    op(
        "PUT",
        "/v1/plans/{plan_id}/evidence-requirements/{item_code}",
        ("planner",),
        path=f"/v1/plans/{QUAR}/evidence-requirements/NO-SUCH-ITEM",
        body={"source": "matrix"},
    ),
    op(
        "DELETE",
        "/v1/plans/{plan_id}/evidence-requirements/{item_code}",
        ("planner",),
        path=f"/v1/plans/{QUAR}/evidence-requirements/NO-SUCH-ITEM",
    ),
    op(
        "GET",
        "/v1/plans/{plan_id}/reminder-digests",
        ("planner", "auditor"),
        path=f"/v1/plans/{QUAR}/reminder-digests",
    ),
    op(
        "PUT",
        "/v1/plans/{plan_id}/value-bounds/{item_code}",
        ("planner",),
        path=f"/v1/plans/{QUAR}/value-bounds/NO-SUCH-ITEM",
        body={"min": "1"},
    ),
    op(
        "DELETE",
        "/v1/plans/{plan_id}/value-bounds/{item_code}",
        ("planner",),
        path=f"/v1/plans/{QUAR}/value-bounds/NO-SUCH-ITEM",
    ),
    # The dry run of a value writes nothing: every reader may ask.
    op(
        "POST",
        "/v1/plans/{plan_id}/registrations/{item_code}/{period}:check",
        EVERY_ROLE,
        path=f"{REGS}/DAS-01/2024-02:check",
        body=INITIATIVE,
    ),
    # Every reader mutes (and unmutes) the digests addressed to itself.
    op("PUT", "/v1/plans/{plan_id}/reminder-mute", EVERY_ROLE, path=f"/v1/plans/{QUAR}/reminder-mute"),
    op("DELETE", "/v1/plans/{plan_id}/reminder-mute", EVERY_ROLE, path=f"/v1/plans/{QUAR}/reminder-mute"),
]

# Reads of a record that does not exist: every role passes authorisation and gets the 404.
MISSING_RECORD_READS: list[Op] = [
    op(
        "GET",
        "/v1/plans/{plan_id}/unlock-requests/{request_id}",
        EVERY_ROLE,
        path=f"/v1/plans/{QUAR}/unlock-requests/999999",
    ),
    op(
        "GET",
        "/v1/plans/{plan_id}/registrations/{item_code}/{period}/evidence/{evidence_id}",
        EVERY_ROLE,
        path=f"{REGS}/DAS-02/2024-01/evidence/999999",
    ),
    op(
        "GET",
        "/v1/plans/{plan_id}/registrations/{item_code}/{period}/evidence/{evidence_id}/content",
        EVERY_ROLE,
        path=f"{REGS}/DAS-02/2024-01/evidence/999999/content",
    ),
]

READS: list[Op] = [
    op(
        "GET",
        "/v1/plans/{plan_id}/registrations/current",
        EVERY_ROLE,
        path=f"{REGS}/current?period_to=2024-01&unit_code=DAS",
    ),
    op("GET", "/v1/plans/{plan_id}/registrations", EVERY_ROLE, path=f"{REGS}?unit_code=DAS"),
    op("GET", "/v1/obligations", EVERY_ROLE, path=f"/v1/obligations?plan_id={QUAR}&unit_code=DAS"),
    op(
        "GET",
        "/v1/plans/{plan_id}/registrations/{item_code}/{period}/versions",
        EVERY_ROLE,
        path=f"{REGS}/DAS-02/2024-01/versions",
    ),
    op("GET", "/v1/plans/{plan_id}/registrations/{item_code}/{period}", EVERY_ROLE, path=f"{REGS}/DAS-02/2024-01"),
    op("GET", "/v1/plans/{plan_id}/deadlines", EVERY_ROLE, path=f"/v1/plans/{QUAR}/deadlines"),
    op("GET", "/v1/plans/{plan_id}/status", EVERY_ROLE, path=f"/v1/plans/{QUAR}/status?period=2024-01&unit_code=DAS"),
    op("GET", "/v1/plans/{plan_id}/compliance", EVERY_ROLE, path=f"/v1/plans/{QUAR}/compliance?through=2024-02"),
    op(
        "GET", "/v1/plans/{plan_id}/compliance.csv", EVERY_ROLE, path=f"/v1/plans/{QUAR}/compliance.csv?through=2024-02"
    ),
    op(
        "GET",
        "/v1/plans/{plan_id}/calendar/duration",
        EVERY_ROLE,
        path=f"/v1/plans/{QUAR}/calendar/duration?start=2024-01-02&end=2024-01-31",
    ),
    op(
        "GET",
        "/v1/plans/{plan_id}/calendar/term",
        EVERY_ROLE,
        path=f"/v1/plans/{QUAR}/calendar/term?start=2024-01-02&days=10",
    ),
    op("GET", "/v1/plans/{plan_id}/locks", EVERY_ROLE, path=f"/v1/plans/{QUAR}/locks"),
    op(
        "GET",
        "/v1/plans/{plan_id}/locks/{period}/exceptions",
        EVERY_ROLE,
        path=f"/v1/plans/{QUAR}/locks/2024-11/exceptions",
    ),
    op("GET", "/v1/organisations/{org_code}/closures", EVERY_ROLE, path="/v1/organisations/ii/closures"),
    op("GET", "/v1/plans/{plan_id}/registration-settings", EVERY_ROLE, path=f"/v1/plans/{QUAR}/registration-settings"),
    op("GET", "/v1/plans/{plan_id}/unlock-requests", EVERY_ROLE, path=f"/v1/plans/{QUAR}/unlock-requests"),
    op(
        "GET",
        "/v1/plans/{plan_id}/registrations/{item_code}/{period}/evidence",
        EVERY_ROLE,
        path=f"{REGS}/DAS-02/2024-01/evidence",
    ),
    op(
        "GET",
        "/v1/plans/{plan_id}/evidence-requirements",
        EVERY_ROLE,
        path=f"/v1/plans/{QUAR}/evidence-requirements",
    ),
    op("GET", "/v1/reminder-mutes", EVERY_ROLE),
    op("GET", "/v1/plans/{plan_id}/value-bounds", EVERY_ROLE, path=f"/v1/plans/{QUAR}/value-bounds"),
]

AUDIT = op("GET", "/v1/audit", ("auditor",))


@pytest.fixture(scope="module")
async def registered(pg_stack: Stack, bearer: Callable[..., dict[str, str]]) -> Stack:
    """One registration (DAS-02, 2024-01, by the unit's registrar) for the reads and the certification rows."""
    resp = await pg_stack["execution"].put(
        f"{REGS}/DAS-02/2024-01", json=INITIATIVE, headers=bearer("registrar", units=["DAS"], sub="ana")
    )
    assert resp.status_code in (200, 201), resp.text[:300]
    return pg_stack


def test_the_table_covers_every_operation(pg_stack: Stack) -> None:
    assert operations_of(pg_stack.apps["execution"]) == {
        o.name for o in [*WRITES, *MISSING_RECORD_READS, *READS, AUDIT]
    }


@pytest.mark.parametrize(("operation", "role"), cases(WRITES))
async def test_writes(registered: Stack, as_role: Callable[[str], dict[str, str]], operation: Op, role: str) -> None:
    await check_role(registered["execution"], operation, role, as_role(role))


@pytest.mark.parametrize(("operation", "role"), cases(MISSING_RECORD_READS))
async def test_reads_of_missing_records(
    registered: Stack, as_role: Callable[[str], dict[str, str]], operation: Op, role: str
) -> None:
    resp = await registered["execution"].get(operation.path, headers=as_role(role))
    assert resp.status_code == 404, resp.text[:300]


@pytest.mark.parametrize(("operation", "role"), cases(READS))
async def test_reads(registered: Stack, as_role: Callable[[str], dict[str, str]], operation: Op, role: str) -> None:
    await check_read(registered["execution"], operation, as_role(role))


@pytest.mark.parametrize("role", ROLES)
async def test_audit_trail_is_for_auditors(
    pg_stack: Stack, as_role: Callable[[str], dict[str, str]], role: str
) -> None:
    await check_role(pg_stack["execution"], AUDIT, role, as_role(role))


# ---- registrars and their units --------------------------------------------------------------------------


async def test_a_registrar_cannot_register_for_another_unit(
    pg_stack: Stack, bearer: Callable[..., dict[str, str]]
) -> None:
    das = bearer("registrar", units=["DAS"], sub="rita-das")
    resp = await pg_stack["execution"].put(f"{REGS}/DAD-01/2024-02", json=INITIATIVE, headers=das)
    # the problem says why: the unit of the item is not one of the token's units
    assert_forbidden(resp, "'DAD'")
    assert "unit" in resp.json()["detail"]
    # nothing was written, nothing audited
    assert (await pg_stack["execution"].get(f"{REGS}/DAD-01/2024-02", headers=das)).status_code == 404
    audit = await pg_stack["execution"].get("/v1/audit?actor=rita-das", headers=bearer("auditor"))
    assert audit.json()["items"] == []


async def test_the_same_registrar_registers_for_its_own_unit(
    pg_stack: Stack, bearer: Callable[..., dict[str, str]]
) -> None:
    das = bearer("registrar", units=["DAS"], sub="rita-das")
    resp = await pg_stack["execution"].put(f"{REGS}/DAS-03/2024-02", json=INITIATIVE, headers=das)
    assert resp.status_code == 201, resp.text[:300]
    assert (resp.json()["unit_code"], resp.json()["updated_by"]) == ("DAS", "rita-das")


async def test_a_registrar_writes_for_each_unit_of_its_token_and_none_without_units(
    pg_stack: Stack, bearer: Callable[..., dict[str, str]]
) -> None:
    ex = pg_stack["execution"]
    both = bearer("registrar", units=["DAS", "DAD"], sub="two-units")
    for item in ("DAS-09", "DAD-09"):
        resp = await ex.put(f"{REGS}/{item}/2024-02", json=INITIATIVE, headers=both)
        assert resp.status_code == 201, (item, resp.text[:300])
    resp = await ex.put(f"{REGS}/DAU-01/2024-02", json=INITIATIVE, headers=both)
    assert_forbidden(resp, "'DAU'")
    # A registrar token without units (pre-grant form) reads as an installation-wide viewer: refused at the gate.
    resp = await ex.put(f"{REGS}/DAS-10/2024-02", json=INITIATIVE, headers=bearer("registrar", sub="no-units"))
    assert_forbidden(resp, "'registrar'")


async def test_a_registrar_cannot_add_a_version_to_another_units_registration(
    pg_stack: Stack, bearer: Callable[..., dict[str, str]]
) -> None:
    ex = pg_stack["execution"]
    created = await ex.put(f"{REGS}/DAD-02/2024-02", json=INITIATIVE, headers=bearer("registrar", units=["DAD"]))
    assert created.status_code == 201, created.text[:300]
    resp = await ex.put(
        f"{REGS}/DAD-02/2024-02",
        json={"payload": {"cumulative_percent": "90"}},
        headers={**bearer("registrar", units=["DAS"]), "if-match": created.headers["etag"]},
    )
    assert_forbidden(resp, "'DAD'")
    current = await ex.get(f"{REGS}/DAD-02/2024-02", headers=bearer("viewer"))
    assert current.json()["version"] == 1


async def test_units_without_the_registrar_role_grant_nothing(
    pg_stack: Stack, bearer: Callable[..., dict[str, str]]
) -> None:
    for role in ("viewer", "planner", "certifier", "budget", "auditor"):
        resp = await pg_stack["execution"].put(
            f"{REGS}/DAS-04/2024-02", json=INITIATIVE, headers=bearer(role, units=["DAS"])
        )
        assert_forbidden(resp, "'registrar'")


async def test_a_system_imports_but_does_not_write_single_registrations(
    pg_stack: Stack, bearer: Callable[..., dict[str, str]]
) -> None:
    """A `service` token carries no units: a single write by it would register for any unit unchecked. It was
    allowed (Writer = registrar or service) against the documented rule; systems use the bulk import."""
    ex = pg_stack["execution"]
    system = bearer("service", sub="system:sisgar")
    resp = await ex.put(f"{REGS}/DAD-04/2024-02", json=INITIATIVE, headers=system)
    assert_forbidden(resp, "'registrar'")
    assert (await ex.get(f"{REGS}/DAD-04/2024-02", headers=system)).status_code == 404
    body = {"reason": "feed", "registrations": [{"item_code": "DAD-04", "period": "2024-02", **INITIATIVE}]}
    imported = await ex.post(f"{REGS}:import", json=body, headers=system)
    assert imported.status_code == 200, imported.text[:300]
    assert (imported.json()["created"], imported.json()["updated"]) == (1, 0)


async def test_a_registrar_bulk_imports_only_for_its_own_units(
    pg_stack: Stack, bearer: Callable[..., dict[str, str]]
) -> None:
    ex, das = pg_stack["execution"], bearer("registrar", units=["DAS"])
    other = {"item_code": "DAD-04", "period": "2024-01", **INITIATIVE}
    mixed = {"reason": "catch-up", "registrations": [{"item_code": "DAS-05", "period": "2024-01", **INITIATIVE}, other]}
    refused = await ex.post(f"{REGS}:import", json=mixed, headers=das)
    assert_forbidden(refused, "'DAD'", "nothing was imported")
    assert (await ex.get(f"{REGS}/DAS-05/2024-01", headers=das)).status_code == 404  # all or nothing
    backdated = {**mixed["registrations"][0], "registered_at": "2024-02-01T00:00:00Z"}
    assert_forbidden(await ex.post(f"{REGS}:import", json={"registrations": [backdated]}, headers=das), "back-date")
    own = {"reason": "catch-up", "registrations": [mixed["registrations"][0]]}
    done = await ex.post(f"{REGS}:import", json=own, headers=das)
    assert done.status_code == 200, done.text[:300]
    assert (done.json()["created"], done.json()["updated"]) == (1, 0)


async def test_another_registrars_idempotency_key_replays_nothing(
    pg_stack: Stack, bearer: Callable[..., dict[str, str]]
) -> None:
    """A stored response is keyed by the caller: the same key and body from a registrar of another unit is
    refused (403), not answered with the first caller's stored 201."""
    ex = pg_stack["execution"]
    key = {"idempotency-key": "sec-shared-key"}
    first = await ex.put(
        f"{REGS}/DAD-03/2024-02", json=INITIATIVE, headers={**bearer("registrar", units=["DAD"], sub="d1"), **key}
    )
    assert first.status_code == 201
    other = await ex.put(
        f"{REGS}/DAD-03/2024-02", json=INITIATIVE, headers={**bearer("registrar", units=["DAS"], sub="d2"), **key}
    )
    assert_forbidden(other, "'DAD'")


# ---- certification is not registration ---------------------------------------------------------------------


async def test_a_registrar_cannot_certify_and_a_certifier_cannot_register(
    pg_stack: Stack, bearer: Callable[..., dict[str, str]]
) -> None:
    ex = pg_stack["execution"]
    das = bearer("registrar", units=["DAS"], sub="rita-das")
    created = await ex.put(f"{REGS}/DAS-06/2024-02", json=INITIATIVE, headers=das)
    assert created.status_code == 201, created.text[:300]
    etag = {"if-match": created.headers["etag"]}
    # the registrar's own registration, with the right ETag: still not its decision
    resp = await ex.post(f"{REGS}/DAS-06/2024-02:certify", headers={**das, **etag})
    assert_forbidden(resp, "'certifier'")
    resp = await ex.post(f"{REGS}/DAS-06/2024-02:reject", json={"reason": "mine"}, headers={**das, **etag})
    assert_forbidden(resp, "'certifier'")
    # a certifier (even one whose token lists the unit) cannot write a value
    certifier = bearer("certifier", units=["DAS"], sub="carla")
    resp = await ex.put(
        f"{REGS}/DAS-06/2024-02", json={"payload": {"cumulative_percent": "99"}}, headers={**certifier, **etag}
    )
    assert_forbidden(resp, "'registrar'")
    # and can certify
    resp = await ex.post(f"{REGS}/DAS-06/2024-02:certify", headers={**certifier, **etag})
    assert resp.status_code == 200, resp.text[:300]
    assert (resp.json()["certification"], resp.json()["certified_by"]) == ("certified", "carla")
    assert resp.json()["payload"]["cumulative_percent"] == "40"

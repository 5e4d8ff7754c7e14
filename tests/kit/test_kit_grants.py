"""Grants (role, organisation, units): what a principal may do, how tokens carry them, how tokens of earlier
releases (roles + units) read, and which claims are refused (401)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from harness.tokens import principal_for

from metas_kit.app import create_service_app
from metas_kit.auth import (
    ALGORITHM,
    ALL,
    Admin,
    Auditor,
    BudgetOfficer,
    Certifier,
    Grant,
    Planner,
    PlannerCertifierOrService,
    PlannerOrCertifier,
    Principal,
    Reader,
    Registrar,
    ServiceCaller,
    decode_token,
    issue_token,
    legacy_grants,
)
from metas_kit.errors import Unauthorized
from metas_kit.settings import ServiceSettings

SECRET = "grants-test-secret-" + "x" * 32

REGISTRAR_IPSM_DS = Principal("ana", grants=[Grant("registrar", "ipsm", frozenset({"DS"}))])


def test_a_registrar_of_one_unit_of_one_organisation() -> None:
    p = REGISTRAR_IPSM_DS
    assert p.can({"registrar"}, "ipsm", "DS")
    assert not p.can({"registrar"}, "ipsm", "DP")  # another unit of the same organisation
    assert not p.can({"registrar"}, "other", "DS")  # the same unit code in another organisation
    assert p.can({"registrar"}, "ipsm")  # holds the role in that organisation (some unit)
    assert not p.can({"certifier"}, "ipsm", "DS")
    assert p.has_any({"registrar", "viewer"})
    assert not p.has_any({"planner"})
    assert p.orgs_for({"registrar"}) == frozenset({"ipsm"})
    assert p.orgs_for({"planner"}) == frozenset()
    assert p.units_for({"registrar"}, "ipsm") == frozenset({"DS"})
    assert p.units_for({"registrar"}, "other") == frozenset()


def test_empty_units_cover_every_unit_of_the_organisation_only() -> None:
    p = Principal("rui", grants=[Grant("planner", "ii")])
    assert p.can({"planner"}, "ii", "ANY-UNIT")
    assert not p.can({"planner"}, "ipsm", "ANY-UNIT")
    assert p.units_for({"planner"}, "ii") is ALL


def test_admin_per_organisation_and_installation_wide() -> None:
    local = Principal("a", grants=[Grant("admin", "ipsm")])
    assert local.can({"registrar"}, "ipsm", "DS")
    assert local.can({"certifier"}, "ipsm")
    assert not local.can({"registrar"}, "ii", "DS")
    assert local.orgs_for({"planner"}) == frozenset({"ipsm"})
    wide = Principal("root", grants=[Grant("admin", "*")])
    assert wide.can({"planner"}, "any-org", "ANY")
    assert wide.orgs_for({"viewer"}) is ALL
    assert wide.units_for({"registrar"}, "ipsm") is ALL


def test_several_grants_add_up() -> None:
    p = Principal(
        "maria",
        grants=[Grant("registrar", "ipsm", frozenset({"DS"})), Grant("registrar", "ii", frozenset({"DAS", "DRH"}))],
    )
    assert p.orgs_for({"registrar"}) == frozenset({"ipsm", "ii"})
    assert p.units_for({"registrar"}, "ii") == frozenset({"DAS", "DRH"})
    assert p.can({"registrar"}, "ii", "DRH")
    assert not p.can({"registrar"}, "ipsm", "DRH")


def test_legacy_roles_and_units_become_installation_wide_with_the_same_rights() -> None:
    # roles/units of an earlier release: units narrowed the registrar only.
    p = Principal("ana", {"registrar", "planner"}, {"DAS"})
    assert set(p.grants) == {Grant("registrar", "*", frozenset({"DAS"})), Grant("planner", "*")}
    assert p.roles == frozenset({"registrar", "planner"})
    assert p.can({"registrar"}, "any-org", "DAS")
    assert not p.can({"registrar"}, "any-org", "DS")
    assert p.can({"planner"}, "any-org", "DS")
    # A registrar without units registered nowhere and read everything: an installation-wide viewer.
    assert legacy_grants({"registrar"}) == (Grant("viewer", "*"),)
    nowhere = Principal("x", ["registrar"])
    assert not nowhere.can({"registrar"}, "ipsm", "DS")
    assert nowhere.has_any({"viewer"})


def test_principal_is_immutable_and_compares_by_value() -> None:
    a = Principal("x", grants=[Grant("viewer", "ii"), Grant("planner", "ii")])
    b = Principal("x", grants=[Grant("planner", "ii"), Grant("viewer", "ii")])
    assert a == b
    assert hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.sub = "y"  # type: ignore[misc]
    with pytest.raises(ValueError, match="either grants"):
        Principal("x", ["admin"], grants=[Grant("admin")])


def test_issued_tokens_carry_grants_and_read_back_the_same() -> None:
    p = Principal("ana", grants=[Grant("registrar", "ipsm", frozenset({"DS", "DP"})), Grant("viewer", "*")], name="Ana")
    token = issue_token(p, SECRET)
    claims = jwt.decode(token, SECRET, algorithms=[ALGORITHM], issuer="metas")
    assert claims["grants"] == [
        {"role": "registrar", "org": "ipsm", "units": ["DP", "DS"]},
        {"role": "viewer", "org": "*", "units": []},
    ]
    assert "roles" not in claims
    assert "units" not in claims
    assert decode_token(token, SECRET) == p
    # A legacy principal survives the round trip too (its registrar units on the installation-wide grant).
    legacy = Principal("rui", ["registrar"], ["DAS"])
    assert decode_token(issue_token(legacy, SECRET), SECRET) == legacy


def _sign(**claims: Any) -> str:
    now = int(time.time())
    return jwt.encode({"sub": "m", "iss": "metas", "iat": now, "exp": now + 600, **claims}, SECRET, ALGORITHM)


def test_a_legacy_token_reads_as_installation_wide_grants() -> None:
    p = decode_token(_sign(roles=["registrar", "certifier"], units=["DS"]), SECRET)
    assert set(p.grants) == {Grant("registrar", "*", frozenset({"DS"})), Grant("certifier", "*")}


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"grants": "admin"}, "must be a list"),
        ({"grants": [["admin", "*"]]}, "must be an object"),
        ({"grants": [{"role": "admin"}]}, "must be an object"),
        ({"grants": [{"role": "admin", "org": "*", "extra": 1}]}, "must be an object"),
        ({"grants": [{"role": "root", "org": "*"}]}, "unknown role"),
        ({"grants": [{"role": ["admin"], "org": "*"}]}, "unknown role"),
        ({"grants": [{"role": "viewer", "org": ""}]}, "organisation must be a code"),
        ({"grants": [{"role": "viewer", "org": 7}]}, "organisation must be a code"),
        ({"grants": [{"role": "viewer", "org": "a b"}]}, "organisation must be a code"),
        ({"grants": [{"role": "viewer", "org": "x" * 65}]}, "organisation must be a code"),
        ({"grants": [{"role": "registrar", "org": "ipsm", "units": "DS"}]}, "units must be a list"),
        ({"grants": [{"role": "registrar", "org": "ipsm", "units": [1]}]}, "unit must be a code"),
        ({"grants": [{"role": "registrar", "org": "ipsm", "units": ["D" + str(i) for i in range(257)]}]}, "at most"),
        ({"grants": [{"role": "service", "org": "ipsm"}]}, "installation-wide"),
        ({"grants": [{"role": "admin", "org": "ipsm", "units": ["DS"]}]}, "names no units"),
        ({"grants": [{"role": "viewer", "org": "*"}] * 65}, "more than 64"),
        ({"grants": [], "roles": ["admin"]}, "both grants and the legacy"),
        ({"roles": ["root"]}, "unknown roles"),
        ({"roles": [["admin"]]}, "must be strings"),
        ({"roles": ["registrar"], "units": "DS"}, "must be lists"),
    ],
)
def test_malformed_grant_claims_are_refused(claims: dict[str, Any], message: str) -> None:
    with pytest.raises(Unauthorized, match=message):
        decode_token(_sign(**claims), SECRET)


def test_token_for_fixture_builds_grants(token_for: Any, jwt_secret: str) -> None:
    legacy = decode_token(token_for("registrar", units=["DAS"]).removeprefix("Bearer "), jwt_secret)
    assert legacy.grants == (Grant("registrar", "*", frozenset({"DAS"})),)
    scoped = decode_token(token_for("registrar", "admin", org="ipsm", units=["DS"]).removeprefix("Bearer "), jwt_secret)
    assert set(scoped.grants) == {Grant("registrar", "ipsm", frozenset({"DS"})), Grant("admin", "ipsm")}
    several = principal_for(grants=[("registrar", "ipsm", ["DS"]), ("viewer", "ii")])
    assert set(several.grants) == {Grant("registrar", "ipsm", frozenset({"DS"})), Grant("viewer", "ii")}


# ---- the role aliases, as routes see them ----------------------------------------------------------------------
def _alias_app() -> FastAPI:
    app = create_service_app(
        name="grants",
        settings=ServiceSettings(jwt_secret=SECRET, database_url="sqlite+aiosqlite:///:memory:"),  # type: ignore[arg-type]
        routers=[],
    )
    aliases = {
        "reader": Reader,
        "planner": Planner,
        "registrar": Registrar,
        "certifier": Certifier,
        "budget": BudgetOfficer,
        "auditor": Auditor,
        "admin": Admin,
        "service": ServiceCaller,
        "planner-or-certifier": PlannerOrCertifier,
        "planner-certifier-or-service": PlannerCertifierOrService,
    }
    for path, alias in aliases.items():

        async def route(who: Principal) -> dict[str, str]:
            return {"sub": who.sub}

        # string annotations resolve from module globals: give FastAPI the alias object itself
        route.__annotations__ = {"who": alias, "return": dict[str, str]}
        app.add_api_route(f"/gate/{path}", route, methods=["GET"])
    return app


@pytest.mark.parametrize(
    ("gate", "allowed"),
    [
        ("reader", {"admin", "planner", "registrar", "certifier", "budget", "viewer", "auditor", "service"}),
        ("planner", {"admin", "planner"}),
        ("registrar", {"admin", "registrar"}),
        ("certifier", {"admin", "certifier"}),
        ("budget", {"admin", "budget"}),
        ("auditor", {"admin", "auditor"}),
        ("admin", {"admin"}),
        ("service", {"admin", "service"}),
        ("planner-or-certifier", {"admin", "planner", "certifier"}),
        ("planner-certifier-or-service", {"admin", "planner", "certifier", "service"}),
    ],
)
async def test_role_aliases_gate_routes(gate: str, allowed: set[str]) -> None:
    roles = ["admin", "planner", "registrar", "certifier", "budget", "viewer", "auditor", "service"]
    # The gates need no database: no lifespan to run.
    transport = httpx.ASGITransport(app=_alias_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://grants.test") as client:
        for role in roles:
            org = "*" if role == "service" else "ipsm"  # a per-organisation grant passes the route-level gate
            token = issue_token(Principal(role, grants=[Grant(role, org)]), SECRET)
            resp = await client.get(f"/gate/{gate}", headers={"authorization": f"Bearer {token}"})
            assert resp.status_code == (200 if role in allowed else 403), (gate, role, resp.text)
            if resp.status_code == 403:
                assert resp.headers["content-type"] == "application/problem+json"
        assert (await client.get(f"/gate/{gate}")).status_code == 401

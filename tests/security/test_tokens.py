"""A service reached directly (not through the gateway) accepts only a well-formed HS256 token signed with the
shared secret, from the expected issuer, unexpired, naming a subject and known roles. Everything else is 401
problem+json with `WWW-Authenticate: Bearer` — on every service, on a read any role could make."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from security_support import QUAR, SERVICES, Stack

from metas_kit.auth import ALGORITHM

READ = {
    "planning": f"/v1/plans/{QUAR}",
    "execution": f"/v1/plans/{QUAR}/locks",
    "scoring": "/v1/rules/schema",
    "budget": "/v1/budget/code-tables",
}


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "mallory",
        "roles": ["admin"],
        "units": [],
        "iss": "metas",
        "iat": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any]) -> str:
    """`alg: none`: header and payload, empty signature."""
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(payload)}."


def bad_tokens(secret: str) -> dict[str, str]:
    sign: Callable[..., str] = lambda payload, key=secret, alg=ALGORITHM: jwt.encode(payload, key, algorithm=alg)  # noqa: E731
    now = int(time.time())
    return {
        "unknown-role": sign(claims(roles=["superuser"])),
        "unknown-role-beside-a-known-one": sign(claims(roles=["viewer", "root"])),
        "roles-not-a-list": sign(claims(roles="admin")),
        "units-not-a-list": sign(claims(roles=["registrar"], units="DAS")),
        "missing-exp": sign(claims(exp=None)),
        "missing-iat": sign(claims(iat=None)),
        "lifetime-over-24-hours": sign(claims(iat=now, exp=now + 24 * 3600 + 1)),
        "expired": sign(claims(iat=now - 7200, exp=now - 3600)),
        "not-yet-valid": sign(claims(nbf=now + 3600)),
        "missing-sub": sign(claims(sub=None)),
        "missing-issuer": sign(claims(iss=None)),
        "wrong-issuer": sign(claims(iss="evil")),
        "alg-none": unsigned(claims()),
        "alg-none-uppercase": f"{_b64({'alg': 'NONE', 'typ': 'JWT'})}.{_b64(claims())}.",
        "other-secret": sign(claims(), key="another-secret-of-at-least-32-bytes!"),
        "hs512-with-the-right-secret": sign(claims(), alg="HS512"),
        "tampered-payload": (lambda t: ".".join([t.split(".")[0], _b64(claims(sub="root")), t.split(".")[2]]))(
            sign(claims(roles=["viewer"]))
        ),
        "garbage": "not-a-jwt",
        "empty": "",
    }


BAD = list(bad_tokens("only-to-list-the-cases-" + "0" * 64))
# HS512 with a 32-byte secret is short for SHA-512: PyJWT warns, and that token is meant to be refused anyway
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


@pytest.mark.parametrize("case", BAD)
@pytest.mark.parametrize("service", SERVICES)
async def test_bad_tokens_are_refused(pg_stack: Stack, jwt_secret: str, service: str, case: str) -> None:
    token = bad_tokens(jwt_secret)[case]
    resp = await pg_stack[service].get(READ[service], headers={"authorization": f"Bearer {token}"})
    assert resp.status_code == 401, (case, resp.status_code, resp.text[:200])
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.headers["www-authenticate"] == "Bearer"
    problem = resp.json()
    assert (problem["status"], problem["type"].rsplit("/", 1)[-1]) == (401, "unauthorized")
    assert "mallory" not in resp.text
    assert "Traceback" not in resp.text


@pytest.mark.parametrize("service", SERVICES)
async def test_the_same_claims_properly_signed_pass(pg_stack: Stack, jwt_secret: str, service: str) -> None:
    """The control: the claims used above, signed right, are accepted — the refusals are about the token."""
    token = jwt.encode(claims(roles=["viewer"]), jwt_secret, algorithm=ALGORITHM)
    resp = await pg_stack[service].get(READ[service], headers={"authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.text[:200]


@pytest.mark.parametrize("service", SERVICES)
async def test_other_credentials_are_not_a_bearer_token(pg_stack: Stack, jwt_secret: str, service: str) -> None:
    """API keys are the gateway's business: a service reached directly ignores them, and other schemes."""
    good = jwt.encode(claims(roles=["viewer"]), jwt_secret, algorithm=ALGORITHM)
    for headers in (
        {"x-api-key": "any-system-key"},
        {"authorization": f"Basic {base64.b64encode(b'admin:admin').decode()}"},
        {"authorization": good},  # no scheme
        {"authorization": "Bearer"},
        {},
    ):
        resp = await pg_stack[service].get(READ[service], headers=headers)
        assert resp.status_code == 401, (headers, resp.status_code)

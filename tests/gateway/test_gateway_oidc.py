"""OpenID Connect sign-in against a real provider: panva's oidc-provider (npm, tests/gateway/oidc) started by
the test, with accounts and the gateway under uvicorn. The browser is an httpx client driving the provider's
own login and consent forms."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt
import pytest

from metas_dev.cluster import SERVICES, Cluster, ClusterConfig, free_port

pytestmark = pytest.mark.integration
OIDC_DIR = Path(__file__).resolve().parent / "oidc"
CLIENT_SECRET = "metas-test-client-secret-0123456789"
PEOPLE = {
    "ana-id": {
        "preferred_username": "ana.oidc",
        "email": "ana@example.pt",
        "name": "Ana Provider",
        "locale": "pt-BR",
        "groups": ["metas-ds", "unrelated-group"],
    },
    "rui-id": {"preferred_username": "rui.oidc", "email": "rui@example.pt", "name": "Rui", "groups": ["staff"]},
}
GRANT_MAP = {"metas-ds": [{"role": "registrar", "org": "ipsm", "units": ["DS"]}, {"role": "viewer", "org": "ipsm"}]}


@pytest.fixture(scope="module")
def oidc_edge(tmp_path_factory: pytest.TempPathFactory, jwt_secret: str) -> Iterator[dict[str, str]]:
    if shutil.which("node") is None or not (OIDC_DIR / "node_modules" / "oidc-provider").exists():
        pytest.fail("oidc-provider is not installed: run `make tests/gateway/oidc/node_modules/.installed`")
    tmp = tmp_path_factory.mktemp("oidc")
    ports = {n: free_port() for n in (*SERVICES, "gateway")}
    gateway = f"http://127.0.0.1:{ports['gateway']}"
    provider_port = free_port()
    issuer = f"http://127.0.0.1:{provider_port}"
    callback = f"{gateway}/api/auth/oidc/callback"
    conf = tmp / "provider.json"
    conf.write_text(
        json.dumps(
            {
                "port": provider_port,
                "client_id": "metas",
                "client_secret": CLIENT_SECRET,
                "redirect_uri": callback,
                "people": PEOPLE,
            }
        )
    )
    log = open(tmp / "provider.log", "wb")
    provider = subprocess.Popen(["node", str(OIDC_DIR / "provider.mjs"), str(conf)], stdout=log, stderr=log)
    config = ClusterConfig(
        ports=ports,
        database_urls={"accounts": f"sqlite+aiosqlite:///{tmp}/accounts.db"},
        jwt_secret=jwt_secret,
        log_dir=tmp / "logs",
        extra_env={
            "gateway": {
                "METAS_GATEWAY_OIDC_ISSUER": issuer,
                "METAS_GATEWAY_OIDC_CLIENT_ID": "metas",
                "METAS_GATEWAY_OIDC_CLIENT_SECRET": CLIENT_SECRET,
                "METAS_GATEWAY_OIDC_REDIRECT_URL": callback,
                "METAS_GATEWAY_OIDC_SCOPES": "openid email profile groups",
                "METAS_GATEWAY_OIDC_GRANT_MAP": json.dumps(GRANT_MAP),
            }
        },
    )
    cluster = Cluster(config)
    try:
        wait_for(issuer + "/.well-known/openid-configuration")
        cluster.start_one("accounts")
        cluster.start_one("gateway")
        cluster.wait_ready(("accounts",), timeout=60)
        wait_for(gateway + "/healthz")
        yield {"gateway": gateway, "issuer": issuer, "callback": callback}
    finally:
        cluster.stop_one("gateway")
        cluster.stop_one("accounts")
        provider.terminate()
        provider.wait(10)
        log.close()


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


def submit_form(browser: httpx.Client, page: httpx.Response, login: str) -> httpx.Response:
    """Fill the provider's form as a person would: the login form with an account id, or the consent form."""
    form = re.search(r'<form[^>]*action="([^"]+)"[^>]*method="post"', page.text)
    assert form, page.text[:500]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    if 'name="login"' in page.text:
        fields.update(login=login, password="any password")
    return browser.post(urljoin(str(page.url), form.group(1)), data=fields)


def sign_in_at_provider(
    browser: httpx.Client, edge: dict[str, str], login: str, next_path: str = "/plans"
) -> tuple[httpx.Response, str]:
    """From the gateway's start to the provider's redirect back: (the start response, the callback URL)."""
    start = browser.get(edge["gateway"] + "/api/auth/oidc/start", params={"next": next_path})
    resp = start
    for _ in range(12):
        if resp.status_code in (302, 303):
            location = urljoin(str(resp.url), resp.headers["location"])
            if location.startswith(edge["callback"]):
                return start, location
            resp = browser.get(location)
        elif resp.status_code == 200 and "<form" in resp.text:
            resp = submit_form(browser, resp, login)
        else:
            raise AssertionError(f"unexpected {resp.status_code} at {resp.url}: {resp.text[:300]}")
    raise AssertionError("the provider never sent the browser back")


def problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = resp.json()
    return body


def test_code_flow_with_pkce_opens_a_session_with_mapped_grants(oidc_edge: dict[str, str]) -> None:
    with httpx.Client(timeout=10) as browser:
        start, callback = sign_in_at_provider(browser, oidc_edge, "ana-id")
        sent = parse_qs(urlsplit(start.headers["location"]).query)
        assert start.headers["location"].startswith(oidc_edge["issuer"] + "/auth?")
        assert sent["code_challenge_method"] == ["S256"]
        assert len(sent["code_challenge"][0]) == 43
        assert sent["response_type"] == ["code"]
        assert "verifier" not in start.headers["location"]
        flow_cookie = start.headers["set-cookie"].lower()
        assert "httponly" in flow_cookie
        assert "path=/api/auth/oidc" in flow_cookie
        back = browser.get(callback)
        assert back.status_code == 303, back.text
        assert back.headers["location"] == "/plans"
        token = back.cookies["metas_session"]
        me = browser.get(oidc_edge["gateway"] + "/api/auth/me")  # by the cookie, as a browser would
        assert me.status_code == 200, me.text
        account = me.json()
        assert account["username"] == "ana.oidc"
        assert account["display_name"] == "Ana Provider"
        assert account["email"] == "ana@example.pt"
        assert account["locale"] == "pt-BR"
        assert account["grants"] == [
            {"role": "registrar", "org": "ipsm", "units": ["DS"]},
            {"role": "viewer", "org": "ipsm", "units": []},
        ]
        # The same kind of session as a password sign-in: a Session token works, sign-out ends it.
        headers = {"authorization": f"Session {token}"}
        assert browser.get(oidc_edge["gateway"] + "/api/auth/me", headers=headers).status_code == 200
        assert browser.post(oidc_edge["gateway"] + "/api/auth/sign-out", headers=headers).status_code == 204
        problem(browser.get(oidc_edge["gateway"] + "/api/auth/me", headers=headers), 401)


def test_a_code_is_good_once(oidc_edge: dict[str, str]) -> None:
    with httpx.Client(timeout=10) as browser:
        start, callback = sign_in_at_provider(browser, oidc_edge, "ana-id")
        flow = start.cookies["metas_oidc"]
        assert browser.get(callback).status_code == 303
        browser.cookies.set("metas_oidc", flow, path="/api/auth/oidc")
        problem(browser.get(callback), 401)  # the provider refuses a replayed code


def test_the_provider_enforces_the_pkce_verifier(oidc_edge: dict[str, str], jwt_secret: str) -> None:
    with httpx.Client(timeout=10) as browser:
        start, callback = sign_in_at_provider(browser, oidc_edge, "ana-id")
        flow = jwt.decode(start.cookies["metas_oidc"], jwt_secret, algorithms=["HS256"], audience="metas-oidc-flow")
        forged = jwt.encode({**flow, "verifier": "another-verifier-" + "x" * 40}, jwt_secret, algorithm="HS256")
        browser.cookies.clear()
        browser.cookies.set("metas_oidc", forged, path="/api/auth/oidc")
        body = problem(browser.get(callback), 401)
        assert "did not accept" in body["detail"]


def test_state_must_match_the_flow_cookie(oidc_edge: dict[str, str]) -> None:
    with httpx.Client(timeout=10) as browser:
        _start, callback = sign_in_at_provider(browser, oidc_edge, "ana-id")
        tampered = re.sub(r"state=[^&]+", "state=someone-elses-state", callback)
        problem(browser.get(tampered), 400)
        browser.cookies.clear()
        body = problem(browser.get(callback), 400)  # no flow cookie: not started here
        assert "start again" in body["detail"]


def test_a_person_without_mapped_groups_gets_no_session(oidc_edge: dict[str, str]) -> None:
    with httpx.Client(timeout=10) as browser:
        _start, callback = sign_in_at_provider(browser, oidc_edge, "rui-id")
        resp = browser.get(callback)
        body = problem(resp, 403)
        assert "holds no role" in body["detail"]
        assert "metas_session" not in resp.cookies


def test_next_never_leaves_the_site(oidc_edge: dict[str, str]) -> None:
    with httpx.Client(timeout=10) as browser:
        _start, callback = sign_in_at_provider(browser, oidc_edge, "ana-id", next_path="//evil.example/x")
        assert browser.get(callback).headers["location"] == "/"

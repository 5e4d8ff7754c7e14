"""What the console's browser tests share: the running stack, the people of the journeys, axe-core, screenshots."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from harness.tokens import principal_for

from metas_dev.cluster import SERVICES, Cluster, ClusterConfig, free_port
from metas_dev.run import load_seeds
from metas_kit.auth import issue_token

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "console-screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The people of the journeys: accounts in the seed plans' organisations, each with the language of its account.
PASSWORD = "correct horse battery staple 2014"
PEOPLE: dict[str, dict[str, Any]] = {
    "registrar_ds": {"sub": "maria", "locale": "en", "grants": [("registrar", "ipsm", ["DS"])]},
    "registrar_ds_pt": {"sub": "mariana", "locale": "pt-PT", "grants": [("registrar", "ipsm", ["DS"])]},
    "registrar_ds_br": {"sub": "marcia", "locale": "pt-BR", "grants": [("registrar", "ipsm", ["DS"])]},
    "registrar_dp": {"sub": "rui", "locale": "en", "grants": [("registrar", "ipsm", ["DP"])]},
    "certifier": {"sub": "carla", "locale": "en", "grants": [("certifier", "ipsm")]},
    "planner": {"sub": "paula", "locale": "en", "grants": [("planner", "ipsm"), ("planner", "ii")]},
    "admin": {"sub": "ana", "locale": "en", "grants": [("admin", "*")]},
    "budget": {"sub": "bruno", "locale": "pt-PT", "grants": [("budget", "ii")]},
}


@dataclass
class Stack:
    """The cluster with the console behind the gateway: browsers use the gateway's address only."""

    cluster: Cluster
    tmp: Path
    secret: str

    @property
    def url(self) -> str:
        return self.cluster.config.url("gateway")

    def token(self, who: str) -> str:
        person = PEOPLE[who]
        return issue_token(principal_for(sub=person["sub"], grants=person["grants"]), self.secret, ttl_seconds=3 * 3600)

    def api(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"authorization": f"Bearer {self.token(who)}"}, timeout=20)

    def create_accounts(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            admin = {"authorization": "Bearer " + issue_token(principal_for("admin"), self.secret)}
            for person in PEOPLE.values():
                body = {
                    "username": person["sub"],
                    "display_name": person["sub"].capitalize(),
                    "email": f"{person['sub']}@example.org",
                    "locale": person["locale"],
                    "password": PASSWORD,
                    "grants": [
                        {"role": g[0], "org": g[1], "units": list(g[2]) if len(g) > 2 else []} for g in person["grants"]
                    ],
                }
                answer = client.post("/api/accounts/v1/accounts", json=body, headers=admin)
                assert answer.status_code == 201, answer.text


# argon2id at its production cost would make every sign-in of the suite take ~0.3 s of CPU.
CHEAP_ARGON2 = {"METAS_ACCOUNTS_ARGON2_TIME_COST": "1", "METAS_ACCOUNTS_ARGON2_MEMORY_KIB": "8192"}


@contextmanager
def running_stack(tmp: Path, jwt_secret: str, extra_env: dict[str, dict[str, str]]) -> Iterator[Stack]:
    """The whole cluster with the console on SQLite in ``tmp``, the seed plans loaded and the test accounts made."""
    config = ClusterConfig(
        ports={name: free_port() for name in (*SERVICES, "gateway", "console")},
        database_urls={s: f"sqlite+aiosqlite:///{tmp}/{s}.db" for s in SERVICES},
        jwt_secret=jwt_secret,
        log_dir=tmp / "logs",
        extra_env=extra_env,
    )
    cluster = Cluster(config)
    cluster.start()
    running = Stack(cluster, tmp, jwt_secret)
    try:
        cluster.wait_ready(timeout=90)
        load_seeds(cluster)
        running.create_accounts()
        yield running
    finally:
        cluster.stop()


def sign_in(page: Any, who: str, *, path: str = "/") -> None:
    """Sign in through the console's form (labels in English: the browsers of these tests ask for English)."""
    page.goto(page.stack_url + "/sign-in?next=" + path.replace("/", "%2F").replace("?", "%3F").replace("&", "%26"))
    page.get_by_label("Username").fill(PEOPLE[who]["sub"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)


def wait_ready(url: str, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready")


def check_accessibility(page: Any) -> None:
    """axe-core on the page as it stands: no serious or critical violation. Evaluated through the DevTools
    protocol, which the page's CSP does not govern (the page itself may run no inline script)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{page.url}: {bad}"
    assert page.csp_violations == [], page.csp_violations


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


PLAN = "ipsm-2014-acordo"


def grant_exception(stack: Stack, period: str, unit: str = "DS") -> None:
    """2014's periods closed long ago: a planner lets the unit write in `period` until tomorrow (README's tour)."""
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    with stack.api("planner") as api:
        answer = api.post(
            f"/api/execution/v1/plans/{PLAN}/locks/{period}/exceptions",
            json={"unit_code": unit, "until": until, "reason": "browser test"},
        )
    assert answer.status_code == 201, answer.text

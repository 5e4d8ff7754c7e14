"""What the console's browser tests share: the running stack, the people of the journeys, axe-core, screenshots."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from harness.tokens import principal_for

from metas_dev.cluster import Cluster, free_port
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
# The people of the journeys: who they are in the seed plans' organisation (IPSM) and what they may do.
PEOPLE: dict[str, dict[str, Any]] = {
    "registrar_ds": {"sub": "maria", "grants": [("registrar", "ipsm", ["DS"])]},
    "registrar_dp": {"sub": "rui", "grants": [("registrar", "ipsm", ["DP"])]},
    "certifier": {"sub": "carla", "grants": [("certifier", "ipsm")]},
    "planner": {"sub": "paula", "grants": [("planner", "ipsm"), ("planner", "ii")]},
    "admin": {"sub": "admin", "grants": [("admin", "*")]},
}


@dataclass
class Stack:
    cluster: Cluster
    tmp: Path
    secret: str
    consoles: dict[str, str] = field(default_factory=dict)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def gateway(self) -> str:
        return self.cluster.config.url("gateway")

    def token(self, who: str) -> str:
        person = PEOPLE[who]
        return issue_token(principal_for(sub=person["sub"], grants=person["grants"]), self.secret, ttl_seconds=3 * 3600)

    def api(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=self.gateway, headers={"authorization": f"Bearer {self.token(who)}"}, timeout=20)

    def console(self, who: str) -> str:
        """The console acting as `who` (development identity until sign-in reaches the test cluster)."""
        if who not in self.consoles:
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("METAS_")}
            env.update(
                METAS_CONSOLE_GATEWAY_URL=self.gateway,
                METAS_CONSOLE_DEV_TOKEN=self.token(who),
                METAS_CONSOLE_LOG_JSON="false",
                METAS_CONSOLE_LOG_LEVEL="WARNING",
            )
            log = open(self.tmp / f"console-{who}.log", "ab")
            cmd = [sys.executable, "-m", "uvicorn", "--factory", "console.app:create_app", "--port", str(port)]
            self.procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT))
            log.close()
            url = f"http://127.0.0.1:{port}"
            wait_ready(url)
            self.consoles[who] = url
        return self.consoles[who]


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

"""`make run`'s program end to end: embedded SQLite, migrations, seeds, a printed credential and printed
passwords that work through the gateway, the console behind the gateway, a service killed with SIGKILL restarted
while the rest stays up, and every child stopped on SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from metas_dev.accounts import PEOPLE

pytestmark = pytest.mark.integration


def test_run_starts_seeds_prints_credential_and_stops_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("METAS_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "metas_dev.run", "--var", str(tmp_path / "var"), "--random-ports"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    out: list[str] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out.append(line)
            if "Ctrl-C stops everything" in line:
                break
        text = "".join(out)
        assert "metas is running." in text, text
        gateway = re.search(r"gateway\s+(http://127\.0\.0\.1:\d+)", text)
        key = re.search(r"X-API-Key: (\S+)", text)
        assert gateway, text
        assert key, text
        # The credential is made on this machine, kept private, and works through the gateway.
        key_file = tmp_path / "var" / "admin-api-key"
        assert key_file.read_text().strip() == key.group(1)
        assert key_file.stat().st_mode & 0o077 == 0
        resp = httpx.get(f"{gateway.group(1)}/api/planning/v1/audit", headers={"x-api-key": key.group(1)}, timeout=10)
        assert resp.status_code == 200, resp.text
        wrong = httpx.get(f"{gateway.group(1)}/api/planning/v1/audit", headers={"x-api-key": "guess"}, timeout=10)
        assert wrong.status_code == 401
        for name in ("planning", "execution", "scoring", "budget", "accounts"):
            assert (tmp_path / "var" / f"{name}.db").exists()
        check_people(gateway.group(1), text, tmp_path / "var")
        check_console(gateway.group(1))
        check_restart(proc.pid, text)
        # Both seed plans and the PRR budget are loaded.
        admin = {"x-api-key": key.group(1)}
        plans = httpx.get(f"{gateway.group(1)}/api/planning/v1/plans", headers=admin, timeout=10).json()
        ids = {p["id"] for p in plans["items"]}
        assert {"ii-2024-quar", "ipsm-2014-acordo"} <= ids
        assert all(p["current_version"] == 1 for p in plans["items"])
        rec = httpx.get(f"{gateway.group(1)}/api/budget/v1/reconciliation", headers=admin, timeout=10)
        assert rec.status_code == 200, rec.text
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "metas: stopped." in rest
    assert "metas: execution exited with -9; restarting it in 1 s (restart 1" in rest, rest
    assert "metas: execution restarted" in rest
    # No child outlived the launcher: nothing listens on the gateway port any more.
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{gateway.group(1)}/healthz", timeout=2)


def check_people(gateway: str, text: str, var: Path) -> None:
    """Every demo person's password is printed once, kept owner-only, and signs them in with their grants."""
    printed = dict(re.findall(r"^  ([a-z.]+)\s+(\S+)$", text.split("Accounts made now", 1)[1], re.M))
    assert set(printed) == {p.username for p in PEOPLE}
    store = var / "local-accounts.json"
    assert store.stat().st_mode & 0o077 == 0
    assert json.loads(store.read_text()) == printed
    for person in PEOPLE:
        resp = httpx.post(
            f"{gateway}/api/auth/sign-in",
            json={"username": person.username, "password": printed[person.username]},
            timeout=10,
        )
        assert resp.status_code == 200, resp.text
        me = httpx.get(
            f"{gateway}/api/auth/me", headers={"authorization": f"Session {resp.json()['token']}"}, timeout=10
        )
        assert me.json()["grants"] == list(person.grants)
    ds = printed["ds.registrar"]
    token = httpx.post(
        f"{gateway}/api/auth/sign-in", json={"username": "ds.registrar", "password": ds}, timeout=10
    ).json()["token"]
    # The session reaches the services as the person: the plan of their organisation is theirs to read.
    plans = httpx.get(f"{gateway}/api/planning/v1/plans", headers={"authorization": f"Session {token}"}, timeout=10)
    assert plans.status_code == 200, plans.text
    assert "ipsm-2014-acordo" in {p["id"] for p in plans.json()["items"]}


def check_console(gateway: str) -> None:
    resp = httpx.get(f"{gateway}/", timeout=10)
    assert resp.status_code in (200, 303), resp.text
    assert "problem" not in resp.headers.get("content-type", "")


def child_pid(parent: int, marker: str) -> int:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[1]) == parent and marker in cmdline:
            return int(stat.parent.name)
    raise AssertionError(f"no child running {marker}")


def check_restart(launcher: int, text: str) -> None:
    """SIGKILL of one service: the gateway and the others stay up, the service is back within seconds."""
    services = dict(re.findall(r"(\w+) (http://127\.0\.0\.1:\d+)", text.split("services", 1)[1].split("\n", 1)[0]))
    gateway = re.search(r"gateway\s+(http://127\.0\.0\.1:\d+)", text)
    assert gateway
    victim = child_pid(launcher, "execution.app:create_app")
    os.kill(victim, signal.SIGKILL)
    time.sleep(0.5)
    assert httpx.get(f"{gateway.group(1)}/healthz", timeout=5).status_code == 200
    assert httpx.get(f"{services['planning']}/readyz", timeout=5).status_code == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{services['execution']}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    else:
        raise AssertionError("execution was not restarted within 30 s")
    assert child_pid(launcher, "execution.app:create_app") != victim

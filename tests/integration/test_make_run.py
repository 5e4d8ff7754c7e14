"""`make run`'s program end to end: embedded SQLite, migrations, seeds, a printed credential that works through
the gateway, and every child stopped on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

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
            if line.startswith("Ctrl-C stops everything"):
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
        for name in ("planning", "execution", "scoring", "budget"):
            assert (tmp_path / "var" / f"{name}.db").exists()
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
    # No child outlived the launcher: nothing listens on the gateway port any more.
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{gateway.group(1)}/healthz", timeout=2)

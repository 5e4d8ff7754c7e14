"""The first administrator of an installation, made by `metas create-admin` (accounts.bootstrap)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from accounts_support import make_app, serve
from harness.databases import fresh_database_async

from accounts.app import ALEMBIC_INI


async def test_create_admin_prints_a_password_once_that_signs_in(
    tmp_path: Path, jwt_secret: str, token_for: Callable[..., str]
) -> None:
    url = await fresh_database_async("sqlite", "bootstrap", tmp_path, ALEMBIC_INI)
    env = {"METAS_ACCOUNTS_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "accounts.bootstrap", "Root", "--email", "it@example.org"]
    first = await asyncio.to_thread(subprocess.run, cmd, env=env, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    found = re.fullmatch(r"Administrator root created\. Password \(shown this once\): (\S{20})\n", first.stdout)
    assert found, first.stdout
    again = await asyncio.to_thread(subprocess.run, cmd, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert again.stdout == ""
    async for api in serve(make_app(url, jwt_secret)):
        gateway = {"authorization": token_for("service")}
        opened = await api.post("/v1/sessions", json={"username": "root", "password": found.group(1)}, headers=gateway)
        assert opened.status_code == 201, opened.text
        assert opened.json()["account"]["grants"] == [{"role": "admin", "org": "*", "units": []}]
        admin = {"authorization": token_for("admin")}
        events = (await api.get("/v1/audit", params={"entity_id": "root"}, headers=admin)).json()["items"]
        assert ("account.create", "bootstrap") in {(e["action"], e["actor"]) for e in events}

"""The one image: Dockerfile structure (parsed by BuildKit's own parser via the `dockerfile` package),
the build context, and the entrypoint script run for real against a local service."""

from __future__ import annotations

import fnmatch
import os
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import dockerfile  # type: ignore[import-not-found]
import httpx
import psycopg
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from deploy_support import DB_SERVICES, REPO
from harness.databases import PG_ADMIN_DSN, create_pg_database, drop_pg_database

ENTRYPOINT = REPO / "deploy" / "docker" / "metas.sh"
VENV_BIN = Path(sys.executable).parent


def stages() -> list[list[dockerfile.Command]]:
    out: list[list[dockerfile.Command]] = []
    for cmd in dockerfile.parse_file(str(REPO / "Dockerfile")):
        if cmd.cmd == "FROM":
            out.append([])
        if out:
            out[-1].append(cmd)
    return out


def ignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def ignored(path: str) -> bool:
    """Approximates Docker's matcher: a path is excluded when it or one of its parents matches a pattern."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for pattern in ignore_patterns():
        negate = pattern.startswith("!")
        pat = pattern.lstrip("!")
        candidates = [pat, pat[3:]] if pat.startswith("**/") else [pat]
        if any(fnmatch.fnmatch(prefix, c) for prefix in prefixes for c in candidates):
            result = not negate
    return result


def test_multi_stage_build_ends_in_a_non_root_runtime_with_a_healthcheck() -> None:
    build, runtime = stages()
    assert build[0].value[-2:] == ("AS", "build")
    assert runtime[0].value[-2:] == ("AS", "runtime")
    final = {c.cmd: c for c in runtime}
    user = final["USER"].value[0].split(":")[0]
    assert user.isdigit()
    assert int(user) >= 1000
    assert final["HEALTHCHECK"].value == ("CMD", "metas", "healthcheck")
    assert final["ENTRYPOINT"].value == ("metas",)
    # The runtime stage gets the virtualenv from the build stage and never runs pip itself.
    assert any(c.cmd == "COPY" and "--from=build" in c.flags for c in runtime)
    assert not any(c.cmd == "RUN" and "pip" in c.original for c in runtime)
    assert any(c.cmd == "RUN" and "pip install --editable ." in c.original for c in build)
    # The editable install's .pth points at /app/...: both stages must keep the sources at the same path.
    workdirs = {c.value[0] for stage in (build, runtime) for c in stage if c.cmd == "WORKDIR"}
    assert workdirs == {"/app"}
    # USER comes after every COPY/RUN: nothing after it runs as root.
    user_at = [c.cmd for c in runtime].index("USER")
    assert not {c.cmd for c in runtime[user_at:]} & {"RUN", "COPY", "ADD"}


def test_every_copied_path_exists_and_is_in_the_build_context() -> None:
    sources = []
    for stage in stages():
        for c in stage:
            if c.cmd == "COPY" and not any(f.startswith("--from") for f in c.flags):
                sources.extend(c.value[:-1])
    assert "pyproject.toml" in sources
    for src in sources:
        assert (REPO / src).exists(), src
        assert not ignored(src), f"{src} is excluded by .dockerignore"


def test_build_context_leaves_out_local_state_and_tests() -> None:
    for path in (".venv", "var", ".git", "tests", "var/planning.db", "services/planning/src/planning/__pycache__"):
        assert ignored(path), path
    assert not ignored("services/planning/migrations/env.py")


def test_every_package_the_wheel_needs_is_copied_into_the_build_stage() -> None:
    copied = {v for c in stages()[0] if c.cmd == "COPY" for v in c.value[:-1]}
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    for package in packages:
        assert package.split("/")[0] in copied, package
    assert pyproject["project"]["readme"] in copied


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("METAS_")}
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        METAS_HOME=str(REPO),
        METAS_JWT_SECRET="entrypoint-test-secret-0123456789abcdef",
        **extra,
    )
    return env


def _entrypoint(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def _head(service: str) -> str:
    config = Config(str(REPO / "services" / service / "alembic.ini"))
    (head,) = ScriptDirectory.from_config(config).get_heads()
    return str(head)


def test_entrypoint_migrates_a_sqlite_database(tmp_path: Path) -> None:
    db = tmp_path / "planning.db"
    proc = _entrypoint(["migrate", "planning"], _env(tmp_path, METAS_PLANNING_DATABASE_URL=f"sqlite+aiosqlite:///{db}"))
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(db) as conn:
        (version,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version == _head("planning")


def test_entrypoint_migrates_the_four_postgresql_databases_to_head(tmp_path: Path) -> None:
    # What the compose `migrate` step and the Kubernetes Job run: `metas migrate` with every database URL.
    names = {svc: f"metas_deploy_migrate_{svc}_{os.getpid()}" for svc in DB_SERVICES}
    urls = {svc: create_pg_database(name) for svc, name in names.items()}
    try:
        env = _env(tmp_path, **{f"METAS_{svc.upper()}_DATABASE_URL": url for svc, url in urls.items()})
        proc = _entrypoint(["migrate"], env)
        assert proc.returncode == 0, proc.stderr
        assert [line for line in proc.stdout.splitlines() if line.startswith("metas: migrating")] == [
            f"metas: migrating {svc}" for svc in DB_SERVICES
        ]
        for svc, name in names.items():
            with psycopg.connect(PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}") as conn:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            assert row is not None
            assert row[0] == _head(svc), svc
    finally:
        for name in names.values():
            drop_pg_database(name)


def test_entrypoint_rejects_an_unknown_service(tmp_path: Path) -> None:
    proc = _entrypoint(["serve", "nosuch"], _env(tmp_path))
    assert proc.returncode != 0
    assert "unknown service 'nosuch'" in proc.stderr


def test_entrypoint_serves_a_service_that_its_healthcheck_sees(tmp_path: Path) -> None:
    port = str(_free_port())
    env = _env(
        tmp_path,
        PORT=port,
        HOST="127.0.0.1",
        METAS_SERVICE="execution",
        METAS_EXECUTION_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'execution.db'}",
        METAS_EXECUTION_MIGRATE_ON_START="true",
    )
    server = subprocess.Popen(
        ["sh", str(ENTRYPOINT), "serve"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            pytest.fail("execution did not answer /healthz within 60 s")
        assert _entrypoint(["healthcheck"], env).returncode == 0
        # exec: the shell is replaced by uvicorn, so signals reach the server directly.
        assert "uvicorn" in Path(f"/proc/{server.pid}/cmdline").read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert _entrypoint(["healthcheck"], env).returncode == 1


def test_entrypoint_seed_loads_both_seed_plans_and_the_budget_once(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        METAS_PLANNING_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'planning.db'}",
        METAS_BUDGET_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'budget.db'}",
    )
    first = _entrypoint(["seed"], env)
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(tmp_path / "planning.db") as conn:
        plans = sorted(row[0] for row in conn.execute("SELECT id FROM plan"))
    assert plans == ["ii-2024-quar", "ipsm-2014-acordo"]
    # Idempotent: the compose `seed` step may run on every `up`.
    second = _entrypoint(["seed"], env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("unchanged") == 2
    with sqlite3.connect(tmp_path / "planning.db") as conn:
        (versions,) = conn.execute("SELECT count(*) FROM plan_version").fetchone()
    assert versions == 2

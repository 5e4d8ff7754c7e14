"""Harness of the reliability tests: real processes (the fake upstream, gateways with chosen settings, a
cluster with extra replicas) on loopback ports, always stopped, and PostgreSQL always left running."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from metas_dev.cluster import SERVICES, Cluster, ClusterConfig, free_port

HERE = Path(__file__).resolve().parent
PG_VERSION = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1] if Path("/etc/postgresql").exists() else ""


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout} s")


@contextmanager
def fake_upstream(log_dir: Path) -> Iterator[str]:
    """The counting/sleeping upstream of rel_fake_upstream.py in its own uvicorn process; yields its URL."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / f"fake-upstream-{port}.log", "ab") as log:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "rel_fake_upstream:app"),
                *("--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/readyz", proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextmanager
def gateway_process(
    upstream_url: str, jwt_secret: str, log_dir: Path, *, timeout: float, env: dict[str, str]
) -> Iterator[str]:
    """A real gateway process whose four upstreams all point at ``upstream_url`` (each keeps its own breaker)."""
    ports = dict.fromkeys(SERVICES, 0) | {"gateway": free_port()}
    config = ClusterConfig(
        ports=ports,
        database_urls={},
        jwt_secret=jwt_secret,
        log_dir=log_dir,
        upstream_timeout_seconds=timeout,
        extra_env={
            "gateway": {f"METAS_GATEWAY_{name.upper()}_URL": upstream_url for name in SERVICES}
            | {"METAS_GATEWAY_LOG_LEVEL": "WARNING"}
            | env
        },
    )
    cluster = Cluster(config)
    cluster.start_one("gateway")
    try:
        cluster.wait_ready(("gateway",), timeout=30)
        yield config.url("gateway")
    finally:
        cluster.stop()


def pg_ctl(action: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", action, "-m", "fast"]
        if action in ("stop", "restart")
        else ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", action],
        check=True,
        capture_output=True,
        timeout=60,
    )


def pg_is_up() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"], check=False).returncode == 0


def ensure_pg_running() -> None:
    """Whatever a test did, PostgreSQL is running when it returns (other suites use it)."""
    if not pg_is_up():
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", "start"],
            check=False,
            capture_output=True,
            timeout=60,
        )
    deadline = time.monotonic() + 30
    while not pg_is_up() and time.monotonic() < deadline:
        time.sleep(0.2)


@dataclass
class FaultCluster:
    """planning + two execution replicas (same PostgreSQL database) + the gateway, on loopback ports."""

    main: Cluster
    replica: Cluster

    def url(self, name: str) -> str:
        return self.main.config.url(name)

    @property
    def replica_url(self) -> str:
        return self.replica.config.url("execution")

    def stop(self) -> None:
        self.replica.stop()
        self.main.stop()


def start_fault_cluster(jwt_secret: str, log_dir: Path, database_urls: dict[str, str]) -> FaultCluster:
    ports = {name: free_port() for name in (*SERVICES, "gateway")}
    quiet = {name: {f"METAS_{name.upper()}_LOG_LEVEL": "WARNING"} for name in (*SERVICES, "gateway")}
    config = ClusterConfig(
        ports=ports,
        database_urls=database_urls,
        jwt_secret=jwt_secret,
        log_dir=log_dir,
        upstream_timeout_seconds=3.0,
        extra_env=quiet,
    )
    main = Cluster(config)
    # The second replica: same code, same database URL, another port; started after the first has migrated.
    replica = Cluster(replace(config, ports={**ports, "execution": free_port()}, log_dir=log_dir / "replica"))
    cluster = FaultCluster(main, replica)
    try:
        main.start_one("planning")
        main.start_one("execution")
        main.wait_ready(("planning", "execution"), timeout=90)
        main.start_one("gateway")
        replica.start_one("execution")
        replica.wait_ready(("execution",), timeout=90)
        wait_http(config.url("gateway") + "/healthz", main.procs["gateway"])
    except BaseException:
        cluster.stop()
        raise
    return cluster

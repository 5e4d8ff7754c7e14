"""Start, watch and stop the processes of the cluster (uvicorn each), on loopback: the five services, the
gateway, and the web console when the configuration gives it a port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SERVICES = ("planning", "execution", "scoring", "budget", "accounts")
DEFAULT_PORTS = {
    "gateway": 8000,
    "planning": 8001,
    "execution": 8002,
    "scoring": 8003,
    "budget": 8004,
    "accounts": 8005,
    "console": 8006,
}
# Upstreams of each service: the env var it reads and the service it points at.
UPSTREAM_ENV = {
    "execution": {"PLANNING_URL": "planning", "ACCOUNTS_URL": "accounts"},
    "scoring": {"PLANNING_URL": "planning", "EXECUTION_URL": "execution"},
    "budget": {"PLANNING_URL": "planning"},
    "gateway": {f"{s.upper()}_URL": s for s in SERVICES},
    "console": {"GATEWAY_URL": "gateway"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_path(name: str) -> str:
    return f"{name}.app:create_app"


@dataclass
class ClusterConfig:
    ports: dict[str, int]
    database_urls: dict[str, str]
    jwt_secret: str
    log_dir: Path
    api_keys_file: Path | None = None
    extra_env: dict[str, dict[str, str]] = field(default_factory=dict)
    upstream_timeout_seconds: float = 10.0

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def env_for(self, name: str) -> dict[str, str]:
        prefix = f"METAS_{name.upper()}_"
        env = {k: v for k, v in os.environ.items() if not k.startswith("METAS_")}
        env["METAS_JWT_SECRET"] = self.jwt_secret
        env["PYTHONUNBUFFERED"] = "1"
        if name in self.database_urls:
            env[prefix + "DATABASE_URL"] = self.database_urls[name]
            env[prefix + "MIGRATE_ON_START"] = "true"
        for var, target in UPSTREAM_ENV.get(name, {}).items():
            env[prefix + var] = self.url(target)
        if name == "gateway":
            env[prefix + "UPSTREAM_TIMEOUT_SECONDS"] = str(self.upstream_timeout_seconds)
            if "console" in self.ports:
                env[prefix + "CONSOLE_URL"] = self.url("console")
            else:
                env[prefix + "CONSOLE_ENABLED"] = "false"
            if self.api_keys_file:
                env[prefix + "API_KEYS_FILE"] = str(self.api_keys_file)
        env.update(self.extra_env.get(name, {}))
        return env


class Cluster:
    """Real uvicorn processes. Services start first so migrations finish before the gateway probes them."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.started_at: dict[str, float] = {}

    def start_one(self, name: str) -> None:
        cfg = self.config
        cfg.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(cfg.log_dir / f"{name}.log", "ab")
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            app_path(name),
            "--host",
            "127.0.0.1",
            "--port",
            str(cfg.ports[name]),
            "--no-access-log",
            "--timeout-graceful-shutdown",
            "5",
        ]
        if name == "gateway":
            # Requests uvicorn itself rejects still get a problem+json answer at the edge.
            cmd += ["--http", "gateway.server:HttpProtocol"]
        self.procs[name] = subprocess.Popen(
            cmd, env=cfg.env_for(name), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started_at[name] = time.monotonic()
        log.close()

    @property
    def names(self) -> tuple[str, ...]:
        """In start order: the services (migrations done before the gateway probes them), the gateway, then
        the console (its readiness is the gateway's)."""
        return (*SERVICES, "gateway", *(("console",) if "console" in self.config.ports else ()))

    def start(self) -> None:
        for name in self.names:
            self.start_one(name)

    def wait_ready(self, names: tuple[str, ...] | None = None, timeout: float = 60.0) -> None:
        names = names or self.names
        deadline = time.monotonic() + timeout
        pending = list(names)
        while pending:
            name = pending[0]
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.config.log_dir / name}.log")
            try:
                if httpx.get(self.config.url(name) + "/readyz", timeout=1.0).status_code == 200:
                    pending.pop(0)
                    continue
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} not ready after {timeout} s; see {self.config.log_dir / name}.log")
            time.sleep(0.2)

    def stop_one(self, name: str, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def kill_one(self, name: str) -> None:
        self.stop_one(name, signal.SIGKILL)

    def stop(self) -> None:
        for name in reversed(self.names):
            self.stop_one(name)


@dataclass
class Restarts:
    """Keeps the cluster up when one process dies: restarts it after a back-off that doubles with each quick
    death (1 s, 2 s, 4 s … up to ``max_backoff``) and starts again from 1 s once a run has lasted ``stable``."""

    cluster: Cluster
    log: Callable[[str], None]
    max_backoff: float = 30.0
    stable: float = 60.0
    backoff: dict[str, float] = field(default_factory=dict)
    due: dict[str, float] = field(default_factory=dict)
    count: dict[str, int] = field(default_factory=dict)

    def tick(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for name, proc in list(self.cluster.procs.items()):
            if name in self.due or proc.poll() is None:
                continue
            lasted = now - self.cluster.started_at.get(name, now)
            delay = 1.0 if lasted >= self.stable else min(self.max_backoff, self.backoff.get(name, 0.5) * 2)
            self.backoff[name] = delay
            self.due[name] = now + delay
            self.count[name] = self.count.get(name, 0) + 1
            self.log(
                f"metas: {name} exited with {proc.returncode}; restarting it in {delay:g} s "
                f"(restart {self.count[name]}; see {self.cluster.config.log_dir / name}.log)"
            )
        for name, at in list(self.due.items()):
            if now >= at:
                del self.due[name]
                self.cluster.start_one(name)
                self.log(f"metas: {name} restarted (pid {self.cluster.procs[name].pid})")

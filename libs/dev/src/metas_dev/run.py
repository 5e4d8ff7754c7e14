"""`make run`: the whole cluster on loopback with embedded SQLite and the seed data loaded.

Migrates every database, starts the four services and the gateway, loads the seeds, prints the URLs and a
local admin credential, and stops every child cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import importlib.util
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from metas_dev.cluster import DEFAULT_PORTS, SERVICES, Cluster, ClusterConfig, free_port
from metas_dev.credentials import admin_api_key, jwt_secret
from metas_kit.auth import Principal, issue_token

# Seed loaders of the services that have seed data, and the data each reads.
SEEDS = {"planning": "data/plans", "execution": "data/execution", "budget": "data/budget"}


def load_seeds(cluster: Cluster) -> None:
    for service, data in SEEDS.items():
        module = f"{service}.seed"
        if importlib.util.find_spec(module) is None:
            print(f"  (no seed loader {module} yet; skipped)")
            continue
        env = cluster.config.env_for(service)
        result = subprocess.run([sys.executable, "-m", module, data], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"seeding {service} failed:\n{result.stdout}\n{result.stderr}")
        for line in result.stdout.strip().splitlines() or ["ok"]:
            print(f"  seeded {service} from {data}: {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--var", type=Path, default=Path("var"))
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--random-ports", action="store_true", help="ephemeral ports instead of 8000-8004")
    args = parser.parse_args()
    var: Path = args.var.resolve()
    secret = jwt_secret(var)
    key, keys_file = admin_api_key(var)
    config = ClusterConfig(
        ports={n: free_port() for n in DEFAULT_PORTS} if args.random_ports else dict(DEFAULT_PORTS),
        database_urls={s: f"sqlite+aiosqlite:///{var}/{s}.db" for s in SERVICES},
        jwt_secret=secret,
        log_dir=var / "logs",
        api_keys_file=keys_file,
    )
    cluster = Cluster(config)
    stopping = False

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print("metas: migrating and starting planning, execution, scoring, budget and the gateway …")
    try:
        cluster.start()
        cluster.wait_ready(timeout=90)
        if not args.no_seed:
            load_seeds(cluster)
        token = issue_token(Principal("local-admin", frozenset({"admin"})), secret, ttl_seconds=12 * 3600)
        print(
            f"""
metas is running.
  gateway      {config.url("gateway")}     (API under /api/<service>/v1/…, docs at /docs, merged spec /openapi.json)
  services     {", ".join(f"{s} {config.url(s)}" for s in SERVICES)}
  metrics      {config.url("gateway")}/metrics and each service's /metrics
  logs         {config.log_dir}/

Local admin credential (made for this machine, kept in {var}/admin-api-key):
  X-API-Key: {key}
  or Authorization: Bearer {token}
  (other roles: python -m metas_dev.token --roles registrar --units DAS)

Ctrl-C stops everything.""",
            flush=True,
        )
        while not stopping:
            for name, proc in list(cluster.procs.items()):
                if proc.poll() is not None:
                    print(f"metas: {name} exited with {proc.returncode}; stopping the cluster", file=sys.stderr)
                    stopping = True
            time.sleep(0.5)
        return 0
    except (RuntimeError, TimeoutError) as exc:
        print(f"metas: {exc}", file=sys.stderr)
        return 1
    finally:
        print("metas: stopping …", flush=True)
        cluster.stop()
        print("metas: stopped.")


if __name__ == "__main__":
    sys.exit(main())

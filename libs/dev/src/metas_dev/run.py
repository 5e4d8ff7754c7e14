"""`make run`: the whole cluster on loopback with embedded SQLite and the seed data loaded.

Migrates every database, starts the five services, the gateway and the web console, loads the seeds, makes
the local accounts (an admin and one per role of the seed plans), prints the URLs and the passwords made, keeps
every process up (a process that dies is restarted with back-off) and stops them all on Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import importlib.util
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from metas_dev.accounts import PEOPLE, ensure_people
from metas_dev.cluster import DEFAULT_PORTS, SERVICES, Cluster, ClusterConfig, Restarts, free_port
from metas_dev.credentials import admin_api_key, jwt_secret

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


def has_console() -> bool:
    return importlib.util.find_spec("console.app") is not None


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--var", type=Path, default=Path("var"))
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--random-ports", action="store_true", help="ephemeral ports instead of 8000-8006")
    args = parser.parse_args()
    var: Path = args.var.resolve()
    secret = jwt_secret(var)
    key, keys_file = admin_api_key(var)
    names = [n for n in DEFAULT_PORTS if n != "console" or has_console()]
    config = ClusterConfig(
        ports={n: free_port() if args.random_ports else DEFAULT_PORTS[n] for n in names},
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
    print(f"metas: migrating and starting {', '.join(cluster.names)} …", flush=True)
    try:
        cluster.start()
        cluster.wait_ready(timeout=90)
        if not args.no_seed:
            load_seeds(cluster)
        made = ensure_people(config.url("accounts"), secret, var)
        gateway = config.url("gateway")
        console = f"{gateway}/  (the web console)" if "console" in config.ports else "(no console package installed)"
        if made:
            people = "\n".join(f"  {name:<15} {password}" for name, password in made.items())
            accounts = f"Accounts made now (passwords shown this once; kept in {var}/local-accounts.json):\n{people}"
        else:
            accounts = f"Accounts: {', '.join(p.username for p in PEOPLE)} (passwords in {var}/local-accounts.json)"
        print(
            f"""
metas is running.
  console      {console}
  gateway      {gateway}     (API under /api/<service>/v1/…, sign-in at /api/auth/sign-in, docs at /docs)
  services     {", ".join(f"{s} {config.url(s)}" for s in SERVICES)}
  metrics      each service's /metrics (Prometheus scrapes them directly)
  logs         {config.log_dir}/

{accounts}

Local admin API key (made for this machine, kept in {var}/admin-api-key):
  X-API-Key: {key}
  (tokens for other roles: python -m metas_dev.token --roles registrar --org ipsm --units DS)

A process that stops is restarted; Ctrl-C stops everything.""",
            flush=True,
        )
        restarts = Restarts(cluster, log)
        while not stopping:
            restarts.tick()
            time.sleep(0.2)
        return 0
    except (RuntimeError, TimeoutError) as exc:
        log(f"metas: {exc}")
        return 1
    finally:
        print("metas: stopping …", flush=True)
        cluster.stop()
        print("metas: stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())

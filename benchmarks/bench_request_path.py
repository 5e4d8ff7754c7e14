"""Service CPU per request of the hot routes of planning, execution and budget, each against its lean baseline
measured in the same run (issue 15). Real processes on loopback:

  planning, execution, budget   the services as they run (uvicorn, one process each, their own databases)
  baseline                      one uvicorn process serving the lean baselines of every route (_lean_apps.py):
                                FastAPI, PyJWT's check of the same token, the same database, SQLAlchemy Core,
                                the same response body (checked before measuring), nothing else

Routes (service path → baseline path):

  plan        GET /v1/plans/ipsm-2014-acordo
  tree-200    GET /v1/plans/ipsm-2014-acordo/tree                     (~100 kB of JSON)
  tree-304    GET /v1/plans/ipsm-2014-acordo/tree, If-None-Match: the current tag
  put         PUT /v1/plans/ii-2024-quar/registrations/{item}/2024-12, a new version with If-Match (64 rows in
              turn, each request carrying the ETag of the row's last answer; wrk's Lua script keeps them); the
              baseline applies the route's rules (grant, owed period, lock, window, justification, warnings)
  put-bare    the same PUT against a baseline that writes without any of those rules
  compliance  GET /v1/plans/ii-2024-quar/compliance?through=2024-12  (a year of registrations, 2,124 rows)
  budget      GET /v1/budget/reports/planned-vs-executed?group_by=eixo,year   (the seed's 188 amounts)

Each route: the service, then its baseline, each loaded by ``wrk -t1 -cN`` (Debian package) for a warm-up and
then ``--duration`` seconds; the CPU (user + system, /proc/<pid>/stat) the target process spent during the
measured run divided by the requests answered. ``--rounds`` repeats everything, interleaved, and the medians
are reported, with two ratios: of the medians, and the paired one (the median of each round's service/baseline
ratio, whose two runs follow each other). Both backends by default: SQLite files in a temporary directory and
PostgreSQL scratch databases ``metas_bench_rp_<service>`` (dropped at the end, kept with METAS_BENCH_KEEP=1).
The periodic gauge refreshes and the reminder job are off in the measured services (background work, not the
request path); everything on the request path (authentication, tenancy checks, audit, validation, the access
log at INFO, metrics) runs.

    .venv/bin/python benchmarks/bench_request_path.py [--backends sqlite,postgresql] [--duration 5] [--rounds 3]
        [--connections 32] [--only plan,tree-304] [--profile DIR]

``--profile DIR`` samples each service process with py-spy (PyPI) during its first measured run of each route
and writes the collapsed stacks to DIR, printing the hottest frames. Results go to var/bench/request_path.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _bench_support import DEFAULT_PG, drop_pg_database, machine, recreate_pg_database

from metas_kit.auth import Principal, issue_token

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(__file__).resolve().parent
SECRET = "bench-request-path-" + os.urandom(16).hex()
CLOCK = "2025-01-20T12:00:00+00:00"
ACORDO = "ipsm-2014-acordo"
QUAR = "ii-2024-quar"
PUT_PERIOD = "2024-12"
PUT_ROWS = 64
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Route:
    name: str
    service: str
    method: str
    path: str
    lean_path: str
    headers: tuple[tuple[str, str], ...] = ()


def routes(tree_etag: str) -> list[Route]:
    return [
        Route("plan", "planning", "GET", f"/v1/plans/{ACORDO}", f"/lean/planning/plans/{ACORDO}"),
        Route("tree-200", "planning", "GET", f"/v1/plans/{ACORDO}/tree", f"/lean/planning/plans/{ACORDO}/tree"),
        Route(
            "tree-304",
            "planning",
            "GET",
            f"/v1/plans/{ACORDO}/tree",
            f"/lean/planning/plans/{ACORDO}/tree",
            (("If-None-Match", tree_etag),),
        ),
        Route(
            "put",
            "execution",
            "PUT",
            f"/v1/plans/{QUAR}/registrations",
            f"/lean/execution/plans/{QUAR}/registrations",
        ),
        # The same PUT against a baseline that applies none of the route's rules (the earlier passes' baseline).
        Route(
            "put-bare",
            "execution",
            "PUT",
            f"/v1/plans/{QUAR}/registrations",
            f"/lean/execution/bare/plans/{QUAR}/registrations",
        ),
        Route(
            "compliance",
            "execution",
            "GET",
            f"/v1/plans/{QUAR}/compliance?through=2024-12",
            f"/lean/execution/plans/{QUAR}/compliance?through=2024-12",
        ),
        Route(
            "budget",
            "budget",
            "GET",
            "/v1/budget/reports/planned-vs-executed?group_by=eixo,year",
            "/lean/budget/reports/planned-vs-executed?group_by=eixo,year",
        ),
    ]


# --- processes ---------------------------------------------------------------------------------------------------


# Two runs at once (two worktrees) must not share scratch databases: METAS_BENCH_DB_SUFFIX names them apart.
DB_SUFFIX = os.environ.get("METAS_BENCH_DB_SUFFIX", "")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


@dataclass
class Proc:
    name: str
    port: int
    popen: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start(name: str, factory: str, env: dict[str, str], log_dir: Path) -> Proc:
    port = free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("METAS_")}
    full.update(env)
    full["METAS_JWT_SECRET"] = SECRET
    full["BENCH_CLOCK"] = CLOCK
    full["PYTHONPATH"] = os.pathsep.join([str(BENCH_DIR), full.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    with open(log_dir / f"{name}.log", "ab") as log:
        popen = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                factory,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
            ],
            env=full,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Proc(name, port, popen)


def wait_ready(proc: Proc, path: str = "/healthz", timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}")
        try:
            if httpx.get(proc.url + path, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(proc.name)


def stop(proc: Proc) -> None:
    if proc.popen.poll() is None:
        proc.popen.send_signal(signal.SIGTERM)
        try:
            proc.popen.wait(15)
        except subprocess.TimeoutExpired:
            proc.popen.kill()
            proc.popen.wait(5)


# --- databases -----------------------------------------------------------------------------------------------------


async def prepare_databases(backend: str, tmp: Path) -> dict[str, str]:
    from budget.app import ALEMBIC_INI as BUDGET_INI
    from budget.seed import load_seed
    from execution.app import ALEMBIC_INI as EXECUTION_INI
    from metas_kit.db import Database
    from metas_kit.migrations import upgrade_head
    from planning.app import ALEMBIC_INI as PLANNING_INI
    from planning.seed import load

    urls: dict[str, str] = {}
    for service in ("planning", "execution", "budget"):
        if backend == "sqlite":
            urls[service] = f"sqlite+aiosqlite:///{tmp}/{service}.db"
        else:
            urls[service] = await recreate_pg_database(DEFAULT_PG, f"metas_bench_rp_{service}{DB_SUFFIX}")
    await asyncio.to_thread(upgrade_head, PLANNING_INI, urls["planning"])
    await load(ROOT / "data" / "plans", urls["planning"])
    await asyncio.to_thread(upgrade_head, EXECUTION_INI, urls["execution"])
    await asyncio.to_thread(upgrade_head, BUDGET_INI, urls["budget"])
    db = Database(urls["budget"])
    async with db.sessionmaker() as session, session.begin():
        await load_seed(session, ROOT / "data" / "budget", organisation="ii")
    await db.dispose()
    return urls


async def drop_databases(backend: str) -> None:
    if backend == "postgresql":
        for service in ("planning", "execution", "budget"):
            await drop_pg_database(DEFAULT_PG, f"metas_bench_rp_{service}{DB_SUFFIX}")


def token(*roles: str) -> str:
    return "Bearer " + issue_token(Principal("bench", frozenset(roles)), SECRET, ttl_seconds=6 * 3600)


def seed_registrations(execution: Proc, admin: str) -> list[dict[str, str]]:
    """A year of the QUAR plan imported (what the compliance report reads), then PUT_ROWS rows of 2024-12 the
    PUT route writes new versions of: their paths, bodies and current ETags."""
    h = {"authorization": admin}
    with httpx.Client(base_url=execution.url, timeout=120) as client:
        table = client.get(f"/v1/plans/{QUAR}/deadlines", headers=h).json()
        dues = {p["period"]: p["due_date"] for p in table["periods"]}
        rows: list[dict[str, Any]] = []
        owed_dec: list[dict[str, Any]] = []
        for month in range(1, 13):
            period = f"2024-{month:02d}"
            status = client.get(f"/v1/plans/{QUAR}/status?period={period}&limit=500", headers=h).json()
            for item in status["items"]:
                payload = (
                    {"value": str(month)}
                    if item["item_kind"] == "indicator"
                    else {"cumulative_percent": str(month * 8)}
                )
                rows.append(
                    {
                        "item_code": item["item_code"],
                        "period": period,
                        "payload": payload,
                        "registered_at": f"{dues[period]}T12:00:00Z",
                        "justification": "bench",  # a value short of its meta needs one
                    }
                )
                if period == PUT_PERIOD:
                    owed_dec.append(item)
        res = client.post(
            f"/v1/plans/{QUAR}/registrations:import", json={"registrations": rows}, headers=h | {"x-request-id": "seed"}
        )
        if res.status_code != 200:
            raise RuntimeError(f"import failed: {res.status_code} {res.text[:300]}")
        out = []
        for item in owed_dec[:PUT_ROWS]:
            path = f"/v1/plans/{QUAR}/registrations/{item['item_code']}/{PUT_PERIOD}"
            etag = client.get(path, headers=h).headers["etag"]
            payload = {"value": "7.5"} if item["item_kind"] == "indicator" else {"cumulative_percent": "75"}
            out.append(
                {
                    "suffix": f"/{item['item_code']}/{PUT_PERIOD}",
                    "etag": etag,
                    "body": json.dumps({"payload": payload, "reason": "bench", "justification": "bench"}),
                }
            )
        return out


# --- load ---------------------------------------------------------------------------------------------------------

PUT_LUA = """
local rows = {ROWS}
local prefix = "{PREFIX}"
local auth = "{AUTH}"
local free, by_location = {{}}, {{}}
for i, r in ipairs(rows) do
  r.path = prefix .. r.suffix
  by_location[r.location] = r
  free[#free + 1] = r
end
request = function()
  local r = table.remove(free)
  if r == nil then r = rows[math.random(#rows)] end
  return wrk.format("PUT", r.path, {{["Authorization"] = auth, ["Content-Type"] = "application/json",
    ["If-Match"] = r.etag}}, r.body)
end
response = function(status, headers, body)
  local loc = headers["location"] or headers["Location"]
  local tag = headers["etag"] or headers["ETag"]
  if loc and tag and by_location[loc] then
    local r = by_location[loc]
    r.etag = tag
    free[#free + 1] = r
  end
end
"""


def nothing() -> None:
    return None


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for this ASCII content


def put_script(path: Path, rows: list[dict[str, str]], prefix: str, auth: str) -> None:
    items = []
    for r in rows:
        location = f"/v1/plans/{QUAR}/registrations{r['suffix']}"
        items.append(
            f"{{suffix={lua_string(r['suffix'])}, location={lua_string(location)}, "
            f"etag={lua_string(r['etag'])}, body={lua_string(r['body'])}}}"
        )
    path.write_text(PUT_LUA.format(ROWS="{" + ",\n".join(items) + "}", PREFIX=prefix, AUTH=auth))


@dataclass
class Run:
    requests: int
    errors: int
    rps: float
    cpu_ms: float


def wrk(
    url: str, headers: dict[str, str], duration: float, connections: int, script: Path | None
) -> tuple[int, int, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "30s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    import re

    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(g) for g in sock.groups()) if sock else 0)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return requests, errors, rps


def measure(
    proc: Proc,
    url: str,
    headers: dict[str, str],
    duration: float,
    connections: int,
    script: Path | None,
    profile: Path | None = None,
    prepare: Callable[[], None] = lambda: None,
) -> Run:
    prepare()
    wrk(url, headers, 2.0, connections, script)  # warm-up, not measured
    prepare()
    spy = None
    if profile is not None:
        exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        spy = subprocess.Popen(
            [
                exe,
                "record",
                "-p",
                str(proc.popen.pid),
                "-d",
                str(int(duration)),
                "-r",
                "250",
                "-f",
                "raw",
                "--gil",
                "-o",
                str(profile),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    before = cpu_seconds(proc.popen.pid)
    requests, errors, rps = wrk(url, headers, duration, connections, script)
    cpu = cpu_seconds(proc.popen.pid) - before
    if spy is not None:
        spy.wait(60)
    return Run(requests, errors, rps, cpu * 1000 / max(1, requests))


# --- checks: the baseline answers what the service answers ------------------------------------------------------

VOLATILE = {"version", "etag", "updated_at"}


def same_body(route: Route, service: httpx.Response, lean: httpx.Response) -> None:
    if service.status_code != lean.status_code:
        raise AssertionError(f"{route.name}: status {service.status_code} vs baseline {lean.status_code}")
    if service.status_code == 304:
        for h in ("etag", "x-plan-version", "x-plan-version-status"):
            if service.headers.get(h) != lean.headers.get(h):
                raise AssertionError(f"{route.name}: header {h} differs")
        return
    a, b = service.json(), lean.json()
    if route.method == "PUT":
        # The registration fields the baseline writes and answers; the service's answer adds what it works out
        # beyond them (the justification band and flags, warnings), which the baseline does not compute.
        b = {k: v for k, v in b.items() if k not in VOLATILE}
        a = {k: v for k, v in a.items() if k in b}
    if a != b:
        raise AssertionError(f"{route.name}: bodies differ\nservice: {str(a)[:600]}\nbaseline: {str(b)[:600]}")


# --- profiles -------------------------------------------------------------------------------------------------------


def summarise_profile(raw: Path, top: int = 30) -> str:
    """Inclusive and self share of the hottest frames of py-spy's collapsed stacks."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
        own[frames[-1]] = own.get(frames[-1], 0) + n
    lines = [f"{raw.name}: {total} samples"]
    lines.append("  inclusive:")
    for frame, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"    {n * 100 / max(1, total):5.1f}%  {frame[:150]}")
    lines.append("  self:")
    for frame, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"    {n * 100 / max(1, total):5.1f}%  {frame[:150]}")
    return "\n".join(lines)


# --- the run ----------------------------------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    route: str
    service: list[Run] = field(default_factory=list)
    lean: list[Run] = field(default_factory=list)

    def median(self, which: str, attr: str) -> float:
        runs = self.service if which == "service" else self.lean
        return statistics.median(getattr(r, attr) for r in runs)

    @property
    def ratio(self) -> float:
        return self.median("service", "cpu_ms") / self.median("lean", "cpu_ms")

    @property
    def paired_ratio(self) -> float:
        """The median of each round's ratio: a round's two runs follow each other, so they share the machine's
        state (another process's burst slows both), which the ratio of the medians mixes across rounds."""
        return statistics.median(s.cpu_ms / b.cpu_ms for s, b in zip(self.service, self.lean, strict=True))


def run_backend(backend: str, args: argparse.Namespace, tmp: Path) -> list[Result]:
    urls = asyncio.run(prepare_databases(backend, tmp))
    logs = tmp / f"logs-{backend}"
    logs.mkdir(exist_ok=True)
    procs: dict[str, Proc] = {}
    admin = token("admin")
    try:
        procs["planning"] = start(
            "planning", "_lean_apps:planning_service", {"METAS_PLANNING_DATABASE_URL": urls["planning"]}, logs
        )
        wait_ready(procs["planning"])
        procs["execution"] = start(
            "execution",
            "_lean_apps:execution_service",
            {
                "METAS_EXECUTION_DATABASE_URL": urls["execution"],
                "METAS_EXECUTION_PLANNING_URL": procs["planning"].url,
                "METAS_EXECUTION_METRICS_REFRESH_SECONDS": "0",
                "METAS_EXECUTION_REMINDERS_INTERVAL_SECONDS": "0",
            },
            logs,
        )
        procs["budget"] = start(
            "budget",
            "_lean_apps:budget_service",
            {
                "METAS_BUDGET_DATABASE_URL": urls["budget"],
                "METAS_BUDGET_PLANNING_URL": procs["planning"].url,
                "METAS_BUDGET_METRICS_REFRESH_SECONDS": "0",
            },
            logs,
        )
        procs["baseline"] = start(
            "baseline",
            "_lean_apps:baseline",
            {
                "BENCH_PLANNING_DB": urls["planning"],
                "BENCH_EXECUTION_DB": urls["execution"],
                "BENCH_BUDGET_DB": urls["budget"],
            },
            logs,
        )
        for name in ("execution", "budget"):
            wait_ready(procs[name])
        wait_ready(procs["baseline"], "/lean/planning/plans/none")
        put_rows = seed_registrations(procs["execution"], admin)
        tree_etag = httpx.get(
            procs["planning"].url + f"/v1/plans/{ACORDO}/tree", headers={"authorization": admin}, timeout=30
        ).headers["etag"]
        chosen = [r for r in routes(tree_etag) if not args.only or r.name in args.only]
        # The baseline answers what the service answers (the PUT: one write each, on the first row).
        for route in chosen:
            headers = {"authorization": admin, **dict(route.headers)}
            if route.method == "PUT":
                row = put_rows[0]
                svc = httpx.put(
                    procs["execution"].url + route.path + row["suffix"],
                    headers=headers | {"if-match": row["etag"], "content-type": "application/json"},
                    content=row["body"],
                    timeout=30,
                )
                lean = httpx.put(
                    procs["baseline"].url + route.lean_path + row["suffix"],
                    headers=headers | {"if-match": svc.headers["etag"], "content-type": "application/json"},
                    content=row["body"],
                    timeout=30,
                )
                row["etag"] = lean.headers["etag"]
            else:
                svc = httpx.get(procs[route.service].url + route.path, headers=headers, timeout=30)
                lean = httpx.get(procs["baseline"].url + route.lean_path, headers=headers, timeout=30)
            same_body(route, svc, lean)
        results = {r.name: Result(backend, r.name) for r in chosen}
        for rnd in range(args.rounds):
            for route in chosen:
                headers = {"authorization": admin, **dict(route.headers)}
                for which in ("service", "lean"):
                    proc = procs[route.service] if which == "service" else procs["baseline"]
                    path = route.path if which == "service" else route.lean_path
                    script = None
                    prepare: Callable[[], None] = nothing
                    if route.method == "PUT":
                        script = tmp / f"put-{which}.lua"

                        def prepare(script: Path = script, path: str = path) -> None:
                            # Each wrk run goes on from the tags the last one left (its last requests were cut off).
                            for row in put_rows:
                                row["etag"] = httpx.get(
                                    procs["execution"].url + f"/v1/plans/{QUAR}/registrations" + row["suffix"],
                                    headers={"authorization": admin},
                                    timeout=30,
                                ).headers["etag"]
                            put_script(script, put_rows, path, admin)

                    profile = None
                    if args.profile is not None and rnd == 0 and which == "service":
                        profile = args.profile / f"{backend}-{route.name}.spy"
                    run = measure(
                        proc, proc.url + path, headers, args.duration, args.connections, script, profile, prepare
                    )
                    getattr(results[route.name], which).append(run)
                    print(
                        f"  [{backend} round {rnd + 1}] {route.name:<10} {which:<7} {run.cpu_ms:6.3f} ms CPU/req "
                        f"{run.rps:7.0f} req/s {run.requests:6d} requests {run.errors} errors",
                        flush=True,
                    )
        return list(results.values())
    finally:
        for proc in procs.values():
            stop(proc)
        if os.environ.get("METAS_BENCH_KEEP") != "1":
            asyncio.run(drop_databases(backend))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per target and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", type=lambda s: set(s.split(",")), default=None, help="route names, comma-separated")
    parser.add_argument("--profile", type=Path, default=None, help="directory for py-spy profiles of the services")
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench" / "request_path.json")
    parser.add_argument("--max-ratio", type=float, default=None, help="exit 1 when a route's CPU ratio exceeds it")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.stderr.write("wrk is required (apt-get install -y wrk)\n")
        return 2
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    start_text = machine()
    results: list[Result] = []
    # METAS_BENCH_KEEP=1 keeps the databases and service logs (to read why a request failed).
    keep = os.environ.get("METAS_BENCH_KEEP") == "1"
    with contextlib.ExitStack() as stack:
        tmp = tempfile.mkdtemp(prefix="metas-rp-") if keep else stack.enter_context(tempfile.TemporaryDirectory())
        for backend in args.backends.split(","):
            print(f"\n## {backend}", flush=True)
            results += run_backend(backend, args, Path(tmp))
        if keep:
            print(f"kept: {tmp}")
    print("\n" + start_text + machine())
    print(
        f"wrk -t1 -c{args.connections}, {args.duration:g} s measured per target after a 2 s warm-up, "
        f"{args.rounds} rounds (medians)\n"
    )
    print(
        "| backend | route | service CPU ms/req | baseline CPU ms/req | ratio | paired ratio "
        "| service req/s | baseline req/s | errors |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        errors = sum(x.errors for x in r.service + r.lean)
        print(
            f"| {r.backend} | {r.route} | {r.median('service', 'cpu_ms'):.3f} | {r.median('lean', 'cpu_ms'):.3f} "
            f"| **{r.ratio:.2f}** | {r.paired_ratio:.2f} "
            f"| {r.median('service', 'rps'):.0f} | {r.median('lean', 'rps'):.0f} | {errors} |"
        )
    if args.profile is not None:
        for raw in sorted(args.profile.glob("*.spy")):
            print("\n" + summarise_profile(raw))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            [
                {
                    **asdict(r),
                    "service_cpu_ms": r.median("service", "cpu_ms"),
                    "lean_cpu_ms": r.median("lean", "cpu_ms"),
                    "ratio": r.ratio,
                    "paired_ratio": r.paired_ratio,
                }
                for r in results
            ],
            indent=2,
        )
    )
    if args.max_ratio is not None and any(r.ratio > args.max_ratio for r in results):
        return 1
    return 1 if any(x.errors for r in results for x in r.service + r.lean) else 0


if __name__ == "__main__":
    sys.exit(main())

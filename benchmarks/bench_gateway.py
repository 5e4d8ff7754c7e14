"""Load test of the gateway on loopback, against baselines measured in the same run.

Two routes, each sent for a bounded duration to three targets, one after the other:

  routes   planning  `GET /v1/plans/<plan>` of the planning service (authenticated, one PostgreSQL read,
                     ~0.4 KB of JSON)
           trivial   a bare ASGI app (_trivial_upstream.py, in place of the scoring service) answering a fixed
                     31-byte JSON: the upstream costs next to nothing, so the gateway's own ceiling shows
  targets  direct    the upstream itself (uvicorn, one process)
           gateway   the metas gateway in front of it (JWT check, rate limit, breaker, metrics, pooled proxy)
           nginx     Debian's nginx proxying to it with upstream keep-alive (skipped when nginx is not installed)

Every (route, target) runs once per round, ``--repeat`` rounds; the medians are reported. The load generator is
`wrk` (Debian package) in its own process; without it, a Python asyncio generator in a child process is used (and
named in the output). CPU per request of the upstream and of the proxy is read from /proc. Prints a Markdown
table and the ratios, and writes them as JSON (--json). Usage:

    .venv/bin/python benchmarks/bench_gateway.py --duration 10 --connections 32 --repeat 3 [--profile trivial]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from metas_dev.cluster import SERVICES, Cluster, ClusterConfig, free_port
from metas_kit.auth import Principal, issue_token


def _fresh_pg_database(dbname: str) -> str:
    """Drop and create ``dbname`` on the local PostgreSQL (METAS_TEST_PG_DSN); its asyncpg URL."""
    import psycopg

    admin = os.environ.get("METAS_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')
    return admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + dbname


ROOT = Path(__file__).resolve().parent.parent
PLAN_FILE = ROOT / "data" / "plans" / "ipsm-2014-acordo.yaml"
PLAN_ID = "ipsm-2014-acordo"


@dataclass
class Result:
    target: str
    url: str
    generator: str
    duration_s: float
    connections: int
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    # CPU time (user + system) per request of the service and of the proxy in front of it (0 for direct):
    # on shared cores this is steadier than req/s, which depends on whatever else runs.
    service_cpu_ms: float = 0.0
    proxy_cpu_ms: float = 0.0


# --- CPU accounting from /proc ------------------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return pids
    for child in children:
        pids.extend(process_tree(int(child)))
    return pids


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU of a process and its children still running (nginx: master + worker)."""
    if pid is None:
        return 0.0
    total = 0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICKS


# --- load generators ---------------------------------------------------------------------------------------

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def run_wrk(target: str, url: str, token: str, duration: float, connections: int) -> Result:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{int(duration)}s", "--latency", "-H", f"Authorization: {token}", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(g) for g in sock.groups()) if sock else 0)
    return Result(
        target=target,
        url=url,
        generator="wrk -t1",
        duration_s=duration,
        connections=connections,
        requests=requests,
        errors=errors,
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(re.search(r"\n\s+50%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        p99_ms=_ms(re.search(r"\n\s+99%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
    )


PY_GENERATOR = textwrap.dedent(
    """
    import asyncio, json, sys, time
    import httpx
    url, token, duration, conns = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    lat, errors = [], 0
    async def worker(client, stop):
        global errors
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            try:
                r = await client.get(url, headers={"authorization": token})
                ok = r.status_code < 400
            except httpx.HTTPError:
                ok = False
            lat.append(time.perf_counter() - t0)
            errors += not ok
    async def main():
        limits = httpx.Limits(max_connections=conns, max_keepalive_connections=conns)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            stop = time.monotonic() + duration
            await asyncio.gather(*(worker(client, stop) for _ in range(conns)))
    t0 = time.monotonic(); asyncio.run(main()); wall = time.monotonic() - t0
    lat.sort()
    print(json.dumps({"requests": len(lat), "errors": errors, "rps": len(lat) / wall,
                      "p50_ms": lat[len(lat) // 2] * 1000, "p99_ms": lat[int(len(lat) * 0.99)] * 1000}))
    """
)


def run_python(target: str, url: str, token: str, duration: float, connections: int) -> Result:
    out = subprocess.run(
        [sys.executable, "-c", PY_GENERATOR, url, token, str(duration), str(connections)],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    ).stdout
    data = json.loads(out)
    return Result(target, url, "python asyncio/httpx", duration, connections, **data)


# --- nginx baseline ----------------------------------------------------------------------------------------

NGINX_CONF = """
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    upstream planning {{ server 127.0.0.1:{upstream_port}; keepalive 64; }}
    upstream trivial {{ server 127.0.0.1:{trivial_port}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location /api/planning/ {{
            proxy_pass http://planning/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
        location /api/scoring/ {{
            proxy_pass http://trivial/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


def start_nginx(tmp: Path, upstream_port: int, trivial_port: int) -> tuple[subprocess.Popen[bytes], int] | None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        return None
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, upstream_port=upstream_port, trivial_port=trivial_port, port=port))
    with open(tmp / "nginx-stderr.log", "wb") as log:
        proc = subprocess.Popen(
            [nginx, "-c", str(conf), "-p", str(tmp), "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=log
        )
    return proc, port


# --- the run ------------------------------------------------------------------------------------------------


def start_profiler(pid: int, duration: float, out: Path) -> subprocess.Popen[bytes] | None:
    """py-spy (PyPI) sampling the gateway while it is under load; None when py-spy is not installed."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("(py-spy not installed: no profile)")
        return None
    cmd = [spy, "record", "-p", str(pid), "-d", str(int(duration)), "-r", "200", "-f", "raw", "-o", str(out)]
    return subprocess.Popen([*cmd, "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarise_profile(raw: Path, top: int = 25) -> None:
    """Inclusive share of the hottest frames of py-spy's raw (collapsed stacks) output."""
    inclusive: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        total += int(count)
        for frame in set(stack.split(";")):
            inclusive[frame] = inclusive.get(frame, 0) + int(count)
    print(f"\ngateway profile ({total} samples, inclusive share; raw stacks in {raw}):")
    # The server's outer frames (uvicorn, Starlette middleware) hold nearly every sample; show what is below.
    interesting = ("gateway/", "metas_kit/", "httpx/", "httpcore/", "anyio/", "jwt/", "httptools_impl")
    ranked = sorted(inclusive.items(), key=lambda kv: -kv[1])
    for frame, n in [kv for kv in ranked if any(k in kv[0] for k in interesting)][:top]:
        print(f"  {n * 100 / max(1, total):5.1f}%  {frame[:140]}")


def wait_ok(url: str, timeout: float = 60.0, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


ROUTES = {
    # route: (the upstream the gateway names, its path); "trivial" is served by _trivial_upstream.py in place of
    # the scoring service, so the upstream costs next to nothing and the gateway's own ceiling shows.
    "planning": ("planning", f"/v1/plans/{PLAN_ID}"),
    "trivial": ("scoring", "/v1/ping"),
}


def start_trivial(port: int, log_dir: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(ROOT / "benchmarks"),
        "_trivial_upstream:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / "trivial.log", "wb") as log:
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def median_result(runs: list[Result]) -> Result:
    """The median of each figure over the repeats (requests and errors: summed)."""
    import statistics

    out = Result(**asdict(runs[0]))
    for name in ("rps", "p50_ms", "p99_ms", "service_cpu_ms", "proxy_cpu_ms"):
        setattr(out, name, statistics.median(getattr(r, name) for r in runs))
    out.requests = sum(r.requests for r in runs)
    out.errors = sum(r.errors for r in runs)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per target")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3, help="rounds over every target; medians are reported")
    parser.add_argument("--routes", nargs="+", choices=tuple(ROUTES), default=list(ROUTES))
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench" / "gateway.json")
    parser.add_argument(
        "--profile", choices=tuple(ROUTES), default=None, help="py-spy the gateway during its first run of ROUTE"
    )
    args = parser.parse_args()

    args.json.parent.mkdir(parents=True, exist_ok=True)
    use_wrk = args.generator == "wrk" or (args.generator == "auto" and shutil.which("wrk") is not None)
    load = run_wrk if use_wrk else run_python
    secret = "bench-" + os.urandom(32).hex()
    token = "Bearer " + issue_token(Principal("bench", frozenset({"admin"})), secret, ttl_seconds=3600)
    tmp = Path(tempfile.mkdtemp(prefix="metas-bench-"))
    tmp.chmod(0o755)
    ports = {name: free_port() for name in (*SERVICES, "gateway")}
    config = ClusterConfig(
        ports=ports,
        database_urls={
            "planning": _fresh_pg_database("metas_bench_planning" + os.environ.get("METAS_BENCH_DB_SUFFIX", ""))
        },
        jwt_secret=secret,
        log_dir=tmp / "logs",
        extra_env={
            "planning": {"METAS_PLANNING_LOG_LEVEL": "WARNING"},
            # The limiter still runs on every request; its ceiling is lifted so one client may saturate.
            "gateway": {
                "METAS_GATEWAY_LOG_LEVEL": "WARNING",
                "METAS_GATEWAY_RATE_LIMIT_PER_SECOND": "1000000",
                "METAS_GATEWAY_RATE_LIMIT_BURST": "1000000",
            },
        },
    )
    cluster = Cluster(config)
    nginx: tuple[subprocess.Popen[bytes], int] | None = None
    trivial: subprocess.Popen[bytes] | None = None
    runs: dict[tuple[str, str], list[Result]] = {}
    try:
        trivial = start_trivial(ports["scoring"], config.log_dir)
        cluster.start_one("planning")
        cluster.wait_ready(("planning",), timeout=120)
        cluster.start_one("gateway")
        wait_ok(config.url("gateway") + "/healthz")
        imported = httpx.post(
            config.url("planning") + "/v1/plans:import",
            headers={"authorization": token, "content-type": "application/yaml"},
            content=PLAN_FILE.read_bytes(),
            timeout=60,
        )
        if imported.status_code not in (200, 201):
            raise RuntimeError(f"plan import failed: {imported.status_code} {imported.text[:500]}")
        nginx = start_nginx(tmp, ports["planning"], ports["scoring"])
        service_pids = {"planning": cluster.procs["planning"].pid, "trivial": trivial.pid}
        proxy_pids = {"direct": None, "gateway": cluster.procs["gateway"].pid, "nginx": nginx[0].pid if nginx else None}
        plan: list[tuple[str, str, str]] = []
        for route in args.routes:
            upstream, path = ROUTES[route]
            plan.append((route, "direct", config.url(upstream) + path))
            plan.append((route, "gateway", config.url("gateway") + f"/api/{upstream}" + path))
            if nginx is not None:
                plan.append((route, "nginx", f"http://127.0.0.1:{nginx[1]}/api/{upstream}{path}"))
        for _route, _name, url in plan:
            wait_ok(url, headers={"authorization": token})
        for round_ in range(args.repeat):
            for route, name, url in plan:
                # Warm-up (connection pools, first-call imports), not measured.
                load(name, url, token, 2.0, args.connections)
                service_pid = service_pids[route]
                service_cpu, proxy_cpu = cpu_seconds(service_pid), cpu_seconds(proxy_pids[name])
                profiler = None
                if args.profile == route and name == "gateway" and round_ == 0:
                    profiler = start_profiler(
                        cluster.procs["gateway"].pid, args.duration, args.json.with_suffix(".spy")
                    )
                result = load(name, url, token, args.duration, args.connections)
                if profiler is not None:
                    profiler.wait(60)
                n = max(1, result.requests)
                result.service_cpu_ms = (cpu_seconds(service_pid) - service_cpu) * 1000 / n
                result.proxy_cpu_ms = (cpu_seconds(proxy_pids[name]) - proxy_cpu) * 1000 / n
                result.target = f"{route} {name}"
                runs.setdefault((route, name), []).append(result)
                print(
                    f"  round {round_ + 1} {route:8} {name:7} {result.rps:7.0f} req/s  "
                    f"proxy {result.proxy_cpu_ms:.3f} ms CPU/req  service {result.service_cpu_ms:.3f}",
                    flush=True,
                )
    finally:
        if nginx is not None:
            nginx[0].send_signal(signal.SIGQUIT)
            try:
                nginx[0].wait(10)
            except subprocess.TimeoutExpired:
                nginx[0].kill()
        if trivial is not None:
            trivial.terminate()
            trivial.wait(10)
        cluster.stop()

    results = {key: median_result(rs) for key, rs in runs.items()}
    load1, load5, _ = os.getloadavg()
    print(f"\nmachine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}")
    print(f"load average during the run: {load1:.1f} (1 min), {load5:.1f} (5 min) — other work shares the cores")
    print(f"requests: planning = GET /v1/plans/{PLAN_ID} (JWT, one PostgreSQL read); trivial = a bare ASGI app's")
    print(f"          fixed 31-byte JSON; {args.connections} connections, {args.duration:g} s per target after a 2 s")
    print(f"          warm-up, {args.repeat} rounds (medians), generator: {next(iter(results.values())).generator}\n")
    print("| route | target | req/s | p50 ms | p99 ms | requests | errors | upstream CPU ms/req | proxy CPU ms/req |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (route, name), r in results.items():
        print(
            f"| {route} | {name} | {r.rps:.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.requests} | {r.errors} "
            f"| {r.service_cpu_ms:.3f} | {r.proxy_cpu_ms:.3f} |"
        )
    ratios: dict[str, float] = {}
    for route in args.routes:
        direct, gateway, nginx_r = (results.get((route, n)) for n in ("direct", "gateway", "nginx"))
        if direct and gateway:
            ratios[f"{route}: gateway/direct rps"] = gateway.rps / direct.rps
            ratios[f"{route}: gateway CPU ms/req"] = gateway.proxy_cpu_ms
        if gateway and nginx_r:
            ratios[f"{route}: gateway/nginx rps"] = gateway.rps / nginx_r.rps
            ratios[f"{route}: nginx/direct rps"] = nginx_r.rps / direct.rps if direct else 0.0
            ratios[f"{route}: nginx CPU ms/req"] = nginx_r.proxy_cpu_ms
    print()
    for k, v in ratios.items():
        print(f"{k}: {v:.3f}")
    if args.profile and args.json.with_suffix(".spy").exists():
        summarise_profile(args.json.with_suffix(".spy"))
    args.json.write_text(
        json.dumps(
            {
                "results": [asdict(r) for r in results.values()],
                "runs": [asdict(r) for rs in runs.values() for r in rs],
                "ratios": ratios,
            },
            indent=2,
        )
    )
    return 1 if any(r.errors for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

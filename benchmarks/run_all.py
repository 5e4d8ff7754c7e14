"""Run every benchmark of this folder in sequence (`make bench`), each in its own process, with modest sizes.

Stops at the first benchmark that fails (non-zero exit) and prints a summary: each script, its arguments,
its exit status, its wall time and the load average before it ran. Full-size runs are each script's own
defaults (see its docstring and BENCHMARKS.md); this runner is the quick end-to-end check that all of them
still work, with figures good enough to spot a large regression.

    python benchmarks/run_all.py [--only NAME ...] [--list] [--full] [--log-dir var/bench]

Any other ``*.py`` here (except modules starting with ``_`` and this runner) is run with no arguments,
so a new benchmark is never skipped silently. Output of each run is streamed and also kept in
``<log-dir>/<script>.log``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# Modest sizes: the whole run takes a few minutes on the 2 shared cores. Order: cheapest first.
QUICK_ARGS: dict[str, list[str]] = {
    "bench_scoring.py": ["--scale", "0.05"],
    "bench_metrics.py": ["--rounds", "5"],
    "planning_bench.py": ["--reads", "50", "--validations", "20"],
    "budget_bench.py": ["--reads", "40", "--writes", "40"],
    "execution_bench.py": ["--writes", "50"],
    "bench_import.py": ["--repeat", "1"],
    "bench_gateway.py": ["--duration", "3"],
    "bench_request_path.py": ["--duration", "2", "--rounds", "1"],
    "bench_console.py": ["--requests", "20"],
    "bench_scoring_reports_http.py": ["--requests", "5"],
}


@dataclass
class Outcome:
    script: str
    args: list[str]
    status: int
    seconds: float
    load: float


def discover() -> list[str]:
    found = sorted(p.name for p in HERE.glob("*.py") if not p.name.startswith("_") and p.name != Path(__file__).name)
    known = [name for name in QUICK_ARGS if name in found]
    return known + [name for name in found if name not in QUICK_ARGS]


def run_one(script: str, args: list[str], log_dir: Path) -> Outcome:
    load = os.getloadavg()[0]
    cmd = [sys.executable, str(HERE / script), *args]
    print(f"\n=== {script} {' '.join(args)} (load average {load:.2f})", flush=True)
    env = dict(os.environ)
    started = time.perf_counter()
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{Path(script).stem}.log").open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
        status = proc.wait()
    return Outcome(script, args, status, time.perf_counter() - started, load)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=None, help="script names to run (default: all)")
    parser.add_argument("--list", action="store_true", help="print what would run and exit")
    parser.add_argument("--full", action="store_true", help="each script's own (full-size) defaults")
    parser.add_argument("--log-dir", type=Path, default=ROOT / "var" / "bench")
    args = parser.parse_args()

    scripts = discover()
    if args.only:
        unknown = [s for s in args.only if s not in scripts]
        if unknown:
            parser.error(f"no such benchmark: {', '.join(unknown)} (have {', '.join(scripts)})")
        scripts = [s for s in scripts if s in args.only]
    plan = [(s, [] if args.full else QUICK_ARGS.get(s, [])) for s in scripts]
    if args.list:
        for script, script_args in plan:
            print(script, *script_args)
        return 0

    print(f"{len(plan)} benchmarks, {os.cpu_count()} CPU, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    outcomes: list[Outcome] = []
    for script, script_args in plan:
        outcome = run_one(script, script_args, args.log_dir)
        outcomes.append(outcome)
        if outcome.status != 0:
            break

    print("\n=== summary")
    for o in outcomes:
        verdict = "ok" if o.status == 0 else f"FAILED (exit {o.status})"
        print(f"{o.script:<22} {verdict:<18} {o.seconds:7.1f} s  load {o.load:.2f}  {' '.join(o.args)}")
    not_run = [s for s, _ in plan[len(outcomes) :]]
    if not_run:
        print(f"not run after the failure: {', '.join(not_run)}")
    print(f"logs in {args.log_dir}")
    failed = next((o for o in outcomes if o.status != 0), None)
    return 0 if failed is None else (failed.status if failed.status > 0 else 1)


if __name__ == "__main__":
    raise SystemExit(main())

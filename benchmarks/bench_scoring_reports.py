"""Benchmark of scoring's official documents and of the evaluation body's response-model check.

For both seed plans (the QUAR 2024 of the Instituto de Informática and the IPSM 2014 Acordo) one evaluation is
made in process from a scenario (every indicator at its meta, every product on its due date), then timed, in
interleaved rounds (the same load for every variant):

- baseline: `json.dumps` of the stored snapshot's results (what a JSON read of the evaluation costs at least);
- the report model (`scoring.domain.report`), then the CSV, XLSX and PDF of it (`scoring.documents.render`);
- the response model: FastAPI validating and serialising `EvaluationDetail` (pydantic validate + dump_json),
  against the baseline, to decide whether the large snapshot needs a faster path than its checked model.

No database, no HTTP. Ratios to the baseline are the figures to compare.

    python benchmarks/bench_scoring_reports.py [--rounds 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter

ROOT = Path(__file__).resolve().parents[1]
PLANS = ROOT / "data" / "plans"
for src in ("libs/kit/src", "libs/rules/src", "services/scoring/src"):
    sys.path.insert(0, str(ROOT / src))

from scoring.api.schemas import EvaluationDetail  # noqa: E402
from scoring.documents.render import to_csv, to_pdf, to_xlsx  # noqa: E402
from scoring.domain.evaluate import canonical_hash, evaluate, make_inputs  # noqa: E402
from scoring.domain.report import Report, build_report  # noqa: E402

SEEDS = {"ii-2024-quar": "2024-12", "ipsm-2014-acordo": "2014-12"}


def scenario(plan_id: str, period: str) -> dict[str, Any]:
    doc = yaml.safe_load((PLANS / f"{plan_id}.yaml").read_text(encoding="utf-8"))
    rows = []
    for ind in doc["indicators"]:
        if ind["scoring_rule"]["kind"] != "derived_from_teams" and ind.get("meta") is not None:
            rows.append({"item_code": ind["code"], "period": period, "payload": {"value": ind["meta"]}})
    for prod in doc.get("products") or []:
        for target in prod.get("stages") or [prod]:
            payload = {"completeness": "full", "delivered_on": target["due_date"]}
            rows.append({"item_code": target["code"], "period": period, "payload": payload})
    items = [{**r, "registered": True, "certification": "certified", "certified": True} for r in rows]
    inputs = make_inputs(doc, {"items": items}, period_to=period, n1="90")
    results = evaluate(inputs)
    return {
        "id": "00000000-0000-0000-0000-000000000000",
        "plan_id": plan_id,
        "plan_version": 1,
        "framework": doc["plan"]["framework"],
        "period_to": period,
        "created_at": datetime(2026, 12, 4, tzinfo=UTC),
        "created_by": "bench",
        "rules_version": inputs["rules_version"],
        "engine_version": results["engine"],
        "duration_seconds": 0.0,
        "inputs_sha256": canonical_hash(inputs),
        "results_sha256": canonical_hash(results),
        "summary": results["summary"],
        "results": results,
        "kind": "provisional",
        "revision": None,
        "revises": None,
        "reason": None,
        "inputs": inputs,
    }


def run_header(run: dict[str, Any]) -> dict[str, Any]:
    return {**run, "created_at": run["created_at"].isoformat()}


def measure(variants: dict[str, Callable[[], object]], rounds: int) -> dict[str, dict[str, float]]:
    wall: dict[str, list[float]] = {k: [] for k in variants}
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            w, c = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - w)
            cpu[name].append(time.process_time() - c)
    return {k: {"wall_ms": statistics.median(wall[k]) * 1e3, "cpu_ms": statistics.median(cpu[k]) * 1e3} for k in wall}


def variants_of(
    adapter: TypeAdapter[EvaluationDetail], run: dict[str, Any], detail: dict[str, Any], report: Report
) -> dict[str, Callable[[], object]]:
    inputs, results, created = run["inputs"], run["results"], run["created_at"]
    return {
        "baseline json.dumps(results)": lambda: json.dumps(detail, default=str),
        "response model (validate + dump)": lambda: adapter.dump_json(adapter.validate_python(detail)),
        "report model": lambda: build_report(run_header(run), inputs, results),
        "csv": lambda: to_csv(report),
        "xlsx": lambda: to_xlsx(report, created),
        "pdf": lambda: to_pdf(report),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    adapter = TypeAdapter(EvaluationDetail)
    out: dict[str, Any] = {
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "rounds": args.rounds,
        "plans": {},
    }
    for plan_id, period in SEEDS.items():
        run = scenario(plan_id, period)
        inputs, results = run["inputs"], run["results"]
        detail = {k: v for k, v in run.items() if k != "inputs"}
        report = build_report(run_header(run), inputs, results)
        variants = variants_of(adapter, run, detail, report)
        figures = measure(variants, args.rounds)
        base = figures["baseline json.dumps(results)"]["cpu_ms"]
        for f in figures.values():
            f["ratio_cpu"] = f["cpu_ms"] / base if base else float("nan")
        out["plans"][plan_id] = {"results_bytes": len(json.dumps(detail, default=str)), "figures": figures}
    if args.json:
        print(json.dumps(out))
        return
    print(f"python {out['python']}, load average {out['load_average']}, {args.rounds} interleaved rounds")
    for plan_id, data in out["plans"].items():
        print(f"\n{plan_id} (evaluation body {data['results_bytes']:,} bytes)")
        print(f"{'variant':36} {'wall ms':>9} {'CPU ms':>9} {'× baseline (CPU)':>17}")
        for name, f in data["figures"].items():
            print(f"{name:36} {f['wall_ms']:9.2f} {f['cpu_ms']:9.2f} {f['ratio_cpu']:17.1f}")


if __name__ == "__main__":
    main()

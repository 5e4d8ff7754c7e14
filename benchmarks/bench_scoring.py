"""Benchmark of the scoring engine on a large synthetic cycle.

1,000 organisations × 100 indicators × 12 months (scale 1.0) are scored through
`metas_rules.engine` (every score able to explain itself, 2 places half up, a mix of the rule
kinds) and each organisation's monthly team grade is computed. The same values go through a
baseline in the same run: the bare Decimal formula loop `q2(clamp((R − V0) / (M − V0) × 100))`,
no rules as data, no trace. The ratio engine / baseline is the figure to watch.

The engine builds an explanation when it is read (it scores again with a trace), so after the timed
runs one organisation's year is scored again and every score's and team grade's steps are read and
checked non-empty: `explain_microseconds_per_score` is what reading one explanation costs.

    python benchmarks/bench_scoring.py [--scale 0.1] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "libs" / "rules" / "src"))

from metas_rules import Rule, parse_rule  # noqa: E402
from metas_rules.decimal_ops import HUNDRED, ZERO, clamp, q2  # noqa: E402
from metas_rules.engine import IndicatorFacts, Observation, WeightedItem, score_indicator, team_score  # noqa: E402

ORGS, INDICATORS, MONTHS = 1000, 100, 12
RULE_DOCS: list[dict[str, Any]] = [
    {"kind": "general"},
    {"kind": "ratio", "scale": 10, "zero_below_result": "70"},
    {"kind": "quar_realization"},
    {
        "kind": "step_table",
        "input": "execution_percent",
        "table": {
            "gap": "row_below",
            "rows": [
                {"interval": {"min": "100"}, "value": "100"},
                {"interval": {"min": "90", "max": "100", "max_inclusive": False}, "value": "80"},
                {"interval": {"min": "75", "max": "90", "max_inclusive": False}, "value": "50"},
                {"interval": {"max": "75", "max_inclusive": False}, "value": "0"},
            ],
        },
    },
    {"kind": "threshold"},
]


def synthetic_indicators(rng: random.Random, rules: list[Rule]) -> list[IndicatorFacts]:
    """One organisation's 100 indicators (the same shapes are reused across organisations)."""
    out = []
    for i in range(INDICATORS):
        rule = rules[i % len(rules)]
        meta = Decimal(rng.randint(50, 150))
        higher = rng.random() < 0.8
        v0 = meta - Decimal(rng.randint(1, 20)) if higher else meta + Decimal(rng.randint(1, 20))
        tol = Decimal(rng.randint(1, 5))
        vc = meta + tol + Decimal(rng.randint(5, 30)) if higher else max(Decimal(1), meta - tol - 20)
        out.append(
            IndicatorFacts(
                code=f"I{i:03d}",
                rule=rule,
                polarity="higher_is_better" if higher else "lower_is_better",
                meta=meta,
                tolerance=tol,
                critical_value=vc,
                reference_value=None if i % 7 == 0 else v0,
                unit_code="T",
                weight=Decimal(1),
            )
        )
    return out


def results_pool(rng: random.Random, size: int = 4096) -> list[Decimal]:
    return [Decimal(rng.randint(4000, 16000)) / 100 for _ in range(size)]


def run_engine(orgs: int, facts_by_shape: list[list[IndicatorFacts]], pool: list[Decimal]) -> tuple[float, float, int]:
    n = 0
    cpu = time.process_time()
    started = time.perf_counter()
    mask = len(pool) - 1
    for org in range(orgs):
        facts = facts_by_shape[org % len(facts_by_shape)]
        for month in range(MONTHS):
            items = []
            for k, f in enumerate(facts):
                score = score_indicator(f, Observation(result=pool[(org * 131 + month * 17 + k) & mask]))
                items.append(WeightedItem(f.code, f.weight, score))
                n += 1
            team_score(f"org{org}", items)
    return time.perf_counter() - started, time.process_time() - cpu, n


def run_baseline(
    orgs: int, facts_by_shape: list[list[IndicatorFacts]], pool: list[Decimal]
) -> tuple[float, float, int]:
    n = 0
    cpu = time.process_time()
    started = time.perf_counter()
    mask = len(pool) - 1
    for org in range(orgs):
        facts = facts_by_shape[org % len(facts_by_shape)]
        for month in range(MONTHS):
            for k, f in enumerate(facts):
                r = pool[(org * 131 + month * 17 + k) & mask]
                m = f.meta
                v0 = f.reference_value if f.reference_value is not None else ZERO
                assert m is not None
                q2(clamp((r - v0) / (m - v0) * HUNDRED, ZERO, HUNDRED))
                n += 1
    return time.perf_counter() - started, time.process_time() - cpu, n


def explain_one_year(facts: list[IndicatorFacts], pool: list[Decimal]) -> tuple[float, int]:
    """Score one organisation's 12 months, then read every explanation (CPU seconds of the reading, steps read)."""
    scored = []
    for month in range(MONTHS):
        items = [
            WeightedItem(f.code, f.weight, score_indicator(f, Observation(result=pool[(month * 17 + k) % len(pool)])))
            for k, f in enumerate(facts)
        ]
        scored.append((items, team_score("org0", items)))
    steps = 0
    cpu = time.process_time()
    for items, team in scored:
        for item in items:
            assert item.score.steps, item.code  # every score explains itself
            steps += len(item.score.steps)
        assert team.steps
        steps += len(team.steps)
    return time.process_time() - cpu, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the 1,000 organisations (default 1)")
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of text")
    args = parser.parse_args()
    orgs = max(1, round(ORGS * args.scale))
    rng = random.Random(2014)
    rules = [parse_rule(d) for d in RULE_DOCS]
    shapes = [synthetic_indicators(rng, rules) for _ in range(10)]
    pool = results_pool(rng)
    base_s, base_cpu, base_n = run_baseline(orgs, shapes, pool)
    eng_s, eng_cpu, eng_n = run_engine(orgs, shapes, pool)
    assert base_n == eng_n == orgs * INDICATORS * MONTHS
    explain_cpu, explained_steps = explain_one_year(shapes[0], pool)
    report = {
        "benchmark": "scoring",
        "organisations": orgs,
        "indicators_per_organisation": INDICATORS,
        "months": MONTHS,
        "scores": eng_n,
        "team_grades": orgs * MONTHS,
        "engine_seconds": round(eng_s, 3),
        "engine_scores_per_second": round(eng_n / eng_s),
        "engine_microseconds_per_score": round(eng_s / eng_n * 1e6, 2),
        "baseline_seconds": round(base_s, 3),
        "baseline_scores_per_second": round(base_n / base_s),
        "ratio_engine_to_baseline": round(eng_s / base_s, 2),
        "engine_cpu_seconds": round(eng_cpu, 3),
        "baseline_cpu_seconds": round(base_cpu, 3),
        "ratio_engine_to_baseline_cpu": round(eng_cpu / base_cpu, 2) if base_cpu else None,
        "explain_microseconds_per_score": round(explain_cpu / (INDICATORS * MONTHS) * 1e6, 2),
        "explained_steps": explained_steps,
    }
    if args.json:
        print(json.dumps(report))
        return
    print(f"scoring benchmark: {orgs} organisations × {INDICATORS} indicators × {MONTHS} months = {eng_n:,} scores")
    print(
        f"  engine   : {eng_s:8.2f} s  {report['engine_scores_per_second']:>10,} scores/s  "
        f"({report['engine_microseconds_per_score']} µs/score, explanations on demand, {orgs * MONTHS:,} team grades)"
    )
    print(
        f"  baseline : {base_s:8.2f} s  {report['baseline_scores_per_second']:>10,} scores/s"
        "  (bare Decimal formula loop)"
    )
    print(
        f"  ratio    : {report['ratio_engine_to_baseline']}× the baseline (wall clock); "
        f"{report['ratio_engine_to_baseline_cpu']}× in CPU time ({eng_cpu:.2f} s vs {base_cpu:.2f} s)"
    )
    print(
        f"  explain  : {report['explain_microseconds_per_score']} µs of CPU to read one score's explanation "
        f"(one organisation's year: {INDICATORS * MONTHS:,} scores and {MONTHS} team grades, {explained_steps:,} steps)"
    )


if __name__ == "__main__":
    main()

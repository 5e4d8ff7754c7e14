"""Prometheus metrics of the scoring service (bounded labels: plan, unit, objective, outcome)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from prometheus_client import Counter, Gauge, Histogram

from scoring.db import repository

EVALUATION_DURATION = Histogram(
    "metas_scoring_evaluation_duration_seconds",
    "Time to score a whole plan (engine only, without upstream calls).",
    ["plan"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVALUATIONS = Counter("metas_scoring_evaluations_total", "Evaluation runs created.", ["plan"])
SIMULATIONS = Counter("metas_scoring_simulations_total", "Simulations and inverse questions answered.", ["kind"])
TEAM_GRADE = Gauge(
    "metas_scoring_team_grade", "Team grade (0-100) of the latest evaluation of an Acordo plan.", ["plan", "unit"]
)
OBJECTIVE_RATE = Gauge(
    "metas_scoring_objective_rate", "Objective rate (%) of the latest evaluation of a QUAR plan.", ["plan", "objective"]
)
FINAL_RATE = Gauge("metas_scoring_final_rate", "Final rate (%) of the latest evaluation of a QUAR plan.", ["plan"])


async def publish_from_database(app: FastAPI) -> None:
    async with app.state.db.read_sessionmaker() as session:  # a read: no write lock (SQLite) held across it
        for run in await repository.latest_per_plan(session):
            publish_latest(run.plan_id, run.summary)


def publish_latest(plan_id: str, summary: Mapping[str, Any]) -> None:
    """Set the grade gauges from an evaluation summary (the latest evaluation of the plan)."""
    for unit, grade in (summary.get("teams") or {}).items():
        if grade is not None:
            TEAM_GRADE.labels(plan=plan_id, unit=unit).set(float(grade))
    for objective, rate in (summary.get("objectives") or {}).items():
        if rate is not None:
            OBJECTIVE_RATE.labels(plan=plan_id, objective=objective).set(float(rate))
    if summary.get("final_rate") is not None:
        FINAL_RATE.labels(plan=plan_id).set(float(summary["final_rate"]))

"""Planning metrics (bounded labels: plan ids and fixed action / outcome names only)."""

from __future__ import annotations

from prometheus_client import Counter

PLAN_WRITES = Counter(
    "metas_planning_plan_writes_total",
    "Plan document writes by plan and action (import actions, replace, patch, add_item, remove_item, approve, revise).",
    ["plan", "action"],
)
PLAN_REJECTIONS = Counter(
    "metas_planning_plan_rejections_total",
    "Plan documents refused by validation (one per refused request).",
    ["plan"],
)

"""Deadline-compliance gauges for Prometheus, computed from the database and the plan trees.

A background task refreshes a snapshot every ``metrics_refresh_seconds``; the collector only
reads the snapshot, so a scrape never waits on the database or on planning. Labels are bounded
(plan, unit, and the plan's own periods — twelve a year): never the id of a single registration.
The per-period gauges are the console's compliance heat map cell by cell; the (plan, unit) ones its
year-to-date column.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from fastapi import FastAPI
from prometheus_client.core import REGISTRY, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from execution.application.plans import clock, load_plan_for_app, planning_client
from execution.db.repositories import first_registrations, plans_with_registrations
from execution.domain.periods import Period
from execution.domain.status import DeadlineStatus, deadline_status
from metas_kit.errors import AppError

log = logging.getLogger("metas.execution.metrics")


@dataclass
class UnitCounts:
    due: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    pending: int = 0


@dataclass
class Snapshot:
    counts: dict[tuple[str, str], UnitCounts] = field(default_factory=dict)
    by_period: dict[tuple[str, str, str], UnitCounts] = field(default_factory=dict)  # (plan, unit, period)
    next_deadline: dict[str, float] = field(default_factory=dict)
    refreshed_at: float | None = None


class ComplianceCollector(Collector):
    def __init__(self) -> None:
        self.snapshot = Snapshot()

    def describe(self) -> Iterable[Metric]:
        return []  # no collect() at registration time

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        families = {
            name: GaugeMetricFamily(f"metas_execution_registrations_{name}", text, labels=["plan", "unit"])
            for name, text in (
                ("due", "Registrations whose due day is over (item x period owed)."),
                ("on_time", "Registrations due that were made by the end of the due day."),
                ("late", "Registrations due that were made after the due day."),
                ("missing", "Registrations due that were not made."),
                ("pending", "Registrations of ended periods not made yet, due day not over."),
            )
        }
        ratio = GaugeMetricFamily(
            "metas_execution_on_time_ratio",
            "Registrations on time / registrations due (0-1), absent when nothing is due.",
            labels=["plan", "unit"],
        )
        for (plan, unit), c in sorted(snap.counts.items()):
            for name, family in families.items():
                family.add_metric([plan, unit], float(getattr(c, name)))
            if c.due:
                ratio.add_metric([plan, unit], c.on_time / c.due)
        yield from families.values()
        yield ratio
        yield from self._by_period(snap)
        nxt = GaugeMetricFamily(
            "metas_execution_next_deadline_timestamp_seconds",
            "End of the next registration due day of the plan (Unix time).",
            labels=["plan"],
        )
        for plan, ts in sorted(snap.next_deadline.items()):
            nxt.add_metric([plan], ts)
        yield nxt
        if snap.refreshed_at is not None:
            yield GaugeMetricFamily(
                "metas_execution_metrics_refresh_timestamp_seconds",
                "When the compliance gauges were last computed (Unix time).",
                value=snap.refreshed_at,
            )

    @staticmethod
    def _by_period(snap: Snapshot) -> Iterator[Metric]:
        labels = ["plan", "unit", "period"]
        due = GaugeMetricFamily(
            "metas_execution_period_registrations_due",
            "Registrations of one period whose due day is over (item x period owed).",
            labels=labels,
        )
        on_time = GaugeMetricFamily(
            "metas_execution_period_registrations_on_time",
            "Registrations of one period made by the end of its due day.",
            labels=labels,
        )
        ratio = GaugeMetricFamily(
            "metas_execution_period_on_time_ratio",
            "Registrations of one period on time / due (0-1), absent when nothing of it is due.",
            labels=labels,
        )
        for key, c in sorted(snap.by_period.items()):
            due.add_metric(list(key), float(c.due))
            on_time.add_metric(list(key), float(c.on_time))
            if c.due:
                ratio.add_metric(list(key), c.on_time / c.due)
        yield from (due, on_time, ratio)


COLLECTOR = ComplianceCollector()
REGISTRY.register(COLLECTOR)


async def compute_snapshot(app: FastAPI) -> Snapshot:
    now = clock(app)
    snap = Snapshot()
    async with app.state.db.read_sessionmaker() as session:  # a read: no write lock (SQLite) held across it
        plan_ids = set(await plans_with_registrations(session))
        try:
            plan_ids.update(await planning_client(app).plan_ids())
        except AppError as exc:
            log.warning("planning plan list unavailable", extra={"error": exc.detail})
        for plan_id in sorted(plan_ids):
            try:
                loaded = await load_plan_for_app(app, session, plan_id)
            except AppError as exc:
                log.warning("plan skipped in metrics", extra={"plan": plan_id, "error": exc.detail})
                continue
            schedule = loaded.schedule
            first = await first_registrations(session, plan_id)
            today = now.astimezone(schedule.calendar.timezone).date()
            counts: dict[str, UnitCounts] = defaultdict(UnitCounts)
            for item, period in schedule.owed():
                c = counts[item.unit_code]
                deadline = schedule.dates(period).deadline
                registered = first.get((item.code, str(period)))
                status = deadline_status(deadline, registered, now)
                if now >= deadline:
                    c.due += 1
                    month = snap.by_period.setdefault((plan_id, item.unit_code, str(period)), UnitCounts())
                    month.due += 1
                    if status is DeadlineStatus.ON_TIME:
                        c.on_time += 1
                        month.on_time += 1
                    elif status is DeadlineStatus.LATE:
                        c.late += 1
                    else:
                        c.missing += 1
                elif registered is None and _ended(period, today):
                    c.pending += 1
            for unit, c in counts.items():
                snap.counts[(plan_id, unit)] = c
            nxt = schedule.next_deadline(now, today)
            if nxt is not None:
                snap.next_deadline[plan_id] = nxt.timestamp()
        await session.rollback()
    snap.refreshed_at = time.time()
    return snap


def _ended(period: Period, today: date) -> bool:
    return period.last_day < today


async def refresh(app: FastAPI) -> Snapshot:
    snap = await compute_snapshot(app)
    COLLECTOR.snapshot = snap
    return snap

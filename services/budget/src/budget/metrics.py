"""Prometheus gauges of the budget: planned and executed EUR and execution ratio per eixo and year.

A custom collector serves a snapshot (Tabela 19 breakdown: eixo x year). The snapshot is recomputed
from the database at start and periodically by a background task (so every replica converges on writes
made by another, or by the seed loader), and between two recomputations every amount write of this
process applies its own change to it once its transaction has committed (a write costs nothing in
proportion to the stored amounts; a rolled-back write changes nothing).
``metas_budget_execution_ratio`` is executed / planned (a fraction); it is absent for an eixo-year
with nothing planned (2021-2022 print only execution).
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Iterator
from decimal import Decimal

from fastapi import FastAPI
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from budget.db import repositories as repo
from budget.domain.amounts import AmountEntry, Breakdown
from budget.domain.reports import EixoYearFigures, EixoYearTally

log = logging.getLogger("metas.budget.metrics")


class BudgetCollector(Collector):
    def __init__(self) -> None:
        self.figures: tuple[EixoYearFigures, ...] = ()
        self.tally = EixoYearTally()
        # the engine the snapshot was computed from: a change is applied only to a snapshot of its database
        self.source: weakref.ref[Engine] | None = None

    def set(self, figures: list[EixoYearFigures]) -> None:
        self.figures = tuple(figures)  # swapped whole: a scrape never sees half an update

    def reload(self, tally: EixoYearTally, source: Engine) -> None:
        self.tally, self.source = tally, weakref.ref(source)
        self.set(tally.figures())

    def of(self, source: Engine) -> bool:
        return self.source is not None and self.source() is source

    def change(self, before: AmountEntry | None, after: AmountEntry | None) -> None:
        if before is not None:
            self.tally.remove(before)
        if after is not None:
            self.tally.add(after)
        self.set(self.tally.figures())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        planned = GaugeMetricFamily(
            "metas_budget_planned_eur", "Planned (corrected) PRR budget in EUR incl. VAT.", labels=["eixo", "year"]
        )
        executed = GaugeMetricFamily(
            "metas_budget_executed_eur", "Executed (paid) PRR amounts in EUR incl. VAT.", labels=["eixo", "year"]
        )
        ratio = GaugeMetricFamily(
            "metas_budget_execution_ratio", "Executed / planned (fraction).", labels=["eixo", "year"]
        )
        for f in self.figures:
            labels = [str(f.eixo), str(f.year)]
            planned.add_metric(labels, float(f.planned))
            executed.add_metric(labels, float(f.executed))
            r = f.execution_ratio
            if r is not None:
                ratio.add_metric(labels, float(r.quantize(Decimal("0.000001"))))
        yield planned
        yield executed
        yield ratio


COLLECTOR = BudgetCollector()
with contextlib.suppress(ValueError):  # already registered (module reloaded in tests)
    REGISTRY.register(COLLECTOR)


def _engine(session: AsyncSession) -> Engine:
    bind = session.sync_session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


async def refresh_from_session(session: AsyncSession) -> None:
    """Recompute the snapshot from the database (this session's view of it)."""
    await session.flush()
    tally = EixoYearTally()
    for entry, count in await repo.counted_groups(session, breakdown=Breakdown.SUBINVESTMENT):
        tally.add(entry, count)  # sums of ``count`` amounts: a group goes only with its last amount
    COLLECTOR.reload(tally, _engine(session))


async def record_change(session: AsyncSession, before: AmountEntry | None, after: AmountEntry | None) -> None:
    """An amount write (create: no ``before``; delete: no ``after``) in the session's transaction.

    Applied to the snapshot when the transaction commits. A snapshot of another database (another app in
    this process, e.g. in tests) is recomputed instead, at once, as every write used to do.
    """
    if before is not None and before.breakdown is not Breakdown.SUBINVESTMENT:
        before = None
    if after is not None and after.breakdown is not Breakdown.SUBINVESTMENT:
        after = None
    if before is None and after is None:
        return  # other breakdowns are not in the gauges
    if not COLLECTOR.of(_engine(session)):
        await refresh_from_session(session)
        return

    def committed(_session: Session) -> None:
        try:
            COLLECTOR.change(before, after)
        except Exception:  # the write is committed; the next recomputation puts the gauges right
            log.warning("budget gauges not updated after a write", exc_info=True)

    event.listen(session.sync_session, "after_commit", committed, once=True)


async def refresh_once(app: FastAPI) -> None:
    async with app.state.db.sessionmaker() as session:
        await refresh_from_session(session)

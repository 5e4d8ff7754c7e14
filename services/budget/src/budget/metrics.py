"""Prometheus gauges of the budget: planned and executed EUR and execution ratio per eixo and year.

A custom collector serves a snapshot (Tabela 19 breakdown: eixo x year). The snapshot is refreshed
in the transaction of every amount write (so this process answers at once) and periodically from
the database by a background task (so every replica converges on writes made by another).
``metas_budget_execution_ratio`` is executed / planned (a fraction); it is absent for an eixo-year
with nothing planned (2021-2022 print only execution).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from decimal import Decimal

from fastapi import FastAPI
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncSession

from budget.db import repositories as repo
from budget.domain.reports import EixoYearFigures, by_eixo_and_year

log = logging.getLogger("metas.budget.metrics")


class BudgetCollector(Collector):
    def __init__(self) -> None:
        self.figures: tuple[EixoYearFigures, ...] = ()

    def set(self, figures: list[EixoYearFigures]) -> None:
        self.figures = tuple(figures)  # swapped whole: a scrape never sees half an update

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


async def refresh_from_session(session: AsyncSession) -> None:
    await session.flush()
    COLLECTOR.set(by_eixo_and_year(await repo.all_entries(session)))


async def refresh_once(app: FastAPI) -> None:
    async with app.state.db.sessionmaker() as session:
        await refresh_from_session(session)

"""Periodic background jobs of a service (e.g. recomputing gauges from the database so every replica exports
the same figures): started in the lifespan, cancelled on shutdown, a failing run logged and never fatal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI

Job = Callable[[FastAPI], Awaitable[object]]
log = logging.getLogger("metas.background")


class Periodic:
    """``Periodic("grades", 30, job)``: ``start``/``stop`` are lifespan hooks; ``every <= 0`` disables it."""

    def __init__(self, name: str, every_seconds: float, job: Job) -> None:
        self.name = name
        self.every = every_seconds
        self.job = job
        self.task: asyncio.Task[None] | None = None

    async def _loop(self, app: FastAPI) -> None:
        while True:
            try:
                await self.job(app)
            except Exception:  # the job's data keeps its last good state; the next run may succeed
                log.warning("periodic job %s failed", self.name, exc_info=True)
            await asyncio.sleep(self.every)

    async def start(self, app: FastAPI) -> None:
        if self.every > 0:
            self.task = asyncio.create_task(self._loop(app), name=f"periodic:{self.name}")

    async def stop(self, app: FastAPI) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None

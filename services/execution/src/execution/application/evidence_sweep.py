"""The S3 evidence store's lifespan and its sweeper.

The sweeper deletes objects that no evidence row names — left by an upload whose transaction failed after the
object was written, or by a deleted file — once they are older than the grace period, so an upload still in its
transaction (its object written, its row not yet committed) is never touched (db/evidence_store.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from execution.clients.s3 import S3Client, S3Config
from execution.db.evidence_store import S3Store, keys_in_use
from execution.settings import Settings
from metas_kit.background import Periodic

log = logging.getLogger("metas.execution.evidence")
Hook = Callable[[FastAPI], Awaitable[None]]
_BATCH = 500


@dataclass(frozen=True, slots=True)
class SweepReport:
    seen: int
    deleted: list[str]


async def sweep_orphans(app: FastAPI, *, now: datetime | None = None) -> SweepReport:
    store: S3Store = app.state.evidence_store
    settings: Settings = app.state.settings
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=settings.evidence_sweep_grace_seconds)
    objects = await store.client.list_objects(store.prefix)
    old = [o.key for o in objects if o.last_modified <= cutoff]
    deleted: list[str] = []
    for start in range(0, len(old), _BATCH):
        batch = old[start : start + _BATCH]
        async with app.state.db.read_sessionmaker() as session:
            used = await keys_in_use(session, batch)
        for key in batch:
            if key not in used:
                await store.client.delete_object(key)
                deleted.append(key)
    if deleted:
        log.info("evidence sweeper deleted %d orphan object(s)", len(deleted))
    return SweepReport(len(objects), deleted)


def evidence_store_hooks(settings: Settings) -> tuple[Hook, Hook]:
    """Start-up makes the S3 store (and its sweeper) when configured; the database store needs nothing."""
    if settings.evidence_store != "s3":

        async def nothing(app: FastAPI) -> None:
            return None

        return nothing, nothing
    sweeper = Periodic("evidence-sweep", settings.evidence_sweep_interval_seconds, sweep_orphans)

    async def start(app: FastAPI) -> None:
        secret = settings.evidence_s3_secret_access_key
        config = S3Config(
            endpoint=settings.evidence_s3_endpoint or "",
            bucket=settings.evidence_s3_bucket or "",
            region=settings.evidence_s3_region,
            access_key_id=settings.evidence_s3_access_key_id or "",
            secret_access_key=secret.get_secret_value() if secret else "",
        )
        client = S3Client(config, timeout=settings.evidence_s3_timeout_seconds)
        app.state.evidence_store = S3Store(client, settings.evidence_s3_prefix)
        await sweeper.start(app)

    async def stop(app: FastAPI) -> None:
        await sweeper.stop(app)
        await app.state.evidence_store.client.aclose()

    return start, stop

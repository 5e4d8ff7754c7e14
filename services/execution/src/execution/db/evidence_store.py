"""Where evidence bytes live (``METAS_EXECUTION_EVIDENCE_STORE``).

``database`` (the default) keeps them in execution's own database, in the request's transaction: the file's row
and its content commit together or not at all.

``s3`` keeps them in an S3-compatible object store, which cannot join the database transaction. So the object is
written FIRST, under a key of its own — ``<prefix><sha256 of the content>/<file id>``: content-addressed (the key
names the bytes it must hold, checked again on every read) and unique to its row — and only then does the row
commit. Whatever fails after the object was written (the audit, the commit, a crash) leaves an object that no row
names: an orphan, which the sweeper (``application/evidence_sweep.py``) deletes once it is older than a grace
period. Deleting a file deletes its row only; its object becomes an orphan the same way. So a row never names a
missing object — the reverse (an object without a row) is the only leftover, and it is collected.
"""

from __future__ import annotations

import hashlib
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from execution.clients.s3 import S3Client
from execution.db.evidence import EvidenceBlob, EvidenceFile


class EvidenceStore(Protocol):
    name: str

    async def put(self, session: AsyncSession, evidence: EvidenceFile, content: bytes) -> str:
        """Stores ``content`` for ``evidence`` (already flushed, so it has its id); returns the store key."""
        ...

    async def get(self, session: AsyncSession, evidence: EvidenceFile) -> bytes: ...

    async def delete(self, session: AsyncSession, evidence: EvidenceFile) -> None: ...


class MissingContent(Exception):
    """A row whose content is gone or altered: never expected (see above)."""


class DatabaseStore:
    name = "database"

    async def put(self, session: AsyncSession, evidence: EvidenceFile, content: bytes) -> str:
        session.add(EvidenceBlob(evidence_id=evidence.id, content=content))
        await session.flush()
        return str(evidence.id)

    async def get(self, session: AsyncSession, evidence: EvidenceFile) -> bytes:
        blob = await session.get(EvidenceBlob, evidence.id)
        if blob is None:
            raise MissingContent(f"evidence {evidence.id} has no content")
        return blob.content

    async def delete(self, session: AsyncSession, evidence: EvidenceFile) -> None:
        blob = await session.get(EvidenceBlob, evidence.id)
        if blob is not None:
            await session.delete(blob)


class S3Store:
    name = "s3"

    def __init__(self, client: S3Client, prefix: str = "evidence/") -> None:
        self.client = client
        self.prefix = prefix

    def key_of(self, evidence: EvidenceFile) -> str:
        return f"{self.prefix}{evidence.sha256}/{evidence.id}"

    async def put(self, session: AsyncSession, evidence: EvidenceFile, content: bytes) -> str:
        key = self.key_of(evidence)
        await self.client.put_object(key, content, evidence.content_type)
        return key

    async def get(self, session: AsyncSession, evidence: EvidenceFile) -> bytes:
        content = await self.client.get_object(evidence.store_key)
        if content is None:
            raise MissingContent(f"evidence {evidence.id}: no object {evidence.store_key!r}")
        if hashlib.sha256(content).hexdigest() != evidence.sha256:
            raise MissingContent(f"evidence {evidence.id}: object {evidence.store_key!r} holds other bytes")
        return content

    async def delete(self, session: AsyncSession, evidence: EvidenceFile) -> None:
        """Nothing now: the row's deletion may still roll back. The object, once no row names it, is an orphan
        the sweeper collects."""


async def keys_in_use(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of ``keys`` an evidence row of the s3 store names (committed rows, as this session sees them)."""
    if not keys:
        return set()
    stmt = select(EvidenceFile.store_key).where(EvidenceFile.store == "s3", EvidenceFile.store_key.in_(keys))
    return set((await session.scalars(stmt)).all())


def store_for(name: str) -> EvidenceStore:
    if name == "database":
        return DatabaseStore()
    raise ValueError(f"evidence store {name!r} is made at start-up (app.state.evidence_store)")

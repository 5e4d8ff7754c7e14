"""Where evidence bytes live. The default keeps them in execution's own database, in the request's transaction:
the file's row and its content commit together or not at all.

Another store (an S3-compatible object store in production) implements the same three calls. It cannot join the
database transaction, so it must write the object under a fresh key BEFORE the row commits and treat objects no
row names as garbage to collect later (never the reverse: a row must never name a missing object). Only the
database store is implemented today; ``METAS_EXECUTION_EVIDENCE_STORE`` accepts ``database`` only.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from execution.db.evidence import EvidenceBlob, EvidenceFile


class EvidenceStore(Protocol):
    name: str

    async def put(self, session: AsyncSession, evidence: EvidenceFile, content: bytes) -> str:
        """Stores ``content`` for ``evidence`` (already flushed, so it has its id); returns the store key."""
        ...

    async def get(self, session: AsyncSession, evidence: EvidenceFile) -> bytes: ...

    async def delete(self, session: AsyncSession, evidence: EvidenceFile) -> None: ...


class MissingContent(Exception):
    """A row whose content is gone: never expected (the database store commits both together)."""


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


def store_for(name: str) -> EvidenceStore:
    if name == "database":
        return DatabaseStore()
    raise ValueError(f"unknown evidence store {name!r}")

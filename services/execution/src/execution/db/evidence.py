"""Evidence tables: the file's record, its content (default store) and the items that require evidence.

``evidence_file`` is what lists and audits see; the bytes live apart (``evidence_blob``, one row per file, in the
same transaction) so listing never reads content and another store (S3) can hold them instead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from execution.db.base import Base
from execution.db.models import RegistrationVersion
from execution.db.types import BigId, UTCDateTime


class EvidenceFile(Base):
    __tablename__ = "evidence_file"
    __table_args__ = (Index("ix_evidence_file_registration", "registration_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"))
    version_number: Mapped[int] = mapped_column(Integer)  # the registration's version it was added to
    name: Mapped[str] = mapped_column(String(400))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigId)
    sha256: Mapped[str] = mapped_column(String(64))
    store: Mapped[str] = mapped_column(String(20))  # "database" | "s3"
    store_key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(128))


class EvidenceBlob(Base):
    __tablename__ = "evidence_blob"

    evidence_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("evidence_file.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)


class EvidenceRequirement(Base):
    """An item whose registrations cannot be certified without evidence: its "fonte de comprovação"."""

    __tablename__ = "evidence_requirement"

    plan_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(100), primary_key=True)
    source: Mapped[str] = mapped_column(Text)  # what must be shown, in the plan's words
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))


async def evidence_of(session: AsyncSession, registration_id: int) -> list[EvidenceFile]:
    stmt = select(EvidenceFile).where(EvidenceFile.registration_id == registration_id).order_by(EvidenceFile.id)
    return list((await session.scalars(stmt)).all())


async def count_evidence(session: AsyncSession, registration_id: int) -> int:
    stmt = select(func.count()).select_from(EvidenceFile).where(EvidenceFile.registration_id == registration_id)
    return int((await session.execute(stmt)).scalar_one())


async def get_evidence(session: AsyncSession, registration_id: int, evidence_id: int) -> EvidenceFile | None:
    row = await session.get(EvidenceFile, evidence_id)
    return row if row is not None and row.registration_id == registration_id else None


async def certified_versions(session: AsyncSession, registration_id: int) -> list[int]:
    stmt = select(RegistrationVersion.number).where(
        RegistrationVersion.registration_id == registration_id, RegistrationVersion.action == "certify"
    )
    return list((await session.scalars(stmt)).all())


async def requirements_of(session: AsyncSession, plan_id: str) -> list[EvidenceRequirement]:
    stmt = (
        select(EvidenceRequirement)
        .where(EvidenceRequirement.plan_id == plan_id)
        .order_by(EvidenceRequirement.item_code)
    )
    return list((await session.scalars(stmt)).all())


async def get_requirement(session: AsyncSession, plan_id: str, item_code: str) -> EvidenceRequirement | None:
    return await session.get(EvidenceRequirement, (plan_id, item_code))

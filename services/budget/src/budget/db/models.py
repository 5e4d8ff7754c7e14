"""Every ORM model of the budget service; Alembic imports this module to see the metadata.

Money columns are NUMERIC(16, 2) (exact on PostgreSQL; SQLite stores a double, exact for these
magnitudes, and the ORM hands back Decimal quantised to 2 places). The reports' SQL sums whole cents
(``repositories.grouped_entries``: integers on both databases, never float sums) and the domain totals those
in Decimal, so both databases give the same totals. net + vat = gross is guaranteed by the
domain (money.split), not by a CHECK (float arithmetic on SQLite).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from budget.db.base import AuditEvent, Base, IdempotencyRecord
from metas_kit.db import utcnow

MONEY = Numeric(16, 2, asdecimal=True)
RATE = Numeric(6, 4, asdecimal=True)
PK_INT = BigInteger().with_variant(Integer, "sqlite")


class CodeTableVersion(Base):
    """A version of the economic classification (classificador económico) in force from a date."""

    __tablename__ = "code_table_version"

    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(400), default="")
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EconomicCode(Base):
    __tablename__ = "economic_code"

    version: Mapped[str] = mapped_column(ForeignKey("code_table_version.version"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    level: Mapped[int] = mapped_column(Integer)
    parent: Mapped[str | None] = mapped_column(String(40))
    spending_type: Mapped[str | None] = mapped_column(String(20))


class Investment(Base):
    """Programme -> component -> investment (PRR -> C17 -> C17-i03)."""

    __tablename__ = "investment"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    programme: Mapped[str] = mapped_column(String(200))
    component: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    total_cost: Mapped[Decimal] = mapped_column(MONEY)


class Eixo(Base):
    __tablename__ = "eixo"

    investment_code: Mapped[str] = mapped_column(ForeignKey("investment.code"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(400))
    name_annex3: Mapped[str | None] = mapped_column(String(400))
    ii_responsible: Mapped[bool] = mapped_column(Boolean)
    total_cost: Mapped[Decimal | None] = mapped_column(MONEY)


class SubInvestment(Base):
    """Both code schemes of the seed: Tabela 19 (``code``, 1.1.1) and Anexo 4 (``code_annex4``, 1.1)."""

    __tablename__ = "subinvestment"
    __table_args__ = (
        UniqueConstraint("investment_code", "code_annex4"),
        ForeignKeyConstraint(["investment_code", "eixo"], ["eixo.investment_code", "eixo.number"]),
    )

    investment_code: Mapped[str] = mapped_column(ForeignKey("investment.code"), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    code_annex4: Mapped[str] = mapped_column(String(20))
    eixo: Mapped[int] = mapped_column(Integer)
    name_table19: Mapped[str] = mapped_column(String(400))
    name_section33: Mapped[str | None] = mapped_column(String(400))
    name_annex4: Mapped[str | None] = mapped_column(String(400))
    total_estimated: Mapped[Decimal | None] = mapped_column(MONEY)


class ProcurementLine(Base):
    """Anexo 4 lines (NPD = número de processo de despesa; some lines have none)."""

    __tablename__ = "procurement_line"
    __table_args__ = (
        UniqueConstraint("investment_code", "subinvestment", "position"),
        ForeignKeyConstraint(
            ["investment_code", "subinvestment"], ["subinvestment.investment_code", "subinvestment.code"]
        ),
    )

    id: Mapped[int] = mapped_column(PK_INT, primary_key=True, autoincrement=True)
    investment_code: Mapped[str] = mapped_column(String(40))
    subinvestment: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer)
    npd: Mapped[str | None] = mapped_column(String(40), index=True)
    description: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(MONEY)


class FundItem(Base):
    """Anexo 5 fund items (DA3110501 "Adm. PREV PRR Eix1", CPRR01 "C Capital PRR E1", ...)."""

    __tablename__ = "fund_item"
    __table_args__ = (ForeignKeyConstraint(["investment_code", "eixo"], ["eixo.investment_code", "eixo.number"]),)

    investment_code: Mapped[str] = mapped_column(ForeignKey("investment.code"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    description: Mapped[str] = mapped_column(String(200))
    eixo: Mapped[int] = mapped_column(Integer)
    spending: Mapped[str] = mapped_column(String(20))  # current | capital
    group_name: Mapped[str] = mapped_column(String(100))


class PublishedBudget(Base):
    """A budget version as published: the seed document stored verbatim (printed figures never altered)."""

    __tablename__ = "published_budget"
    __table_args__ = (UniqueConstraint("investment_code", "sha256"),)

    id: Mapped[int] = mapped_column(PK_INT, primary_key=True, autoincrement=True)
    investment_code: Mapped[str] = mapped_column(ForeignKey("investment.code"))
    label: Mapped[str] = mapped_column(String(200))
    source_file: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BudgetAmount(Base):
    """One amount: breakdown x year x month x phase x position, split into net and VAT."""

    __tablename__ = "budget_amount"
    __table_args__ = (
        CheckConstraint("phase = 'corrected' OR gross >= 0", name="non_negative"),
        CheckConstraint("month IS NULL OR (month >= 1 AND month <= 12)", name="month_range"),
        Index("ix_budget_amount_report", "investment_code", "breakdown", "eixo", "year"),
    )

    id: Mapped[int] = mapped_column(PK_INT, primary_key=True, autoincrement=True)
    investment_code: Mapped[str] = mapped_column(ForeignKey("investment.code"))
    breakdown: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int | None] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(20))
    eixo: Mapped[int] = mapped_column(Integer)
    subinvestment: Mapped[str | None] = mapped_column(String(20))
    fund_item: Mapped[str | None] = mapped_column(String(40))
    rubric: Mapped[str | None] = mapped_column(String(40))
    code_table_version: Mapped[str | None] = mapped_column(String(40))
    npd: Mapped[str | None] = mapped_column(String(40))
    funding_source: Mapped[str] = mapped_column(String(10))
    vat_rate: Mapped[Decimal] = mapped_column(RATE)
    gross: Mapped[Decimal] = mapped_column(MONEY)
    net: Mapped[Decimal] = mapped_column(MONEY)
    vat: Mapped[Decimal] = mapped_column(MONEY)
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    origin: Mapped[str] = mapped_column(String(20), default="api")  # "seed" rows are replaced on re-seed
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class InitiativeLink(Base):
    """Sub-investment -> planning initiative (plan id + initiative code; read from planning on request)."""

    __tablename__ = "initiative_link"
    __table_args__ = (
        UniqueConstraint("investment_code", "subinvestment", "plan_id", "initiative_code"),
        ForeignKeyConstraint(
            ["investment_code", "subinvestment"], ["subinvestment.investment_code", "subinvestment.code"]
        ),
    )

    id: Mapped[int] = mapped_column(PK_INT, primary_key=True, autoincrement=True)
    investment_code: Mapped[str] = mapped_column(String(40))
    subinvestment: Mapped[str] = mapped_column(String(20))
    plan_id: Mapped[str] = mapped_column(String(100))
    initiative_code: Mapped[str] = mapped_column(String(100))
    initiative_name: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


__all__ = [
    "AuditEvent",
    "Base",
    "BudgetAmount",
    "CodeTableVersion",
    "EconomicCode",
    "Eixo",
    "FundItem",
    "IdempotencyRecord",
    "InitiativeLink",
    "Investment",
    "ProcurementLine",
    "PublishedBudget",
    "SubInvestment",
]

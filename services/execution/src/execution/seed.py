"""Load per-plan registration settings, idempotently:

    python -m execution.seed data/execution      # reads registration_settings.yaml

Migrates the database first (METAS_EXECUTION_DATABASE_URL); re-running it with the same file
changes nothing. Plans are not checked against planning here (it may not be running yet).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from execution.app import ALEMBIC_INI
from execution.db.models import AuditEvent, PlanRegistrationSettings
from execution.domain.periods import Period
from execution.settings import get_settings
from metas_kit.audit import record_audit
from metas_kit.auth import Principal
from metas_kit.db import Database
from metas_kit.migrations import upgrade_head

FILE = "registration_settings.yaml"
SEEDER = "execution-seed"
SEED_PRINCIPAL = Principal(sub=SEEDER, roles=frozenset({"admin"}))
FIELDS = ("catch_up_through", "closing_month", "holiday_categories", "openings", "timezone")


def read_settings(directory: Path) -> dict[str, dict[str, Any]]:
    path = directory / FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of plan id to settings")
    out: dict[str, dict[str, Any]] = {}
    for plan_id, values in data.items():
        unknown = set(values or {}) - set(FIELDS)
        if unknown:
            raise ValueError(f"{path}: {plan_id}: unknown keys {sorted(unknown)}")
        values = dict(values or {})
        if values.get("catch_up_through"):
            Period.parse(str(values["catch_up_through"]))
        out[str(plan_id)] = values
    return out


async def load(directory: Path, database_url: str) -> list[tuple[str, str]]:
    """Returns (plan_id, "created" | "updated" | "unchanged") per plan."""
    db = Database(database_url)
    results: list[tuple[str, str]] = []
    try:
        async with db.sessionmaker() as session, session.begin():
            for plan_id, values in read_settings(directory).items():
                row = await session.get(PlanRegistrationSettings, plan_id)
                wanted = {
                    "catch_up_through": values.get("catch_up_through"),
                    "closing_month": values.get("closing_month"),
                    "holiday_categories": values.get("holiday_categories"),
                    "openings": sorted(str(d) for d in values.get("openings") or ()),
                    "timezone": values.get("timezone"),
                }
                if row is not None and all(getattr(row, k) == v for k, v in wanted.items()):
                    results.append((plan_id, "unchanged"))
                    continue
                action = "updated" if row is not None else "created"
                before = {k: getattr(row, k) for k in wanted} if row is not None else None
                if row is None:
                    row = PlanRegistrationSettings(plan_id=plan_id)
                    session.add(row)
                for key, value in wanted.items():
                    setattr(row, key, value)
                # Settings move due dates (the catch-up): who changed them is part of the audit trail.
                await record_audit(
                    session,
                    AuditEvent,
                    SEED_PRINCIPAL,
                    action="create" if before is None else "update",
                    entity_type="registration_settings",
                    entity_id=plan_id,
                    before=before,
                    after=wanted,
                )
                row.updated_at = datetime.now(UTC)
                row.updated_by = SEEDER
                results.append((plan_id, action))
    finally:
        await db.dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m execution.seed", description=__doc__)
    parser.add_argument("directory", type=Path, nargs="?", default=Path("data/execution"))
    parser.add_argument("--database-url", default=None, help="default: METAS_EXECUTION_DATABASE_URL")
    parser.add_argument("--no-migrate", action="store_true")
    args = parser.parse_args(argv)
    url = args.database_url or get_settings().database_url
    if not args.no_migrate:
        upgrade_head(ALEMBIC_INI, url)
    for plan_id, action in asyncio.run(load(args.directory, url)):
        sys.stdout.write(f"{plan_id}: registration settings {action}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

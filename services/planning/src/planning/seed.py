"""Load plan documents into the planning database, idempotently:

    python -m planning.seed data/plans          # every *.yaml / *.json in the directory

Migrates the database first (METAS_PLANNING_DATABASE_URL), imports each document and approves the
version the import created or changed; re-running it with the same files changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, cast

from metas_kit.auth import Principal
from metas_kit.db import Database
from metas_kit.migrations import upgrade_head
from metas_kit.numbers import load_yaml
from metas_kit.writes import WriteContext, WriteModels
from planning.app import ALEMBIC_INI
from planning.application.versions import PlanInvalid, approve, import_document
from planning.db.base import AuditEvent, IdempotencyRecord
from planning.settings import get_settings

SEEDER = Principal(sub="planning-seed", roles=frozenset({"admin"}), name="planning.seed")


def read_documents(directory: Path) -> list[tuple[Path, Any]]:
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
    out = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        out.append((path, json.loads(text) if path.suffix == ".json" else load_yaml(text)))
    return out


async def load(directory: Path, database_url: str) -> list[dict[str, Any]]:
    db = Database(database_url)
    results: list[dict[str, Any]] = []
    try:
        for path, data in read_documents(directory):
            async with db.sessionmaker() as session, session.begin():
                # The seed writes as the application does, audited, without an HTTP request around it.
                ctx = WriteContext(session, SEEDER, cast(Any, None), WriteModels(AuditEvent, IdempotencyRecord))
                result = await import_document(ctx, data)
                if result.changed:
                    version = await approve(ctx, result.plan_id, result.version, expected_etag=result.etag)
                    result.status = version.status
            results.append({"file": str(path), **result.as_dict(), "warnings": len(result.warnings)})
    finally:
        await db.dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m planning.seed", description="Load plan documents.")
    parser.add_argument("directory", type=Path, nargs="?", default=Path("data/plans"))
    parser.add_argument("--database-url", default=None, help="default: METAS_PLANNING_DATABASE_URL")
    parser.add_argument("--no-migrate", action="store_true", help="do not run alembic upgrade head first")
    args = parser.parse_args(argv)
    url = args.database_url or get_settings().database_url
    if not args.no_migrate:
        upgrade_head(ALEMBIC_INI, url)
    try:
        results = asyncio.run(load(args.directory, url))
    except PlanInvalid as exc:
        sys.stderr.write(json.dumps(exc.to_problem(), ensure_ascii=False, indent=2) + "\n")
        return 1
    for r in results:
        sys.stdout.write(
            f"{r['plan_id']}: {r['action']} -> version {r['version']} ({r['status']}), "
            f"{r['warnings']} warnings [{r['file']}]\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Load the project's copy of the PRR seed: ``python -m budget.seed data/budget``.

Idempotent: code-table versions already stored are left alone, and a published budget whose file
hash is already stored is not loaded again. A new (changed) seed file becomes a new published
budget version; the amounts loaded from the previous seed (origin ``seed``) are replaced, amounts
written through the API are kept. The printed figures are stored verbatim and never altered.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from budget.db import models as m
from budget.db import repositories as repo
from budget.domain.amounts import Structure, build_entry, seed_inputs
from budget.domain.economic_codes import load_code_tables
from budget.domain.published import parse_published
from metas_kit.audit import record_audit
from metas_kit.auth import Principal

SEED_FILE = "prr_c17_i03.yaml"
CODES_FILE = "economic_codes.yaml"
SEED_PRINCIPAL = Principal(sub="system:seed", roles=frozenset({"admin"}))


@dataclass(frozen=True, slots=True)
class SeedResult:
    code_tables_added: list[str]
    published_loaded: bool
    published_id: int
    amounts_loaded: int


def _read_yaml(path: Path) -> tuple[bytes, dict[str, Any]]:
    raw = path.read_bytes()
    doc = yaml.safe_load(raw)
    if not isinstance(doc, dict):
        raise ValueError(f"{path} is not a YAML mapping")
    return raw, doc


async def load_seed(session: AsyncSession, data_dir: Path, organisation: str | None = None) -> SeedResult:
    """Load code tables and the published budget into the session's transaction (caller commits).

    The published budget belongs to ``organisation`` (default: the setting METAS_BUDGET_ORGANISATION); the code
    tables are the national classification, installation-level."""
    if organisation is None:
        from budget.settings import get_settings

        organisation = get_settings().organisation
    _raw, codes_doc = _read_yaml(data_dir / CODES_FILE)
    added = []
    for table in load_code_tables(codes_doc):
        if await repo.add_code_table(session, table):
            added.append(table.version)
            await record_audit(
                session,
                m.AuditEvent,
                SEED_PRINCIPAL,
                action="code_table_version.create",
                entity_type="code_table_version",
                entity_id=table.version,
                changes={"created": {"version": table.version, "codes": len(table.codes)}},
            )

    raw, doc = _read_yaml(data_dir / SEED_FILE)
    sha = hashlib.sha256(raw).hexdigest()
    pb = parse_published(doc)
    existing = await repo.published_by_sha(session, sha, pb.investment_code)
    if existing is not None:
        return SeedResult(added, False, existing.id, 0)

    await repo.save_structure(session, pb)
    row = m.PublishedBudget(
        investment_code=pb.investment_code,
        label=str(doc.get("source", {}).get("document", SEED_FILE)),
        source_file=SEED_FILE,
        sha256=sha,
        document=doc,
    )
    session.add(row)
    await repo.delete_seed_amounts(session, pb.investment_code)
    tables = await repo.read_code_tables(session, await repo.code_table_key(session))
    codes = tables[-1]
    structure = Structure.from_published(pb)
    n = 0
    for raw_input in seed_inputs(pb):
        entry = build_entry(raw_input, structure, codes)
        repo.add_amount(session, entry, code_table_version=codes.version, origin="seed", investment=pb.investment_code)
        n += 1
    await session.flush()
    await record_audit(
        session,
        m.AuditEvent,
        SEED_PRINCIPAL,
        organisation=organisation,
        action="published_budget.load",
        entity_type="published_budget",
        entity_id=str(row.id),
        changes={"created": {"sha256": sha, "source_file": SEED_FILE, "amounts": n}},
    )
    return SeedResult(added, True, row.id, n)


async def _main(data_dir: Path) -> SeedResult:
    from budget.app import ALEMBIC_INI
    from budget.settings import get_settings
    from metas_kit.db import Database
    from metas_kit.migrations import upgrade_head

    settings = get_settings()
    await asyncio.to_thread(upgrade_head, ALEMBIC_INI, settings.database_url)
    db = Database(settings.database_url)
    try:
        async with db.sessionmaker() as session, session.begin():
            return await load_seed(session, data_dir)
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m budget.seed", description=__doc__)
    parser.add_argument("data_dir", type=Path, nargs="?", default=Path("data/budget"))
    args = parser.parse_args(argv)
    result = asyncio.run(_main(args.data_dir))
    state = "loaded" if result.published_loaded else "already loaded"
    sys.stdout.write(
        f"budget seed: code tables added {result.code_tables_added or 'none'}; "
        f"published budget #{result.published_id} {state}; {result.amounts_loaded} amounts\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Planning figures, each against a baseline measured in the same run (ratios service / baseline).

- validation of each seed document: pydantic alone (``PlanDocument.model_validate_json`` on the prepared
  JSON text) vs ``parse_document`` (JSON round trip + pydantic) vs the full ``check_document``
  (+ the semantic checks);
- re-import of an unchanged document: ``POST /v1/plans:import`` vs the domain work it cannot skip
  (``check_document`` + ``content_hash``);
- ``GET /v1/plans/{id}/tree`` (≈100 kB of JSON), 200 and 304: the service vs a bare Starlette route
  returning the same bytes read with the raw driver, vs the handler's body without HTTP (session,
  repository, ORM), vs the floor (raw driver query + ``json.loads``/
  ``json.dumps`` to the same bytes, no HTTP at all).

Every variant runs in turn in each round (interleaved), so load changes hit them alike; wall p50/p95
and the mean CPU time of this process per call are printed as Markdown tables.

    python benchmarks/planning_bench.py [--backends sqlite,postgresql] [--reads 200] [--validations 50]
    python benchmarks/planning_bench.py --database-url URL      # one given database instead

In-process (httpx ASGI transport, no network); SQLite on a temporary file, PostgreSQL on a scratch
database ``metas_bench_planning_tree`` (dropped and created, dropped again at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import yaml
from _bench_support import (
    DEFAULT_PG,
    RawConnection,
    drop_pg_database,
    interleaved,
    machine,
    recreate_pg_database,
    sync_interleaved,
    table,
)
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from metas_kit.auth import Principal, issue_token
from metas_kit.db import Database
from metas_kit.migrations import upgrade_head
from planning.app import ALEMBIC_INI, create_app
from planning.application import reads
from planning.domain.document import PlanDocument, _json_default, content_hash, parse_document
from planning.domain.validation import check_document
from planning.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PLANS = ROOT / "data" / "plans"
SECRET = "bench-secret-planning-0123456789abcdef"
PG_DB = "metas_bench_planning_tree"
READER = Principal("bench", frozenset({"viewer"}))
DOC_SQL = "SELECT document FROM plan_version WHERE plan_id = ? AND number = ?"
ETAG_SQL = "SELECT etag FROM plan_version WHERE plan_id = ? AND number = ?"


def render(document: Any) -> bytes:
    """The bytes Starlette's JSONResponse (the service's response class) makes of a document."""
    return json.dumps(document, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


def as_json(value: object) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def load_docs() -> dict[str, Any]:
    return {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(PLANS.glob("*.yaml"))}


def bench_validation(docs: dict[str, Any], reps: int) -> None:
    out = sys.stdout.write
    for name, data in docs.items():
        text = json.dumps(data, default=_json_default)
        _doc, report = check_document(data)
        results = sync_interleaved(
            {
                "pydantic model_validate_json": partial(PlanDocument.model_validate_json, text),
                "parse_document (json.dumps + pydantic)": partial(parse_document, data),
                "check_document (full validation)": partial(check_document, data),
            },
            reps,
        )
        out(
            table(
                f"validate {name} ({len(text)} bytes of JSON, {len(report.errors)} errors, "
                f"{len(report.warnings)} warnings)",
                results,
                "pydantic model_validate_json",
            )
        )


def bare_app(raw: RawConnection) -> Starlette:
    """The least an ASGI service can do for the tree: one driver query, the stored document re-rendered."""

    async def tree(request: Request) -> Response:
        plan_id, number = request.path_params["plan_id"], int(request.path_params["number"])
        inm = request.headers.get("if-none-match")
        if inm is not None:
            row = await raw.fetchrow(ETAG_SQL, plan_id, number)
            if row is not None and row[0] == inm:
                return Response(status_code=304, headers={"ETag": inm})
        row = await raw.fetchrow(DOC_SQL, plan_id, number)
        assert row is not None
        return JSONResponse(as_json(row[0]))

    return Starlette(routes=[Route("/tree/{plan_id}/{number}", tree)])


async def handler_body(db: Database, plan_id: str, etag: str | None) -> bytes | None:
    """What ``get_tree`` does below FastAPI: a session (one transaction), the plan, the version's ETag,
    the document, rendered; None for a 304. No routing, no JWT, no middleware."""
    async with db.sessionmaker() as session:
        head = await reads.tree_head(session, READER, plan_id, None)
        if head is not None and head.etag == etag:
            await session.commit()
            return None
        row = await reads.read_version(session, READER, plan_id, None)
        body = render(row.document)
        await session.commit()
        return body


async def bench_backend(label: str, url: str, docs: dict[str, Any], reads: int) -> None:
    out = sys.stdout.write
    out(f"\n### {label}\n\n")
    await asyncio.to_thread(upgrade_head, ALEMBIC_INI, url)
    planner = {"authorization": "Bearer " + issue_token(Principal("bench", frozenset({"planner"})), SECRET)}
    app = create_app(Settings(database_url=url, jwt_secret=SECRET, log_json=False, log_level="WARNING"))
    raw = RawConnection(url)
    async with app.router.lifespan_context(app):
        await raw.open()
        db: Database = app.state.db
        svc_transport = httpx.ASGITransport(app=app)
        bare_transport = httpx.ASGITransport(app=bare_app(raw))
        async with (
            httpx.AsyncClient(transport=svc_transport, base_url="http://planning") as client,
            httpx.AsyncClient(transport=bare_transport, base_url="http://bare") as bare,
        ):
            for name, data in docs.items():
                t = time.perf_counter()
                res = await client.post("/v1/plans:import", json=data, headers=planner)
                first = time.perf_counter() - t
                assert res.status_code in (200, 201), res.text
                out(f"import {name}: first {first * 1000:.0f} ms ({res.json()['action']})\n\n")

                def domain(data: Any = data) -> None:
                    doc, _report = check_document(data)
                    assert doc is not None
                    content_hash(doc)

                async def domain_async(domain: Any = domain) -> None:
                    domain()

                async def reimport(data: Any = data) -> None:
                    r = await client.post("/v1/plans:import", json=data, headers=planner)
                    assert r.json()["action"] == "unchanged", r.text

                results = await interleaved(
                    {"check_document + content_hash": domain_async, "POST /v1/plans:import (unchanged)": reimport},
                    max(10, reads // 10),
                    warmup=2,
                )
                out(table(f"re-import {name}", results, "check_document + content_hash"))

            for name in docs:
                r = await client.get(f"/v1/plans/{name}/tree", headers=planner)
                assert r.status_code == 200, r.text
                number, etag, body = int(r.headers["x-plan-version"]), r.headers["etag"], r.content
                row = await raw.fetchrow(DOC_SQL, name, number)
                assert row is not None
                assert render(as_json(row[0])) == body, "the floor's bytes differ from the service's"
                assert (await bare.get(f"/tree/{name}/{number}")).content == body
                digest = hashlib.sha256(body).hexdigest()[:12]

                async def floor(name: str = name, number: int = number) -> None:
                    row = await raw.fetchrow(DOC_SQL, name, number)
                    assert row is not None
                    render(as_json(row[0]))

                async def starlette(name: str = name, number: int = number) -> None:
                    r = await bare.get(f"/tree/{name}/{number}")
                    assert r.status_code == 200

                async def handler(name: str = name) -> None:
                    assert await handler_body(db, name, None) is not None

                async def service(name: str = name) -> None:
                    r = await client.get(f"/v1/plans/{name}/tree", headers=planner)
                    assert r.status_code == 200

                results = await interleaved(
                    {
                        "floor: driver query + json": floor,
                        "bare Starlette route": starlette,
                        "handler body, no HTTP": handler,
                        "service GET /tree": service,
                    },
                    reads,
                )
                out(
                    table(
                        f"tree {name} 200 ({len(body)} bytes, sha256 {digest}…)", results, "floor: driver query + json"
                    )
                )

                async def floor304(name: str = name, number: int = number, etag: str = etag) -> None:
                    row = await raw.fetchrow(ETAG_SQL, name, number)
                    assert row is not None
                    assert row[0] == etag

                async def starlette304(name: str = name, number: int = number, etag: str = etag) -> None:
                    r = await bare.get(f"/tree/{name}/{number}", headers={"if-none-match": etag})
                    assert r.status_code == 304

                async def transaction() -> None:
                    async with db.sessionmaker() as session:
                        await session.execute(text("SELECT 1"))
                        await session.commit()

                async def handler304(name: str = name, etag: str = etag) -> None:
                    assert await handler_body(db, name, etag) is None

                async def service304(name: str = name, etag: str = etag) -> None:
                    r = await client.get(f"/v1/plans/{name}/tree", headers={**planner, "if-none-match": etag})
                    assert r.status_code == 304

                results = await interleaved(
                    {
                        "floor: driver etag query": floor304,
                        "bare Starlette route": starlette304,
                        "empty transaction (session, SELECT 1, commit)": transaction,
                        "handler body, no HTTP": handler304,
                        "service GET /tree": service304,
                    },
                    reads,
                )
                out(table(f"tree {name} 304 (If-None-Match)", results, "floor: driver etag query"))
        await raw.close()


async def run(args: argparse.Namespace) -> None:
    sys.stdout.write(machine())
    docs = load_docs()
    bench_validation(docs, args.validations)
    if args.database_url:
        await bench_backend(args.database_url.split(":", 1)[0], args.database_url, docs, args.reads)
        return
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                await bench_backend("SQLite", f"sqlite+aiosqlite:///{tmp}/planning-bench.db", docs, args.reads)
        elif backend == "postgresql":
            url = await recreate_pg_database(args.pg_url, PG_DB)
            try:
                await bench_backend("PostgreSQL", url, docs, args.reads)
            finally:
                await drop_pg_database(args.pg_url, PG_DB)
        else:
            raise SystemExit(f"unknown backend {backend!r}")
    sys.stdout.write(machine())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help="one migrated-or-empty database instead of --backends")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="PostgreSQL server for the scratch database")
    parser.add_argument("--reads", type=int, default=200, help="rounds of each tree read (all variants)")
    parser.add_argument("--validations", type=int, default=50, help="rounds of each validation variant")
    args = parser.parse_args()
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

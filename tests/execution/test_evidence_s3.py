"""Evidence kept in an S3-compatible object store (METAS_EXECUTION_EVIDENCE_STORE=s3), against a real S3 server
started by the test (moto's, on a free port), with the execution database on PostgreSQL and SQLite.

The guarantee (db/evidence_store.py): the object is written first, under ``<prefix><sha256>/<file id>``, then the
row commits; whatever fails after the object was written leaves an object no row names, which the sweeper
deletes once older than the grace period — a row never names a missing object.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from execution_support import ADMIN, IPSM, REG_DS, SECRET, VIEWER, WHY, Clock, Service, planning_client_for
from fastapi import FastAPI
from moto.server import ThreadedMotoServer
from sqlalchemy import delete, func, select

from execution.app import create_app
from execution.application.evidence_sweep import sweep_orphans
from execution.clients.s3 import ObjectStoreUnavailable, S3Client, S3Config, sign
from execution.db.evidence import EvidenceBlob, EvidenceFile
from execution.db.evidence_store import S3Store
from execution.db.models import Registration
from execution.settings import Settings
from metas_dev.cluster import free_port

BUCKET = "metas-evidence"
REGS = f"/v1/plans/{IPSM}/registrations"
EVIDENCE = f"{REGS}/DS-I4/2014-01/evidence"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_config(endpoint: str) -> S3Config:
    return S3Config(endpoint, BUCKET, "us-east-1", "AKIDMETASTEST", "metas-test-secret")


@pytest.fixture(scope="module")
async def s3svc(db_url: str, planning_app: FastAPI, s3_endpoint: str) -> AsyncIterator[Service]:
    admin = S3Client(s3_config(s3_endpoint))
    await admin.create_bucket()
    await admin.aclose()
    settings = Settings(
        database_url=db_url,
        jwt_secret=SECRET,
        migrate_on_start=False,
        metrics_refresh_seconds=0,
        log_json=False,
        log_level="WARNING",
        planning_url="http://planning.test",
        evidence_store="s3",
        evidence_s3_endpoint=s3_endpoint,
        evidence_s3_bucket=BUCKET,
        evidence_s3_access_key_id="AKIDMETASTEST",
        evidence_s3_secret_access_key="metas-test-secret",
        evidence_s3_prefix=f"evidence-{db_url.split(':', 1)[0]}/",  # one prefix per backend: no shared objects
        evidence_sweep_interval_seconds=0,
    )
    app = create_app(settings, planning=planning_client_for(planning_app))
    clock = Clock(datetime(2014, 3, 10, 12, tzinfo=UTC))
    app.state.clock = clock
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://execution.test") as http:
            yield Service(app, http, clock)


@pytest.fixture
async def s3reg(s3svc: Service) -> AsyncIterator[Service]:
    svc = s3svc
    async with svc.app.state.db.sessionmaker() as session, session.begin():
        await session.execute(delete(Registration))  # its files go with it (ON DELETE CASCADE)
    store: S3Store = svc.app.state.evidence_store
    for obj in await store.client.list_objects(store.prefix):
        await store.client.delete_object(obj.key)
    svc.clock.set(2014, 3, 10, 12)
    put = await svc.http.put(
        f"{REGS}/DS-I4/2014-01", json={"payload": {"value": "21"}, "justification": WHY}, headers=REG_DS
    )
    assert put.status_code == 201, put.text
    yield svc
    svc.app.state.evidence_store = store


def store_of(svc: Service) -> S3Store:
    store: S3Store = svc.app.state.evidence_store
    return store


async def objects(svc: Service) -> dict[str, int]:
    store = store_of(svc)
    return {o.key: o.size for o in await store.client.list_objects(store.prefix)}


async def rows(svc: Service) -> list[tuple[int, str, str]]:
    async with svc.app.state.db.sessionmaker() as session:
        found = await session.execute(select(EvidenceFile.id, EvidenceFile.store, EvidenceFile.store_key))
        blobs = (await session.execute(select(func.count()).select_from(EvidenceBlob))).scalar_one()
    assert blobs == 0  # the S3 store keeps no bytes in the database
    return sorted((i, s, k) for i, s, k in found.all())


async def upload(
    svc: Service, content: bytes, kind: str = "application/pdf", name: str = "prova.pdf"
) -> httpx.Response:
    return await svc.http.post(
        EVIDENCE, params={"name": name}, content=content, headers={**REG_DS, "content-type": kind}
    )


async def evidence_events(svc: Service) -> int:
    page = await svc.http.get("/v1/audit", params={"entity_type": "evidence", "limit": 500}, headers=ADMIN)
    return len(page.json()["items"])


async def test_an_upload_is_an_object_under_its_content_hash_and_comes_back_whole(s3reg: Service) -> None:
    svc = s3reg
    done = await upload(svc, PDF)
    assert done.status_code == 201, done.text
    file_id, digest = done.json()["id"], hashlib.sha256(PDF).hexdigest()
    key = f"{store_of(svc).prefix}{digest}/{file_id}"
    assert await rows(svc) == [(file_id, "s3", key)]
    assert await objects(svc) == {key: len(PDF)}
    got = await svc.http.get(f"{EVIDENCE}/{file_id}/content", headers=VIEWER)
    assert (got.status_code, got.content, got.headers["content-type"]) == (200, PDF, "application/pdf")
    # An object whose bytes were changed behind the service's back is not served as the evidence.
    await store_of(svc).client.put_object(key, b"%PDF-1.4 forged")
    forged = await svc.http.get(f"{EVIDENCE}/{file_id}/content", headers=VIEWER)
    assert (forged.status_code, forged.json()["type"]) == (500, "https://metas.dev/problems/internal")


@pytest.mark.parametrize(
    ("content", "kind", "name", "status"),
    [
        pytest.param(b"", "application/pdf", "vazio.pdf", 422, id="zero-bytes"),
        pytest.param(b"MZ\x90\x00" + bytes(60), "application/pdf", "setup.pdf", 422, id="executable"),
        pytest.param(PNG, "application/pdf", "imagem.pdf", 422, id="type-mismatch"),
        pytest.param(PDF, "application/x-msdownload", "prova.pdf", 415, id="wrong-type"),
        pytest.param(PDF, "application/pdf", "../../etc/passwd", 422, id="path-separator"),
        pytest.param(PDF, "application/pdf", "relatório\x1b[31m.pdf", 422, id="control-character"),
        pytest.param(PDF, "application/pdf", "ç" * 201, 422, id="long-unicode"),
    ],
)
async def test_a_refused_upload_leaves_neither_row_nor_object(
    s3reg: Service, content: bytes, kind: str, name: str, status: int
) -> None:
    svc = s3reg
    refused = await upload(svc, content, kind, name)
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await rows(svc), await objects(svc)) == ([], {})


async def test_an_oversize_upload_leaves_neither_row_nor_object(s3reg: Service) -> None:
    svc = s3reg
    svc.app.state.settings.evidence_max_bytes = 1024
    try:
        refused = await upload(svc, PDF + bytes(2048))
    finally:
        svc.app.state.settings.evidence_max_bytes = 20 * 1024 * 1024
    assert refused.status_code == 413, refused.text
    assert (await rows(svc), await objects(svc)) == ([], {})


async def test_concurrent_uploads_each_get_their_object(s3reg: Service) -> None:
    svc = s3reg
    contents = [b"%PDF-1.7\n" + bytes([i]) * (100_000 + i) for i in range(6)]
    contents.append(contents[0])  # the same bytes twice: two rows, two objects under the same hash
    done = await asyncio.gather(*(upload(svc, c, name=f"parte-{i}.pdf") for i, c in enumerate(contents)))
    assert [r.status_code for r in done] == [201] * 7, [r.text[:200] for r in done]
    stored = await rows(svc)
    assert len(stored) == 7
    assert set(await objects(svc)) == {key for _, _, key in stored}
    for r, content in zip(done, contents, strict=True):
        got = await svc.http.get(f"{EVIDENCE}/{r.json()['id']}/content", headers=VIEWER)
        assert got.content == content


async def test_the_sweeper_deletes_only_old_objects_no_row_names(s3reg: Service) -> None:
    svc = s3reg
    kept = (await upload(svc, PDF, name="fica.pdf")).json()
    gone = (await upload(svc, PDF + b"%2", name="sai.pdf")).json()
    assert (await svc.http.delete(f"{EVIDENCE}/{gone['id']}", headers=REG_DS)).status_code == 204
    # Deleting the row leaves its object (the deletion might still have rolled back) …
    assert len(await objects(svc)) == 2
    # … and a sweep within the grace period (default 1 h) touches nothing: it might be an upload in progress.
    assert (await sweep_orphans(svc.app)).deleted == []
    later = datetime.now(UTC) + timedelta(hours=2)
    report = await sweep_orphans(svc.app, now=later)
    prefix = store_of(svc).prefix
    assert report.deleted == [f"{prefix}{gone['sha256']}/{gone['id']}"]
    assert set(await objects(svc)) == {f"{prefix}{kept['sha256']}/{kept['id']}"}
    got = await svc.http.get(f"{EVIDENCE}/{kept['id']}/content", headers=VIEWER)
    assert got.content == PDF


class CrashAfterPut(S3Store):
    """The object is written, then the request fails before the row commits (a crash, a lost database)."""

    async def put(self, session, evidence, content):  # type: ignore[no-untyped-def]
        await super().put(session, evidence, content)
        raise RuntimeError("the database went away")


async def test_a_failure_after_the_object_was_written_leaves_an_orphan_that_is_swept(s3reg: Service) -> None:
    svc = s3reg
    real = store_of(svc)
    svc.app.state.evidence_store = CrashAfterPut(real.client, real.prefix)
    failed = await upload(svc, PDF)
    svc.app.state.evidence_store = real
    assert failed.status_code == 500
    assert await rows(svc) == []  # no row names a missing (or any) object
    assert len(await objects(svc)) == 1  # the orphan
    swept = await sweep_orphans(svc.app, now=datetime.now(UTC) + timedelta(hours=2))
    assert len(swept.deleted) == 1
    assert await objects(svc) == {}


async def test_an_unreachable_store_is_a_503_and_nothing_is_stored(s3reg: Service) -> None:
    svc = s3reg
    real = store_of(svc)
    dead = S3Client(s3_config(f"http://127.0.0.1:{free_port()}"), timeout=2)
    svc.app.state.evidence_store = S3Store(dead, real.prefix)
    events = await evidence_events(svc)
    try:
        refused = await upload(svc, PDF)
    finally:
        svc.app.state.evidence_store = real
        await dead.aclose()
    assert refused.status_code == 503, refused.text
    assert refused.json()["type"] == "https://metas.dev/problems/upstream-unavailable"
    assert (await rows(svc), await objects(svc)) == ([], {})
    assert await evidence_events(svc) == events  # nothing audited either


async def test_the_client_refuses_an_unreachable_store() -> None:
    client = S3Client(s3_config(f"http://127.0.0.1:{free_port()}"), timeout=2)
    with pytest.raises(ObjectStoreUnavailable):
        await client.get_object("x")
    await client.aclose()


def test_the_signature_is_aws_sigv4_of_the_published_example() -> None:
    # AWS's own example (Signature Version 4 for S3, "GET Object"): GET /test.txt with Range: bytes=0-9 on
    # examplebucket, 24 May 2013, the documentation's credentials. The signature is the documented one.
    config = S3Config(
        "https://examplebucket.s3.amazonaws.com",
        "examplebucket",
        "us-east-1",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
    empty = hashlib.sha256(b"").hexdigest()
    headers = sign(
        config,
        "GET",
        httpx.URL("https://examplebucket.s3.amazonaws.com/test.txt"),
        {"Range": "bytes=0-9"},
        empty,
        datetime(2013, 5, 24, tzinfo=UTC),
    )
    assert headers["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )


def test_the_s3_store_needs_its_settings() -> None:
    with pytest.raises(ValueError, match="EVIDENCE_S3_BUCKET"):
        Settings(evidence_store="s3", evidence_s3_endpoint="http://127.0.0.1:9000")

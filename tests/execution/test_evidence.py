"""Evidence files over HTTP on PostgreSQL and SQLite: upload checked by content, limits, names, download headers,
who may add/read/delete, certification freezing the files it covered, items that require evidence, concurrent
uploads, and nothing half-stored when an upload is refused.

IPSM plan (organisation ipsm), registrar ana (unit DS) registers DS-I4 for 2014-01 at the fixture's clock."""

from __future__ import annotations

import asyncio
import hashlib
import io
import zipfile
from collections.abc import AsyncIterator

import pytest
from execution_support import ADMIN, CERTIFIER, IPSM, PLANNER, REG_DS, REG_PROC, SECRET, VIEWER, WHY, Service
from sqlalchemy import delete, func, select

from execution.db.evidence import EvidenceBlob, EvidenceFile, EvidenceRequirement
from metas_kit.auth import Grant, Principal, issue_token

REGS = f"/v1/plans/{IPSM}/registrations"
EVIDENCE = f"{REGS}/DS-I4/2014-01/evidence"
MiB = 1024 * 1024

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20)
GIF = b"GIF89a" + bytes(20)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(20)
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
CSV = "indicador;valor;observação\nDS-I4;21,5;ligações perdidas\n".encode()
CSV_1252 = "indicador;valor;observação\n".encode("cp1252")


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


DOCX = zipped({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
XLSX = zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
ODS = zipped({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<office/>"})
JAR = zipped({"META-INF/MANIFEST.MF": b"Main-Class: x\n", "x.class": b"\xca\xfe\xba\xbe"})

T = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "csv": "text/csv",
}


def grants_token(sub: str, *grants: Grant) -> dict[str, str]:
    return {"authorization": "Bearer " + issue_token(Principal(sub, grants=grants), SECRET)}


II_REG_DS = grants_token("rui", Grant("registrar", "ii", frozenset({"DS"})))
IPSM_REG_DS = grants_token("ana2", Grant("registrar", "ipsm", frozenset({"DS"})))


@pytest.fixture
async def esvc(service: Service) -> AsyncIterator[Service]:
    async with service.app.state.db.sessionmaker() as session, session.begin():
        await session.execute(delete(EvidenceRequirement))
    yield service
    service.app.state.settings.evidence_max_bytes = 20 * MiB


@pytest.fixture
async def reg(esvc: Service, svc: Service) -> Service:
    """A registration to attach files to (the shared fixture emptied the tables; blobs go with their rows)."""
    put = await svc.http.put(
        f"{REGS}/DS-I4/2014-01", json={"payload": {"value": 21}, "justification": WHY}, headers=REG_DS
    )
    assert put.status_code == 201, put.text
    return svc


async def upload(
    svc: Service, content: bytes, kind: str, name: str = "prova.pdf", who: dict[str, str] = REG_DS, path: str = EVIDENCE
):  # type: ignore[no-untyped-def]
    return await svc.http.post(path, params={"name": name}, content=content, headers={**who, "content-type": kind})


async def stored_counts(svc: Service) -> tuple[int, int]:
    async with svc.app.state.db.sessionmaker() as session:
        files = (await session.execute(select(func.count()).select_from(EvidenceFile))).scalar_one()
        blobs = (await session.execute(select(func.count()).select_from(EvidenceBlob))).scalar_one()
    return files, blobs


async def test_every_accepted_type_round_trips_with_its_hash(reg: Service) -> None:
    svc = reg
    samples = [
        (PDF, T["pdf"], "relatório.pdf"),
        (PNG, T["png"], "ecrã.png"),
        (JPEG, T["jpeg"], "foto.jpg"),
        (GIF, T["gif"], "g.gif"),
        (WEBP, T["webp"], "w.webp"),
        (OLE2, T["doc"], "antigo.doc"),
        (DOCX, T["docx"], "ata.docx"),
        (XLSX, T["xlsx"], "mapa.xlsx"),
        (ODS, T["ods"], "mapa.ods"),
        (CSV, "text/csv; charset=utf-8", "valores.csv"),
        (CSV_1252, T["csv"], "valores-1252.csv"),
    ]
    ids = []
    for content, kind, name in samples:
        r = await upload(svc, content, kind, name)
        assert r.status_code == 201, (name, r.text)
        body = r.json()
        assert (body["name"], body["size"], body["sha256"]) == (name, len(content), hashlib.sha256(content).hexdigest())
        assert body["content_type"] == kind.split(";")[0]
        assert (body["created_by"], body["version_number"]) == ("ana", 1)
        assert body["created_at"].startswith("2014-03-10T12:00:00")
        ids.append(body["id"])
    listed = (await svc.http.get(EVIDENCE, headers=VIEWER)).json()
    assert [e["id"] for e in listed] == ids
    # A viewer downloads the exact bytes with the stored type and a safe attachment header.
    got = await svc.http.get(f"{EVIDENCE}/{ids[0]}/content", headers=VIEWER)
    assert got.status_code == 200
    assert got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"relat_rio.pdf\"; filename*=UTF-8''relat%C3%B3rio.pdf"
    )
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["etag"] == f'"{hashlib.sha256(PDF).hexdigest()}"'
    assert (await svc.http.get(f"{EVIDENCE}/{ids[9]}/content", headers=VIEWER)).content == CSV
    assert await stored_counts(svc) == (len(samples), len(samples))
    audit = (await svc.http.get("/v1/audit", params={"entity_type": "evidence"}, headers=ADMIN)).json()["items"]
    assert [e["action"] for e in audit] == ["evidence.create"] * len(samples)
    assert audit[-1]["entity_id"] == f"{IPSM}/DS-I4/2014-01/{ids[0]}"


BAD_CONTENT = [
    pytest.param(b"MZ\x90\x00" + bytes(60), T["pdf"], 422, "executable", id="windows-exe-declared-pdf"),
    pytest.param(b"\x7fELF\x02\x01\x01" + bytes(20), "application/pdf", 422, "executable", id="elf"),
    pytest.param(b"#!/bin/sh\nrm -rf /\n", T["csv"], 422, "executable", id="script-declared-csv"),
    pytest.param(PNG, T["pdf"], 422, "type-mismatch", id="png-declared-pdf"),
    pytest.param(PDF, T["png"], 422, "type-mismatch", id="pdf-declared-png"),
    pytest.param(CSV, T["xlsx"], 422, "type-mismatch", id="csv-declared-xlsx"),
    pytest.param(XLSX, T["docx"], 422, "type-mismatch", id="xlsx-declared-docx"),
    pytest.param(JAR, T["docx"], 422, "unknown-content", id="jar-declared-docx"),
    pytest.param(b"PK\x03\x04broken", T["docx"], 422, "unknown-content", id="broken-zip"),
    pytest.param(b"a,b\n\x00\x01\x02", T["csv"], 422, "unknown-content", id="binary-declared-csv"),
    pytest.param(b"", T["pdf"], 422, "empty", id="zero-bytes"),
    pytest.param(PDF, "application/octet-stream", 415, None, id="octet-stream"),
    pytest.param(PDF, "application/x-msdownload", 415, None, id="exe-type"),
    pytest.param(b"<svg onload=alert(1)/>", "image/svg+xml", 415, None, id="svg"),
    pytest.param(b"<html><script>", "text/html", 415, None, id="html"),
]


@pytest.mark.parametrize(("content", "kind", "status", "reason"), BAD_CONTENT)
async def test_content_is_checked_not_the_name(
    reg: Service, content: bytes, kind: str, status: int, reason: str | None
) -> None:
    r = await upload(reg, content, kind, "prova.pdf")
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json().get("reason") == reason
    assert await stored_counts(reg) == (0, 0)
    assert (await reg.http.get("/v1/audit", params={"entity_type": "evidence"}, headers=ADMIN)).json()["items"] == []


BAD_NAMES = [
    pytest.param("../../etc/passwd.pdf", id="dot-dot-slash"),
    pytest.param("dir/prova.pdf", id="slash"),
    pytest.param("C:\\Windows\\prova.pdf", id="backslash"),
    pytest.param("prova\x00.pdf", id="nul"),
    pytest.param("prova\n.pdf", id="newline"),
    pytest.param("prova\x1b[31m.pdf", id="escape"),
    pytest.param("relatório\u202efdp.exe", id="bidi-override"),
    pytest.param("..", id="dot-dot"),
    pytest.param("   ", id="blank"),
    pytest.param("ç" * 201, id="201-characters"),
    pytest.param("€" * 86 + ".pdf", id="262-utf8-bytes"),
]


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_unsafe_names_are_refused(reg: Service, name: str) -> None:
    r = await upload(reg, PDF, T["pdf"], name)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["path"] == "name"
    assert await stored_counts(reg) == (0, 0)


async def test_long_unicode_name_within_bounds_is_kept_and_offered_safely(reg: Service) -> None:
    name = "Relatório de execução — março “final” 😀 " + "ã" * 98 + ".pdf"
    assert (len(name), len(name.encode())) == (142, 253)  # within 200 characters and 255 bytes
    r = await upload(reg, PDF, T["pdf"], "  " + name + " ")  # surrounding spaces trimmed
    assert r.status_code == 201, r.text
    assert r.json()["name"] == name
    got = await reg.http.get(f"{EVIDENCE}/{r.json()['id']}/content", headers=VIEWER)
    disposition = got.headers["content-disposition"]
    assert disposition.isascii()
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.startswith("Relat_rio de execu__o _ mar_o _final_ _ ")
    from urllib.parse import unquote

    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == name


async def test_size_limit(reg: Service) -> None:
    svc = reg
    at_limit = b"%PDF-" + b"x" * (20 * MiB - 5)
    ok = await upload(svc, at_limit, T["pdf"])
    assert ok.status_code == 201, ok.text[:300]
    assert (ok.json()["size"], ok.json()["sha256"]) == (20 * MiB, hashlib.sha256(at_limit).hexdigest())
    too_big = await upload(svc, at_limit + b"x", T["pdf"])
    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == "application/problem+json"
    # Without a Content-Length (chunked), the limit is enforced while reading.
    svc.app.state.settings.evidence_max_bytes = 1000

    async def chunks() -> AsyncIterator[bytes]:
        yield b"%PDF-"
        for _ in range(10):
            yield b"y" * 200

    streamed = await svc.http.post(
        EVIDENCE, params={"name": "s.pdf"}, content=chunks(), headers={**REG_DS, "content-type": T["pdf"]}
    )
    assert streamed.status_code == 413
    assert await stored_counts(svc) == (1, 1)
    got = await svc.http.get(f"{EVIDENCE}/{ok.json()['id']}/content", headers=VIEWER)
    assert hashlib.sha256(got.content).hexdigest() == ok.json()["sha256"]


async def test_who_may_add_read_and_delete(reg: Service) -> None:
    svc = reg
    assert (await upload(svc, PDF, T["pdf"], who=REG_PROC)).status_code == 403
    assert (await upload(svc, PDF, T["pdf"], who=CERTIFIER)).status_code == 403
    assert (await upload(svc, PDF, T["pdf"], who=VIEWER)).status_code == 403
    assert (await upload(svc, PDF, T["pdf"], who=II_REG_DS)).status_code == 404  # another organisation's plan
    added = await upload(svc, PDF, T["pdf"], who=IPSM_REG_DS)
    assert added.status_code == 201
    eid = added.json()["id"]
    assert (await svc.http.get(f"{EVIDENCE}/{eid}", headers=II_REG_DS)).status_code == 404
    assert (await svc.http.get(f"{EVIDENCE}/{eid}/content", headers=REG_PROC)).status_code == 200  # readers read
    assert (await svc.http.delete(f"{EVIDENCE}/{eid}", headers=REG_PROC)).status_code == 403
    assert (await svc.http.delete(f"{EVIDENCE}/{eid}", headers=CERTIFIER)).status_code == 403
    # No registration, unknown file, file of another registration: 404.
    assert (await upload(svc, PDF, T["pdf"], path=f"{REGS}/DS-I4/2014-02/evidence")).status_code == 404
    assert (await svc.http.get(f"{EVIDENCE}/999999/content", headers=VIEWER)).status_code == 404
    other = await svc.http.put(
        f"{REGS}/DS-I5/2014-01", json={"payload": {"value": 1}, "justification": WHY}, headers=REG_DS
    )
    assert other.status_code == 201, other.text
    assert (await svc.http.get(f"{REGS}/DS-I5/2014-01/evidence/{eid}", headers=VIEWER)).status_code == 404
    assert (await svc.http.delete(f"{EVIDENCE}/{eid}", headers=REG_DS)).status_code == 204
    assert await stored_counts(svc) == (0, 0)
    actions = [
        e["action"]
        for e in (await svc.http.get("/v1/audit", params={"entity_type": "evidence"}, headers=ADMIN)).json()["items"]
    ]
    assert actions == ["evidence.delete", "evidence.create"]


async def test_certification_freezes_the_files_it_covered(reg: Service) -> None:
    svc = reg
    first = (await upload(svc, PDF, T["pdf"], "antes.pdf")).json()
    current = await svc.http.get(f"{REGS}/DS-I4/2014-01", headers=VIEWER)
    certified = await svc.http.post(
        f"{REGS}/DS-I4/2014-01:certify", headers={**CERTIFIER, "if-match": current.headers["etag"]}
    )
    assert certified.status_code == 200, certified.text
    # A certified registration takes no more files; its files are never deleted.
    late = await upload(svc, PNG, T["png"], "depois.png")
    assert (late.status_code, late.json()["type"].rsplit("/", 1)[-1]) == (409, "registration-certified")
    frozen = await svc.http.delete(f"{EVIDENCE}/{first['id']}", headers=REG_DS)
    assert (frozen.status_code, frozen.json()["certified_version"]) == (409, 2)
    # Rejected, then a new version: more files may be added (and removed), the certified one stays.
    rejected = await svc.http.post(
        f"{REGS}/DS-I4/2014-01:reject",
        json={"reason": "falta a ata"},
        headers={**CERTIFIER, "if-match": certified.headers["etag"]},
    )
    assert rejected.status_code == 200, rejected.text
    resubmitted = await svc.http.put(
        f"{REGS}/DS-I4/2014-01",
        json={"payload": {"value": 22}, "justification": WHY},
        headers={**REG_DS, "if-match": rejected.headers["etag"]},
    )
    assert resubmitted.status_code == 200, resubmitted.text
    more = (await upload(svc, DOCX, T["docx"], "ata.docx")).json()
    assert more["version_number"] == 4
    assert (await svc.http.delete(f"{EVIDENCE}/{first['id']}", headers=REG_DS)).status_code == 409
    assert (await svc.http.delete(f"{EVIDENCE}/{more['id']}", headers=REG_DS)).status_code == 204
    assert [e["name"] for e in (await svc.http.get(EVIDENCE, headers=VIEWER)).json()] == ["antes.pdf"]


async def test_a_new_value_over_a_certified_one_keeps_its_files_and_may_add_more(reg: Service) -> None:
    svc = reg
    first = (await upload(svc, PDF, T["pdf"], "antes.pdf")).json()  # on version 1
    current = await svc.http.get(f"{REGS}/DS-I4/2014-01", headers=VIEWER)
    certified = await svc.http.post(
        f"{REGS}/DS-I4/2014-01:certify", headers={**CERTIFIER, "if-match": current.headers["etag"]}
    )  # version 2
    assert certified.status_code == 200, certified.text
    # The registrar sends a new value straight over the certified one (no reject): version 3, submitted.
    changed = await svc.http.put(
        f"{REGS}/DS-I4/2014-01",
        json={"payload": {"value": 23}, "justification": WHY},
        headers={**REG_DS, "if-match": certified.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["certification"], changed.json()["certified_version"]) == ("submitted", 2)
    # The certified version's file stays and is never deleted; the new version adds one and may remove it.
    more = (await upload(svc, PNG, T["png"], "depois.png")).json()
    assert more["version_number"] == 3
    frozen = await svc.http.delete(f"{EVIDENCE}/{first['id']}", headers=REG_DS)
    assert (frozen.status_code, frozen.json()["certified_version"]) == (409, 2)
    listed = (await svc.http.get(EVIDENCE, headers=VIEWER)).json()
    assert [(e["name"], e["version_number"]) for e in listed] == [("antes.pdf", 1), ("depois.png", 3)]
    assert (await svc.http.delete(f"{EVIDENCE}/{more['id']}", headers=REG_DS)).status_code == 204
    assert [e["name"] for e in (await svc.http.get(EVIDENCE, headers=VIEWER)).json()] == ["antes.pdf"]


async def test_an_item_that_requires_evidence_is_not_certified_without_it(reg: Service) -> None:
    svc = reg
    req = f"/v1/plans/{IPSM}/evidence-requirements/DS-I4"
    source = "Relatório mensal do sistema de telefonia"
    assert (await svc.http.put(req, json={"source": source}, headers=REG_DS)).status_code == 403
    assert (await svc.http.put(req, json={"source": source}, headers=PLANNER)).status_code == 200
    assert (
        await svc.http.put(f"/v1/plans/{IPSM}/evidence-requirements/NOPE", json={"source": "x"}, headers=PLANNER)
    ).status_code == 404
    listed = (await svc.http.get(f"/v1/plans/{IPSM}/evidence-requirements", headers=VIEWER)).json()
    assert [(r["item_code"], r["source"]) for r in listed] == [("DS-I4", source)]
    etag = (await svc.http.get(f"{REGS}/DS-I4/2014-01", headers=VIEWER)).headers["etag"]
    refused = await svc.http.post(f"{REGS}/DS-I4/2014-01:certify", headers={**CERTIFIER, "if-match": etag})
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["type"].endswith("/evidence-required")
    assert source in problem["detail"]
    assert (problem["item_code"], problem["source"]) == ("DS-I4", source)
    after = await svc.http.get(f"{REGS}/DS-I4/2014-01", headers=VIEWER)
    assert (after.json()["certification"], after.headers["etag"]) == ("submitted", etag)  # nothing changed
    assert (await upload(svc, PDF, T["pdf"])).status_code == 201
    ok = await svc.http.post(f"{REGS}/DS-I4/2014-01:certify", headers={**CERTIFIER, "if-match": etag})
    assert ok.status_code == 200, ok.text
    # Rejecting needs no evidence; another item without a requirement certifies without files.
    other = await svc.http.put(
        f"{REGS}/DS-I5/2014-01", json={"payload": {"value": 1}, "justification": WHY}, headers=REG_DS
    )
    done = await svc.http.post(
        f"{REGS}/DS-I5/2014-01:certify", headers={**CERTIFIER, "if-match": other.headers["etag"]}
    )
    assert done.status_code == 200
    assert (await svc.http.delete(req, headers=PLANNER)).status_code == 204
    assert (await svc.http.delete(req, headers=PLANNER)).status_code == 404


async def test_concurrent_uploads_to_one_registration_all_land_whole(reg: Service) -> None:
    svc = reg
    contents = [b"%PDF-1.7\n" + bytes([i]) * (200_000 + i) for i in range(8)]
    results = await asyncio.gather(*(upload(svc, c, T["pdf"], f"parte-{i}.pdf") for i, c in enumerate(contents)))
    assert [r.status_code for r in results] == [201] * 8, [r.text[:200] for r in results]
    listed = (await svc.http.get(EVIDENCE, headers=VIEWER)).json()
    assert sorted(e["name"] for e in listed) == sorted(f"parte-{i}.pdf" for i in range(8))
    for r, content in zip(results, contents, strict=True):
        got = await svc.http.get(f"{EVIDENCE}/{r.json()['id']}/content", headers=VIEWER)
        assert got.content == content
    assert await stored_counts(svc) == (8, 8)


async def test_locked_period_takes_no_files(reg: Service) -> None:
    svc = reg
    assert (
        await svc.http.put(f"/v1/plans/{IPSM}/locks/2014-01", json={"reason": "avaliado"}, headers=PLANNER)
    ).status_code == 200
    refused = await upload(svc, PDF, T["pdf"])
    assert (refused.status_code, refused.json()["reason"]) == (409, "locked")
    assert await stored_counts(svc) == (0, 0)


def test_the_service_body_limit_makes_room_for_the_evidence_limit() -> None:
    from execution.settings import Settings

    assert Settings().max_body_bytes == 20 * MiB  # the kit's 8 MiB grows to the evidence limit
    assert Settings(evidence_max_bytes=MiB).max_body_bytes == 8 * MiB  # never shrinks
    assert Settings(max_body_bytes=4 * MiB).max_body_bytes == 4 * MiB  # an explicit setting wins


async def test_an_evidence_requirement_carries_an_etag_and_a_stale_if_match_changes_nothing(reg: Service) -> None:
    svc = reg
    req = f"/v1/plans/{IPSM}/evidence-requirements/DS-I4"
    first = await svc.http.put(req, json={"source": "Relatório mensal"}, headers=PLANNER)
    assert first.status_code == 200, first.text
    tag = first.headers["etag"]
    assert first.json()["etag"] == tag
    changed = await svc.http.put(req, json={"source": "Ata da reunião"}, headers={**PLANNER, "if-match": tag})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] != tag
    stale = await svc.http.put(req, json={"source": "Outra coisa"}, headers={**PLANNER, "if-match": tag})
    assert stale.status_code == 412
    assert (await svc.http.delete(req, headers={**PLANNER, "if-match": tag})).status_code == 412
    listed = (await svc.http.get(f"/v1/plans/{IPSM}/evidence-requirements", headers=VIEWER)).json()
    assert [(r["source"], r["etag"]) for r in listed] == [("Ata da reunião", changed.headers["etag"])]
    assert (await svc.http.delete(req, headers={**PLANNER, "if-match": changed.headers["etag"]})).status_code == 204
    assert (await svc.http.get(f"/v1/plans/{IPSM}/evidence-requirements", headers=VIEWER)).json() == []

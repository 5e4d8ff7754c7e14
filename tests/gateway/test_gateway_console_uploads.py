"""The gateway's guard of the console's evidence forms (gateway/uploads.py), as plain ASGI: which requests it takes,
that it reads a body to its end before sending the browser back, and what it answers when the body stalls or the
client goes away. The whole path through real processes and a browser is tests/console/test_console_large_evidence.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from gateway.uploads import FORM_ALLOWANCE, OversizeUploadRedirect, console_form_limit

FILE_MAX = 1000
LIMIT = console_form_limit(FILE_MAX)  # 1000 + 256 KiB


def scope_of(path: bytes, length: int | None, method: str = "POST") -> Scope:
    headers = [(b"content-type", b"multipart/form-data; boundary=b")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {"type": "http", "method": method, "path": path.decode(), "raw_path": path, "headers": headers}


class Recorder:
    def __init__(self, chunks: list[bytes], then: str = "end") -> None:
        self.chunks = list(chunks)
        self.then = then  # "end": the last chunk ends the body; "stall": nothing more ever comes; "gone": disconnect
        self.sent: list[Message] = []
        self.passed = False

    async def receive(self) -> Message:
        if self.chunks:
            body = self.chunks.pop(0)
            more = bool(self.chunks) or self.then != "end"
            return {"type": "http.request", "body": body, "more_body": more}
        if self.then == "stall":
            await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.passed = True

    def status(self) -> int | None:
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        return starts[0]["status"] if starts else None

    def header(self, name: bytes) -> bytes | None:
        start = next(m for m in self.sent if m["type"] == "http.response.start")
        return dict(start["headers"]).get(name)


async def run(rec: Recorder, scope: Scope, body_seconds: float = 5.0) -> None:
    guard = OversizeUploadRedirect(
        rec.app, max_bytes=LIMIT, file_max_bytes=FILE_MAX, drain_max_bytes=4 * LIMIT, timeout_seconds=body_seconds
    )
    await guard(scope, rec.receive, rec.send)


def test_the_form_limit_is_the_file_limit_plus_the_forms_other_fields() -> None:
    assert FORM_ALLOWANCE == 256 * 1024
    assert console_form_limit(20 * 1024 * 1024) == 20 * 1024 * 1024 + 262_144


async def test_an_oversized_form_is_read_to_its_end_then_sent_back_to_its_page() -> None:
    half = b"x" * ((LIMIT + 2) // 2)
    rec = Recorder([half, half])
    await run(rec, scope_of(b"/plans/p-1/registrations/DS-I5/2014-05/evidence", 2 * len(half)))
    assert rec.chunks == []  # every chunk was read
    assert (rec.passed, rec.status()) == (False, 303)
    assert rec.header(b"location") == b"/plans/p-1/registrations/DS-I5/2014-05?too_large=1000#files"
    # The registration form itself (no /evidence) goes back to itself.
    rec = Recorder([half, half])
    await run(rec, scope_of(b"/plans/p-1/registrations/DS-I5/2014-05", 2 * len(half)))
    assert rec.header(b"location") == b"/plans/p-1/registrations/DS-I5/2014-05?too_large=1000#files"


async def test_other_requests_pass_through_untouched() -> None:
    cases: list[tuple[bytes, int | None, str]] = [
        (b"/plans/p/registrations/I/2014-05/evidence", LIMIT, "POST"),  # at the limit: the console reads it
        (b"/plans/p/registrations/I/2014-05/evidence", None, "POST"),  # no declared length: BodyLimit's to judge
        (b"/plans/p/registrations/I/2014-05/evidence", 4 * LIMIT + 1, "POST"),  # too large to read: BodyLimit's 413
        (b"/plans/p/registrations/I/2014-05/certification", LIMIT + 1, "POST"),  # not a form with files
        (b"/sign-in", LIMIT + 1, "POST"),
        (b"/plans/p/registrations/I/2014-05/evidence", LIMIT + 1, "PUT"),
        (b"/api/execution/v1/plans/p/registrations/I/2014-05/evidence", LIMIT + 1, "POST"),
    ]
    for path, length, method in cases:
        rec = Recorder([b"x"])
        await run(rec, scope_of(path, length, method))
        assert (rec.passed, rec.sent) == (True, []), (path, length, method)


async def test_a_path_with_encoded_line_breaks_cannot_reach_the_location_header() -> None:
    # The raw path keeps %0D%0A encoded: the Location carries it as sent, never a decoded line break.
    rec = Recorder([b"x" * (LIMIT + 1)])
    await run(rec, scope_of(b"/plans/p/registrations/I/2014-05%0D%0ASet-Cookie:a=b/evidence", LIMIT + 1))
    location: Any = rec.header(b"location")
    assert b"\r" not in location
    assert b"\n" not in location
    assert location.startswith(b"/plans/p/registrations/I/2014-05%0D%0ASet-Cookie:a=b?too_large=")


async def test_a_stalled_body_is_a_413_that_closes_the_connection() -> None:
    rec = Recorder([b"x" * 10], then="stall")
    await run(rec, scope_of(b"/plans/p/registrations/I/2014-05/evidence", LIMIT + 1), body_seconds=0.2)
    assert rec.status() == 413
    assert rec.header(b"connection") == b"close"


async def test_a_client_gone_mid_upload_is_answered_as_a_413_nobody_reads() -> None:
    rec = Recorder([b"x" * 10], then="gone")
    await run(rec, scope_of(b"/plans/p/registrations/I/2014-05/evidence", LIMIT + 1))
    assert (rec.passed, rec.status()) == (False, 413)

"""The console's forms that carry evidence files: their body limit, and what a browser gets when it is exceeded.

The console posts evidence as multipart forms to its own pages (the registration form, and the form that adds
files afterwards), not to execution's evidence API. Those two routes may carry a file as large as execution
accepts (``evidence_max_body_bytes``) plus the form's other fields (``FORM_ALLOWANCE``). A larger body is not
answered with a bare 413, which a browser shows as an error page: the body is read and dropped (a browser that
is cut off mid-upload shows a connection error instead of any answer), then the browser is sent back (303) to
the registration page with ``too_large=<bytes>``, where the console says beside the file field that the files
were too large. Bodies larger than ``drain_max_bytes`` are not read; ``BodyLimitMiddleware`` refuses them (413).
"""

from __future__ import annotations

import asyncio
import re

from starlette.types import ASGIApp, Receive, Scope, Send

from metas_kit.errors import TYPE_BASE, problem_response

# The registration page of an item and period, and its "add files" form (…/evidence). Matched on the raw path
# (still percent-encoded), so the Location built from it cannot carry a decoded control character.
CONSOLE_EVIDENCE_FORM = re.compile(r"(/plans/[^/?#\s]+/registrations/[^/?#\s]+/[^/?#\s]+?)(/evidence)?")
# The form's fields other than the files (value, justification, note, reason, references: a few KiB, at most
# ~50 KiB in four-byte characters) and the multipart framing.
FORM_ALLOWANCE = 256 * 1024


def console_form_limit(evidence_max_body_bytes: int) -> int:
    return evidence_max_body_bytes + FORM_ALLOWANCE


class OversizeUploadRedirect:
    """POSTs to a console evidence form declaring a body over ``max_bytes`` (and at most ``drain_max_bytes``):
    read to the end and dropped, then 303 to the registration page with ``too_large=<file_max_bytes>``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        file_max_bytes: int,
        drain_max_bytes: int,
        timeout_seconds: float,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.file_max_bytes = file_max_bytes
        self.drain_max_bytes = drain_max_bytes
        self.timeout_seconds = timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        page = self._page(scope)
        declared = _declared_length(scope) if page is not None else None
        if page is None or declared is None or not self.max_bytes < declared <= self.drain_max_bytes:
            await self.app(scope, receive, send)
            return
        if not await self._drain(receive):
            # Stalled, or larger than it said: refused as BodyLimitMiddleware would (a client gone reads nothing).
            refused = problem_response(
                413,
                {
                    "type": TYPE_BASE + "payload-too-large",
                    "title": "Payload too large",
                    "status": 413,
                    "detail": f"The request body exceeds {self.max_bytes} bytes.",
                },
                headers={"connection": "close"},
            )
            await refused(scope, receive, send)
            return
        location = f"{page}?too_large={self.file_max_bytes}#files"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode("ascii")),
                    (b"content-length", b"0"),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    def _page(self, scope: Scope) -> str | None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            return None
        raw = scope.get("raw_path")
        path = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(scope.get("path", ""))
        found = CONSOLE_EVIDENCE_FORM.fullmatch(path)
        if found is None or not path.isascii():
            return None
        return found.group(1)

    async def _drain(self, receive: Receive) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_seconds
        size = 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), timeout=max(0.0, deadline - loop.time()))
            except TimeoutError:
                return False
            if message["type"] != "http.request":
                return False
            size += len(message.get("body", b""))
            if size > self.drain_max_bytes:
                return False
            if not message.get("more_body", False):
                return True


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None

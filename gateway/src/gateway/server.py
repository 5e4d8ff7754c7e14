"""uvicorn's HTTP protocol for the gateway, with the answers uvicorn writes itself made problem+json: a request the
parser rejects never reaches the application, so uvicorn's plain-text 400 is replaced here. Run with
`uvicorn --http gateway.server:HttpProtocol`.

A request target beyond 65,535 bytes is a 414: httptools' ``parse_url`` keeps offsets in 16 bits and refuses
longer URLs, which uvicorn reports as a malformed request (400). The target is counted as it arrives and the
parse stops at the limit, so a megabyte of query string is never buffered. Targets up to that limit reach the
application, whose own limit (``max_query_bytes``, 8 KB) answers 414 too.

uvicorn writes an answer's head and its body in two socket writes; the writes made in one turn of the event loop
are sent together here (one send instead of two per proxied answer), flushed at the end of that turn, at once past
64 KB, and before the connection is closed or handed to another protocol."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from metas_kit.errors import TYPE_BASE

# httptools.parse_url: "url length of N bytes exceeds the maximum of 65535 bytes".
MAX_TARGET_BYTES = 65_535


def _problem(status: int, kind: str, title: str, detail: str) -> bytes:
    return json.dumps({"type": TYPE_BASE + kind, "title": title, "status": status, "detail": detail}).encode()


BAD_REQUEST = _problem(
    400,
    "bad-request",
    "Bad request",
    "The request could not be read: it is malformed, or its headers are too long.",
)
URI_TOO_LONG = _problem(
    414,
    "uri-too-long",
    "URI too long",
    f"The request target exceeds {MAX_TARGET_BYTES} bytes (a query string is limited to 8 KB).",
)


class _TargetTooLong(Exception):
    """Raised from the parser's URL callback: the parser stops, uvicorn calls send_400_response."""


# Past this many bytes waiting, a write goes out at once: a large answer is not held, and the real transport's
# flow control (pause_writing) sees it.
FLUSH_BYTES = 65_536


class CoalescingTransport:
    """A transport whose writes within one event-loop turn go to the socket as one write; everything else is the
    wrapped transport's."""

    __slots__ = ("_flush_scheduled", "_loop", "_pending", "_size", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0
        self._flush_scheduled = False

    def write(self, data: bytes) -> None:
        self._pending.append(data)
        self._size += len(data)
        if self._size >= FLUSH_BYTES:
            self.flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._scheduled_flush)

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        self.flush()

    def flush(self) -> None:
        if self._pending:
            data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
            self._pending = []
            self._size = 0
            if not self.transport.is_closing():
                self.transport.write(data)

    def get_write_buffer_size(self) -> int:
        return self._size + self.transport.get_write_buffer_size()

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def abort(self) -> None:
        self._pending = []
        self._size = 0
        self.transport.abort()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.flush()
        self.transport.set_protocol(protocol)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class HttpProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # Duck-typed: uvicorn uses write, close, is_closing, get_extra_info, pause/resume_reading, set_protocol.
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_TARGET_BYTES:
            raise _TargetTooLong

    def send_400_response(self, msg: str) -> None:
        status, body = (414, URI_TOO_LONG) if len(self.url) > MAX_TARGET_BYTES else (400, BAD_REQUEST)
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/problem+json\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()

"""uvicorn's HTTP protocol for the gateway, with the answers uvicorn writes itself made problem+json: a request the
parser rejects never reaches the application, so uvicorn's plain-text 400 is replaced here. Run with
`uvicorn --http gateway.server:HttpProtocol`.

A request target beyond 65,535 bytes is a 414: httptools' ``parse_url`` keeps offsets in 16 bits and refuses
longer URLs, which uvicorn reports as a malformed request (400). The target is counted as it arrives and the
parse stops at the limit, so a megabyte of query string is never buffered. Targets up to that limit reach the
application, whose own limit (``max_query_bytes``, 8 KB) answers 414 too."""

from __future__ import annotations

import json

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


class HttpProtocol(HttpToolsProtocol):
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

"""uvicorn's HTTP protocol for the gateway, with the one answer uvicorn writes itself made problem+json: a
request the parser rejects (malformed, or a request line or headers beyond the parser's ~64 KB) never reaches the
application, so uvicorn's plain-text 400 is replaced here. Run with `uvicorn --http gateway.server:HttpProtocol`."""

from __future__ import annotations

import json

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from metas_kit.errors import TYPE_BASE

BODY = json.dumps(
    {
        "type": TYPE_BASE + "bad-request",
        "title": "Bad request",
        "status": 400,
        "detail": "The request could not be read: it is malformed, or its request line or headers are too long "
        "(a query string is limited to 8 KB).",
    }
).encode()


class HttpProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        content = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/problem+json\r\n",
                b"content-length: " + str(len(BODY)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                BODY,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()

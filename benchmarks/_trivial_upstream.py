"""The trivial upstream of the gateway benchmark: a bare ASGI app answering every request with a fixed small
JSON body, no framework, no authentication, no database. Behind the gateway it shows the gateway's own ceiling
(the upstream costs next to nothing). Run by bench_gateway.py as `uvicorn --app-dir benchmarks
_trivial_upstream:app`."""

from __future__ import annotations

from typing import Any

BODY = b'{"ok":true,"service":"trivial"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:  # drain the request body, if any
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})

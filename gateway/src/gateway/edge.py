"""The gateway's own request id: the caller's X-Request-ID is never the id of the audit trail (one id could
otherwise point at events of different people); it is kept, bounded, as X-Client-Request-ID — forwarded to the
services, echoed to the caller and logged beside the gateway's id."""

from __future__ import annotations

import logging
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CLIENT_HEADER = b"x-client-request-id"
_VALID = re.compile(rb"^[A-Za-z0-9._:/+=-]{1,128}$")
log = logging.getLogger("metas.gateway")


class ClientRequestIdMiddleware:
    """Outside the request-context middleware: it removes X-Request-ID from the request, so that one makes a
    fresh id, and moves a well-formed caller's id to X-Client-Request-ID (anything else is dropped)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client: bytes | None = None
        headers: list[tuple[bytes, bytes]] = []
        for key, value in scope.get("headers") or []:
            lowered = key.lower()
            if lowered in (b"x-request-id", CLIENT_HEADER):
                if client is None and _VALID.match(value):
                    client = value
                continue
            headers.append((key, value))
        if client is None:
            await self.app(scope, receive, send)
            return
        headers.append((CLIENT_HEADER, client))
        scope = {**scope, "headers": headers}

        async def send_with_client_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (CLIENT_HEADER, client)]
                log.info(
                    "client request id",
                    extra={"client_request_id": client.decode("latin-1"), "path": scope["path"]},
                )
            await send(message)

        await self.app(scope, receive, send_with_client_id)

"""Pure ASGI middleware: request id propagation, access log, and Prometheus HTTP metrics by route template."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from metas_kit.context import auth_header_var, request_id_var
from metas_kit.errors import internal_error_problem
from metas_kit.metrics import HTTP_IN_FLIGHT, HTTP_LATENCY, HTTP_REQUESTS

REQUEST_ID_HEADER = "x-request-id"
_VALID_RID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Health and metrics would drown the real traffic in the histograms; they are not counted.
UNMEASURED = frozenset({"/healthz", "/readyz", "/metrics"})
access_log = logging.getLogger("metas.access")
error_log = logging.getLogger("metas.errors")


class RequestContextMiddleware:
    """Takes X-Request-ID from the caller (or makes one), exposes it to logs and outbound calls,
    echoes it on the response, records metrics labelled by route template and logs one line per request."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = raw if _VALID_RID.match(raw) else uuid.uuid4().hex
        auth = headers.get(b"authorization")
        rid_token = request_id_var.set(rid)
        auth_token = auth_header_var.set(auth.decode("latin-1") if auth else None)
        status = 500
        start = time.perf_counter()
        method = scope["method"]
        path = scope["path"]
        measured = path not in UNMEASURED
        if measured:
            HTTP_IN_FLIGHT.labels(self.service).inc()

        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                hdrs = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                hdrs.append((b"x-request-id", rid.encode("latin-1")))
                message["headers"] = hdrs
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            # Handled here, inside the request context, so the 500 problem carries the request id.
            error_log.exception("unhandled error", extra={"path": path, "method": method})
            if started:
                raise
            body = json.dumps(internal_error_problem(path, rid)).encode()
            await send_wrapper(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/problem+json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send_wrapper({"type": "http.response.body", "body": body})
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            if measured:
                HTTP_IN_FLIGHT.labels(self.service).dec()
                HTTP_REQUESTS.labels(self.service, template, method, str(status)).inc()
                HTTP_LATENCY.labels(self.service, template, method).observe(elapsed)
                access_log.info(
                    "request",
                    extra={
                        "method": method,
                        "route": template,
                        "path": path,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(rid_token)
            auth_header_var.reset(auth_token)

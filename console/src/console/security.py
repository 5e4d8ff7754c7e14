"""Response headers every page carries: a Content-Security-Policy without inline scripts or styles, no framing,
no sniffing, and Server-Timing (the time spent waiting for the API against the whole request)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(HEADERS)
                clock = scope.get("state", {}).get("api_clock")
                total = (time.perf_counter() - start) * 1000
                timing = f"total;dur={total:.2f}"
                if clock is not None:
                    timing = f'api;dur={clock.total * 1000:.2f};desc="{clock.calls} calls", ' + timing
                headers.append((b"server-timing", timing.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)

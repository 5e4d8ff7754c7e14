"""The proxied API (/api/<service>/v1/…) as plain ASGI, beside the FastAPI app.

FastAPI's routing (a regex per route, in order, down to the catch-all), its dependency solving and the Response
objects cost more per proxied call than the proxying itself. This middleware, the innermost one, takes exactly
the requests the FastAPI route `/api/{upstream}/{path:path}` would get for a known service's v1 API and hands
them to the same exchange function; everything else (sign-in, health, metrics, docs, the console, unknown
services, other paths) goes on to FastAPI as before. The route is put in the scope as FastAPI would, so the
request metrics are labelled by the same template."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

Handler = Callable[[Scope, Receive, Send, str, str], Awaitable[None]]
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


class ProxyFastPath:
    def __init__(self, app: ASGIApp, handler: Handler, upstreams: frozenset[str], route: BaseRoute) -> None:
        self.app = app
        self.handler = handler
        self.upstreams = upstreams
        self.route = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in METHODS and not scope.get("root_path"):
            path: str = scope["path"]
            if path.startswith("/api/"):
                upstream, slash, rest = path[5:].partition("/")
                if slash and upstream in self.upstreams and rest.startswith("v1/"):
                    scope["route"] = self.route
                    scope["path_params"] = {"upstream": upstream, "path": rest}
                    await self.handler(scope, receive, send, upstream, rest)
                    return
        await self.app(scope, receive, send)

"""A tiny real HTTP upstream for the gateway fault tests (run under uvicorn in its own process): it sleeps,
answers a chosen status, echoes bodies, and counts the calls it received per tag so a test can tell how
many attempts the gateway made."""

from __future__ import annotations

import asyncio
from collections import Counter

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

ANY = ["GET", "POST", "PUT", "PATCH", "DELETE"]
hits: Counter[str] = Counter()
in_flight = 0
max_in_flight = 0


async def ready(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ready", "checks": {}})


async def sleep(request: Request) -> JSONResponse:
    global in_flight, max_in_flight
    hits[request.path_params["tag"]] += 1
    in_flight += 1
    max_in_flight = max(max_in_flight, in_flight)
    try:
        await asyncio.sleep(int(request.path_params["ms"]) / 1000)
    finally:
        in_flight -= 1
    return JSONResponse({"slept_ms": int(request.path_params["ms"])})


async def status(request: Request) -> JSONResponse:
    hits[request.path_params["tag"]] += 1
    code = int(request.path_params["code"])
    return JSONResponse({"status": code, "tag": request.path_params["tag"]}, status_code=code)


class Broken:
    """Raw ASGI: promises 100 bytes, sends 10, then ends; uvicorn closes the connection mid-body."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hits[scope["path_params"]["tag"]] += 1
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})
        await send({"type": "http.response.body", "body": b"0123456789", "more_body": True})


async def count(request: Request) -> JSONResponse:
    return JSONResponse({"hits": hits[request.path_params["tag"]], "max_in_flight": max_in_flight})


async def echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse(
        {
            "bytes": len(body),
            "headers": dict(request.headers),
            "raw_path": request.scope["raw_path"].decode("latin-1"),
            "query": request.scope["query_string"].decode("latin-1"),
        }
    )


app = Starlette(
    routes=[
        Route("/readyz", ready),
        Route("/healthz", ready),
        Route("/v1/sleep/{ms:int}/{tag}", sleep, methods=ANY),
        Route("/v1/status/{code:int}/{tag}", status, methods=ANY),
        Route("/v1/broken/{tag}", Broken(), methods=ANY),
        Route("/v1/hits/{tag}", count),
        Route("/v1/echo", echo, methods=ANY),
        Route("/v1/echo/{rest:path}", echo, methods=ANY),
    ]
)

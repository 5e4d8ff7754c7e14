"""Calls to the gateway's public API on behalf of the signed-in person (their session, never a database)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from metas_kit.context import current_request_id

SESSION_COOKIE = "metas_session"


class ApiProblem(Exception):
    """An error answer of the API (problem+json when it sent one), or the gateway unreachable (status 503)."""

    def __init__(self, status: int, problem: dict[str, Any] | None = None) -> None:
        self.status = status
        self.problem = problem or {}
        super().__init__(f"{status} {self.problem.get('title', '')}")

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail") or self.problem.get("title") or "")

    @property
    def errors(self) -> list[dict[str, Any]]:
        errors = self.problem.get("errors")
        return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


@dataclass
class ApiClock:
    """Wall time during which at least one API call was in flight (concurrent calls count once): the figure
    the console's own time is compared with (Server-Timing `api`)."""

    in_flight: int = 0
    started: float = 0.0
    total: float = 0.0
    calls: int = 0

    def enter(self) -> None:
        if self.in_flight == 0:
            self.started = time.perf_counter()
        self.in_flight += 1
        self.calls += 1

    def leave(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self.total += time.perf_counter() - self.started


@dataclass
class Api:
    """One person's view of the API for one request."""

    client: httpx.AsyncClient
    authorization: str | None
    clock: ApiClock = field(default_factory=ApiClock)
    forwarded_for: str | None = None

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"accept": "application/json"}
        if self.authorization:
            headers["authorization"] = self.authorization
        rid = current_request_id()
        if rid:
            headers["x-request-id"] = rid
        if self.forwarded_for:
            headers["x-forwarded-for"] = self.forwarded_for
        headers.update(extra or {})
        return headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """The raw response (any status); 503 ApiProblem when the gateway cannot be reached. ``content``: a raw
        body (a file), sent with the Content-Type given in ``headers``."""
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        self.clock.enter()
        try:
            return await self.client.request(
                method, path, params=clean, json=json, content=content, headers=self._headers(headers)
            )
        except httpx.HTTPError as exc:
            raise ApiProblem(503, {"title": "Service unavailable", "detail": type(exc).__name__}) from exc
        finally:
            self.clock.leave()

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Like request(), but an error status raises ApiProblem."""
        response = await self.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise problem_of(response)
        return response

    async def stream(self, path: str) -> httpx.Response:
        """A GET whose body is read as it is passed on (a download); the caller closes the response."""
        self.clock.enter()
        try:
            request = self.client.build_request("GET", path, headers=self._headers({"accept": "*/*"}))
            return await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise ApiProblem(503, {"title": "Service unavailable", "detail": type(exc).__name__}) from exc
        finally:
            self.clock.leave()

    async def get(self, path: str, **kwargs: Any) -> Any:
        return (await self.call("GET", path, **kwargs)).json()

    async def gather(self, *calls: Any) -> list[Any]:
        return list(await asyncio.gather(*calls))


def problem_of(response: httpx.Response) -> ApiProblem:
    body: dict[str, Any] = {}
    if "json" in response.headers.get("content-type", ""):
        try:
            parsed = response.json()
            body = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            body = {}
    if "retry-after" in response.headers:
        body.setdefault("retry_after", response.headers["retry-after"])
    return ApiProblem(response.status_code, body)

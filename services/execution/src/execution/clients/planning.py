"""Client of the planning service: plan trees cached by ETag (docs/api/planning.md).

A tree is revalidated with ``If-None-Match`` at most every ``revalidate_seconds``; a 304 keeps the
cached document. Upstream failures become the kit's 502/503/504 problems.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from metas_kit.errors import NotFound, UpstreamError, UpstreamTimeout, UpstreamUnavailable


@dataclass(frozen=True, slots=True)
class CachedTree:
    plan_id: str
    etag: str | None
    document: dict[str, Any]
    version: int | None
    checked_at: float


class PlanningClient:
    def __init__(self, http: httpx.AsyncClient, *, revalidate_seconds: float = 5.0) -> None:
        self._http = http
        self._revalidate = revalidate_seconds
        self._cache: dict[str, CachedTree] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def http(self) -> httpx.AsyncClient:
        return self._http

    async def aclose(self) -> None:
        await self._http.aclose()

    def forget(self, plan_id: str | None = None) -> None:
        if plan_id is None:
            self._cache.clear()
        else:
            self._cache.pop(plan_id, None)

    async def _get(self, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.get(url, **kwargs)
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout("The planning service did not answer in time.") from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable("The planning service cannot be reached.") from exc
        if response.status_code >= 500:
            raise UpstreamError(f"The planning service failed ({response.status_code}).")
        return response

    async def tree(self, plan_id: str) -> CachedTree:
        """The plan document of the plan's current version (approved, else latest draft)."""
        cached = self._cache.get(plan_id)
        if cached is not None and time.monotonic() - cached.checked_at < self._revalidate:
            return cached
        lock = self._locks.setdefault(plan_id, asyncio.Lock())
        async with lock:
            cached = self._cache.get(plan_id)
            if cached is not None and time.monotonic() - cached.checked_at < self._revalidate:
                return cached
            headers = {"if-none-match": cached.etag} if cached and cached.etag else {}
            response = await self._get(f"/v1/plans/{quote(plan_id, safe='')}/tree", headers=headers)
            if response.status_code == 304 and cached is not None:
                fresh = CachedTree(plan_id, cached.etag, cached.document, cached.version, time.monotonic())
            elif response.status_code == 404:
                self._cache.pop(plan_id, None)
                raise NotFound(f"Plan {plan_id!r} does not exist in planning.")
            elif response.status_code != 200:
                raise UpstreamError(f"The planning service answered {response.status_code} for plan {plan_id!r}.")
            else:
                version = response.headers.get("x-plan-version")
                fresh = CachedTree(
                    plan_id=plan_id,
                    etag=response.headers.get("etag"),
                    document=response.json(),
                    version=int(version) if version and version.isdigit() else None,
                    checked_at=time.monotonic(),
                )
            self._cache[plan_id] = fresh
            return fresh

    async def plan_ids(self) -> list[str]:
        """Every plan id planning knows (follows the cursor pages)."""
        ids: list[str] = []
        cursor: str | None = None
        for _ in range(1000):
            params: dict[str, Any] = {"limit": 500}
            if cursor:
                params["cursor"] = cursor
            response = await self._get("/v1/plans", params=params)
            if response.status_code != 200:
                raise UpstreamError(f"The planning service answered {response.status_code}.")
            body = response.json()
            ids.extend(str(p["id"]) for p in body.get("items", []))
            cursor = body.get("next_cursor")
            if not cursor:
                break
        return ids

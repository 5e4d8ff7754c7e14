"""The base of every typed client of another metas service.

- One ``httpx.AsyncClient`` per upstream, made by ``metas_kit.http.make_client`` in the app's lifespan (pooled,
  timeouts, the caller's request id and the calling service's own short-lived ``service`` token on every
  request) and closed with it: ``Upstream.aclose``.
- Failures become the kit's problems: no answer in time → ``UpstreamTimeout`` (504), unreachable →
  ``UpstreamUnavailable`` (503), a 5xx, a refused identity or a body that is not the expected JSON →
  ``UpstreamError`` (502). A 404 is the caller's to interpret (``not_found=``).
- GETs of documents that carry a strong ETag are cached and revalidated with ``If-None-Match`` at most every
  ``fresh_seconds`` (a 304 keeps the cached body). The cache is an object the app owns on ``app.state`` (made in
  the lifespan, one per upstream), never a module global, so two apps in one process never share entries.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from metas_kit.errors import NotFound, UpstreamError, UpstreamTimeout, UpstreamUnavailable


def segment(value: str) -> str:
    """An identifier as one URL path segment (a '/', '#' or '?' in it stays part of the identifier)."""
    return quote(value, safe="")


@dataclass(frozen=True, slots=True)
class Cached:
    etag: str | None
    body: Any
    headers: Mapping[str, str]
    checked_at: float


class RevalidationCache:
    """Bounded LRU of upstream documents by URL (with their ETag); one per upstream client, owned by the app."""

    def __init__(self, *, fresh_seconds: float = 5.0, max_entries: int = 512) -> None:
        self.fresh_seconds = fresh_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Cached] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    def get(self, key: str) -> Cached | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: Cached) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            old, _ = self._entries.popitem(last=False)
            self._locks.pop(old, None)

    def lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())

    def forget(self, prefix: str = "") -> None:
        """Drop the entries whose URL starts with ``prefix`` (all by default)."""
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)


class Upstream:
    """Subclass per upstream service: ``class PlanningClient(Upstream): service = "planning"``."""

    service = "upstream"

    def __init__(self, http: httpx.AsyncClient, *, cache: RevalidationCache | None = None) -> None:
        self.http = http
        self.cache = cache if cache is not None else RevalidationCache()
        # The cache key (the full URL httpx would request) of each (path, params) asked for with revalidation:
        # building an httpx Request per call only to read its URL was a tenth of a small write's upstream cost.
        self._keys: dict[tuple[Any, ...], str] = {}
        self._keys_of: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        await self.http.aclose()

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """The upstream's answer; transport failures, 5xx and a refused service identity raised as problems."""
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout(f"The {self.service} service did not answer in time.") from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(f"The {self.service} service cannot be reached.") from exc
        if response.status_code >= 500:
            raise UpstreamError(f"The {self.service} service failed ({response.status_code}).")
        if response.status_code in (401, 403):
            # Our own service identity was refused: a configuration fault (secret, role), not the caller's.
            raise UpstreamError(f"The {self.service} service refused this service's identity ({response.status_code}).")
        return response

    def json(self, response: httpx.Response, expect: type = dict) -> Any:
        try:
            body = response.json()
        except ValueError as exc:
            raise UpstreamError(f"The {self.service} service answered with a body that is not JSON.") from exc
        if not isinstance(body, expect):
            raise UpstreamError(f"The {self.service} service answered with an unexpected document.")
        return body

    def unexpected(self, response: httpx.Response, what: str) -> UpstreamError:
        return UpstreamError(f"The {self.service} service answered {response.status_code} for {what}.")

    async def get_json(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        not_found: str | None = None,
        revalidate: bool = False,
    ) -> tuple[Any, Mapping[str, str]]:
        """GET ``url`` → (JSON body, response headers). A 404 raises ``NotFound(not_found)`` when given, else
        returns ``(None, headers)``. ``revalidate=True`` serves it through the ETag cache."""
        if not revalidate:
            response = await self.request("GET", url, params=params)
            return self._body(response, url, not_found), response.headers
        key = self._cache_key(url, params)
        cached = self.cache.get(key)
        if cached is not None and time.monotonic() - cached.checked_at < self.cache.fresh_seconds:
            return cached.body, cached.headers
        async with self.cache.lock(key):
            # Another request may have revalidated while this one waited: one upstream call per window.
            cached = self.cache.get(key)
            if cached is not None and time.monotonic() - cached.checked_at < self.cache.fresh_seconds:
                return cached.body, cached.headers
            headers = {"if-none-match": cached.etag} if cached is not None and cached.etag else {}
            response = await self.request("GET", url, params=params, headers=headers)
            if response.status_code == 304 and cached is not None:
                fresh = Cached(cached.etag, cached.body, cached.headers, time.monotonic())
            else:
                body = self._body(response, url, not_found)
                if body is None:
                    self.cache.forget(key)
                    return None, response.headers
                fresh = Cached(response.headers.get("etag"), body, httpx.Headers(response.headers), time.monotonic())
            self.cache.put(key, fresh)
            return fresh.body, fresh.headers

    def _cache_key(self, url: str, params: Mapping[str, Any] | None) -> str:
        if self._keys_of is not self.http:  # a client swapped in (tests) has its own base URL
            self._keys, self._keys_of = {}, self.http
        try:
            memo: tuple[Any, ...] | None = (url, tuple(params.items()) if params else ())
            hash(memo)
        except TypeError:  # a list among the params: not memoised
            memo = None
        key = self._keys.get(memo) if memo is not None else None
        if key is None:
            key = str(self.http.build_request("GET", url, params=params).url)
            if memo is not None:
                if len(self._keys) >= self.cache.max_entries:
                    self._keys.clear()
                self._keys[memo] = key
        return key

    def _body(self, response: httpx.Response, url: str, not_found: str | None) -> Any:
        if response.status_code == 404:
            if not_found is not None:
                raise NotFound(not_found)
            return None
        if response.status_code != 200:
            raise self.unexpected(response, url)
        return self.json(response, object)

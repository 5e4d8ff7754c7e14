"""The revalidation cache of an upstream client is keyed by the full URL httpx requests (memoised per path and
params, not rebuilt per call): each (path, params) has its own entry, and a client swapped in has its own keys."""

from __future__ import annotations

import httpx

from metas_kit.upstream import RevalidationCache, Upstream


def _client(base: str, seen: list[str]) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"url": str(request.url)}, headers={"etag": '"v1"'})

    return httpx.AsyncClient(base_url=base, transport=httpx.MockTransport(answer))


async def test_cache_keys_are_the_requested_urls_per_path_and_params() -> None:
    seen: list[str] = []
    up = Upstream(_client("http://planning.test", seen), cache=RevalidationCache(fresh_seconds=60))
    body, _ = await up.get_json("/v1/plans/a%2Fb/tree", revalidate=True)
    assert body == {"url": "http://planning.test/v1/plans/a%2Fb/tree"}
    again, _ = await up.get_json("/v1/plans/a%2Fb/tree", revalidate=True)
    assert again == body
    assert len(seen) == 1
    versioned, _ = await up.get_json("/v1/plans/a%2Fb/tree", params={"version": 2}, revalidate=True)
    assert versioned == {"url": "http://planning.test/v1/plans/a%2Fb/tree?version=2"}
    other, _ = await up.get_json("/v1/plans/a%2Fb/tree", params={"version": 3}, revalidate=True)
    assert other == {"url": "http://planning.test/v1/plans/a%2Fb/tree?version=3"}
    listed, _ = await up.get_json("/v1/x", params={"k": ["1", "2"]}, revalidate=True)  # unhashable: not memoised
    assert listed == {"url": "http://planning.test/v1/x?k=1&k=2"}
    assert len(seen) == 4
    assert sorted(up.cache._entries) == sorted(seen)
    await up.aclose()


async def test_a_swapped_client_gets_keys_of_its_own_base_url() -> None:
    seen: list[str] = []
    up = Upstream(_client("http://one.test", seen), cache=RevalidationCache(fresh_seconds=60))
    await up.get_json("/v1/doc", revalidate=True)
    up.http = _client("http://two.test", seen)
    body, _ = await up.get_json("/v1/doc", revalidate=True)
    assert body == {"url": "http://two.test/v1/doc"}
    assert seen == ["http://one.test/v1/doc", "http://two.test/v1/doc"]
    await up.aclose()

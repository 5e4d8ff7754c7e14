"""Clients of planning (plan trees) and execution (current registrations), docs/api/*.md.

Identifiers are percent-encoded into the URL (a `/`, `#` or control character stays part of the id).

Upstream failures become the kit's 502/503/504 problems; a missing plan becomes 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from metas_kit.errors import NotFound, UpstreamError, UpstreamTimeout, UpstreamUnavailable


async def _get(http: httpx.AsyncClient, service: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        response = await http.get(url, **kwargs)
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout(f"The {service} service did not answer in time.") from exc
    except httpx.TransportError as exc:
        raise UpstreamUnavailable(f"The {service} service cannot be reached.") from exc
    if response.status_code >= 500:
        raise UpstreamError(f"The {service} service failed ({response.status_code}).")
    return response


def _json(response: httpx.Response, service: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise UpstreamError(f"The {service} service answered with a body that is not JSON.") from exc
    if not isinstance(body, dict):
        raise UpstreamError(f"The {service} service answered with an unexpected document.")
    return body


@dataclass(frozen=True, slots=True)
class PlanTree:
    document: dict[str, Any]
    etag: str | None
    version: int | None


class PlanningClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def tree(self, plan_id: str, version: int | None = None) -> PlanTree:
        params = {"version": version} if version is not None else None
        response = await _get(self.http, "planning", f"/v1/plans/{quote(plan_id, safe='')}/tree", params=params)
        if response.status_code == 404:
            raise NotFound(f"Plan {plan_id!r} (version {version or 'current'}) does not exist in planning.")
        if response.status_code != 200:
            raise UpstreamError(f"The planning service answered {response.status_code} for plan {plan_id!r}.")
        raw_version = response.headers.get("x-plan-version")
        return PlanTree(
            _json(response, "planning"),
            response.headers.get("etag"),
            int(raw_version) if raw_version and raw_version.isdigit() else None,
        )

    async def aclose(self) -> None:
        await self.http.aclose()


class ExecutionClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def current(self, plan_id: str, period_to: str | None) -> dict[str, Any]:
        params = {"period_to": period_to} if period_to else None
        response = await _get(
            self.http, "execution", f"/v1/plans/{quote(plan_id, safe='')}/registrations/current", params=params
        )
        if response.status_code == 404:
            raise NotFound(f"Execution has no plan {plan_id!r}.")
        if response.status_code != 200:
            raise UpstreamError(f"The execution service answered {response.status_code} for plan {plan_id!r}.")
        return _json(response, "execution")

    async def lock(self, plan_id: str, period: str, reason: str) -> None:
        """Lock a period (idempotent in execution): a final evaluation freezes what it read."""
        try:
            response = await self.http.put(
                f"/v1/plans/{quote(plan_id, safe='')}/locks/{period}", json={"reason": reason}
            )
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout("The execution service did not answer in time.") from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable("The execution service cannot be reached.") from exc
        if response.status_code not in (200, 201):
            raise UpstreamError(f"The execution service answered {response.status_code} locking {period}.")

    async def aclose(self) -> None:
        await self.http.aclose()

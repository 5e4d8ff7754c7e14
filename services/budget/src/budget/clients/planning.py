"""Client of the planning service: looks up a plan and an initiative (only when a link is made)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from metas_kit.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable


class PlanningClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def plan(self, plan_id: str) -> dict[str, Any] | None:
        """The plan's summary (with its ``organisation_code``), or None when planning says 404."""
        return await self._get(f"/v1/plans/{quote(plan_id, safe='')}")

    async def initiative(self, plan_id: str, code: str) -> dict[str, Any] | None:
        """The initiative as planning serves it, or None when planning says 404 (plan or initiative unknown)."""
        return await self._get(f"/v1/plans/{quote(plan_id, safe='')}/initiatives/{quote(code, safe='')}")

    async def _get(self, path: str) -> dict[str, Any] | None:
        try:
            resp = await self.http.get(path)
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout("The planning service did not answer in time.") from exc
        except httpx.TransportError as exc:
            raise UpstreamUnavailable("The planning service is unreachable.") from exc
        if resp.status_code == 404:
            return None
        if resp.status_code >= 400:
            raise UpstreamError(f"The planning service answered {resp.status_code} for {path}.")
        try:
            body = resp.json()
        except ValueError as exc:
            raise UpstreamError("The planning service sent a body that is not JSON.") from exc
        if not isinstance(body, dict):
            raise UpstreamError(f"The planning service sent an unexpected shape for {path}.")
        return body

"""The one client of the planning service (docs/api/planning.md), used by execution, scoring and budget.

- ``plan(plan_id)`` → ``PlanSummary`` (incl. ``organisation_code``: the organisation a plan, and everything
  registered, scored or budgeted against it, belongs to);
- ``tree(plan_id, version=None)`` → ``PlanTree``: the plan document of the approved version (else the latest
  draft) or of the given version, revalidated by ETag;
- ``items(plan_id, collection)`` / ``item(plan_id, collection, code)`` / ``initiative(plan_id, code)``;
- ``plan_ids()``: every plan planning knows (following its cursor pages).

Build it in the lifespan: ``PlanningClient(make_client(url, service_name=..., jwt_secret=...))`` on
``app.state``; close it with ``aclose()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from metas_kit.errors import UpstreamError
from metas_kit.upstream import RevalidationCache, Upstream, segment

Collection = Literal["units", "objectives", "parameters", "indicators", "products", "initiatives"]
# Items of one plan are a few hundred at most; the pages are followed up to this many.
MAX_PAGES = 1000


class PlanSummary(BaseModel):
    """A plan as planning lists it (``GET /v1/plans/{id}``)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    organisation_code: str
    framework: str
    cycle_year: int
    title: str
    current_version: int | None
    latest_version: int


@dataclass(frozen=True, slots=True)
class PlanTree:
    plan_id: str
    document: dict[str, Any]
    etag: str | None
    version: int | None
    status: str | None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


class PlanningClient(Upstream):
    service = "planning"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        cache: RevalidationCache | None = None,
        revalidate_seconds: float | None = None,
    ) -> None:
        """``revalidate_seconds``: how long a cached document is served before it is revalidated (a shorthand
        for ``cache=RevalidationCache(fresh_seconds=...)``)."""
        if cache is None and revalidate_seconds is not None:
            cache = RevalidationCache(fresh_seconds=revalidate_seconds)
        super().__init__(http, cache=cache)

    async def plan(self, plan_id: str) -> PlanSummary:
        """The plan's summary; ``NotFound`` when planning has no such plan."""
        body, _ = await self.get_json(
            f"/v1/plans/{segment(plan_id)}", not_found=f"Plan {plan_id!r} does not exist in planning.", revalidate=True
        )
        try:
            return PlanSummary.model_validate(body)
        except ValidationError as exc:
            raise UpstreamError("The planning service answered with an unexpected plan summary.") from exc

    async def organisation_of(self, plan_id: str) -> str:
        """The code of the organisation that owns ``plan_id`` (``NotFound`` for an unknown plan)."""
        return (await self.plan(plan_id)).organisation_code

    async def tree(self, plan_id: str, version: int | None = None) -> PlanTree:
        """The plan document (current version, or ``version``), revalidated by its strong ETag."""
        params = {"version": version} if version is not None else None
        what = f"Plan {plan_id!r} (version {version if version is not None else 'current'}) does not exist in planning."
        body, headers = await self.get_json(
            f"/v1/plans/{segment(plan_id)}/tree", params=params, not_found=what, revalidate=True
        )
        if not isinstance(body, dict):
            raise UpstreamError("The planning service answered with an unexpected plan document.")
        return PlanTree(
            plan_id=plan_id,
            document=body,
            etag=headers.get("etag"),
            version=_int(headers.get("x-plan-version")),
            status=headers.get("x-plan-version-status"),
        )

    async def items(
        self, plan_id: str, collection: Collection, *, version: int | None = None, **filters: str
    ) -> list[dict[str, Any]]:
        """Every item of a collection (following the pages); ``NotFound`` for an unknown plan or version."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": 500, **filters}
            if version is not None:
                params["version"] = version
            if cursor:
                params["cursor"] = cursor
            body, _ = await self.get_json(
                f"/v1/plans/{segment(plan_id)}/{collection}",
                params=params,
                not_found=f"Plan {plan_id!r} does not exist in planning.",
            )
            page = body.get("items") if isinstance(body, dict) else None
            if not isinstance(page, list) or not all(isinstance(i, dict) for i in page):
                raise UpstreamError("The planning service answered with an unexpected page of items.")
            out.extend(page)
            cursor = body.get("next_cursor")
            if not cursor:
                return out
        raise UpstreamError("The planning service's pages of items never ended.")

    async def item(
        self, plan_id: str, collection: Collection, code: str, *, version: int | None = None
    ) -> dict[str, Any] | None:
        """One item as planning serves it, or None when planning answers 404 (plan, version or item unknown)."""
        params = {"version": version} if version is not None else None
        body, _ = await self.get_json(f"/v1/plans/{segment(plan_id)}/{collection}/{segment(code)}", params=params)
        if body is not None and not isinstance(body, dict):
            raise UpstreamError("The planning service answered with an unexpected item.")
        return body

    async def initiative(self, plan_id: str, code: str) -> dict[str, Any] | None:
        return await self.item(plan_id, "initiatives", code)

    async def plan_ids(self) -> list[str]:
        """Every plan id planning knows (follows the cursor pages)."""
        ids: list[str] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": 500}
            if cursor:
                params["cursor"] = cursor
            body, _ = await self.get_json("/v1/plans", params=params)
            page = body.get("items") if isinstance(body, dict) else None
            if not isinstance(page, list):
                raise UpstreamError("The planning service answered with an unexpected page of plans.")
            ids.extend(str(p["id"]) for p in page if isinstance(p, dict) and "id" in p)
            cursor = body.get("next_cursor")
            if not cursor:
                return ids
        raise UpstreamError("The planning service's pages of plans never ended.")

    def forget(self, plan_id: str | None = None) -> None:
        """Drop cached documents of ``plan_id`` (all plans by default)."""
        self.cache.forget(str(self.http.base_url.join(f"/v1/plans/{segment(plan_id)}")) if plan_id else "")

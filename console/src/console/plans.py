"""Plan documents read through the gateway, indexed by item code, kept per plan and revalidated by ETag.

The gateway answers a revalidation only for a caller allowed to read the plan, so the cache never shows a plan
to someone who could not fetch it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from console.gateway import Api, problem_of


@dataclass(frozen=True)
class Item:
    code: str
    kind: str  # indicator | product | stage | initiative
    name: str
    unit_code: str
    data: dict[str, Any]
    parent: dict[str, Any] | None = None


@dataclass
class PlanIndex:
    document: dict[str, Any]
    items: dict[str, Item] = field(default_factory=dict)

    @property
    def plan(self) -> dict[str, Any]:
        return dict(self.document.get("plan") or {})

    @property
    def units(self) -> list[dict[str, Any]]:
        return list(self.document.get("units") or [])

    @property
    def organisation(self) -> dict[str, Any]:
        return dict(self.document.get("organisation") or {})

    @property
    def timezone(self) -> str:
        calendar = self.plan.get("calendar") or {}
        if calendar.get("timezone"):
            return str(calendar["timezone"])
        return "America/Sao_Paulo" if calendar.get("country") == "BR" else "Europe/Lisbon"


def index_document(document: dict[str, Any]) -> PlanIndex:
    index = PlanIndex(document)
    for indicator in document.get("indicators") or []:
        index.items[indicator["code"]] = Item(
            indicator["code"], "indicator", indicator.get("name") or "", indicator["unit_code"], indicator
        )
    for product in document.get("products") or []:
        index.items[product["code"]] = Item(product["code"], "product", product["name"], product["unit_code"], product)
        for stage in product.get("stages") or []:
            index.items[stage["code"]] = Item(
                stage["code"], "stage", stage.get("name") or "", product["unit_code"], stage, parent=product
            )
    for initiative in document.get("initiatives") or []:
        index.items[initiative["code"]] = Item(
            initiative["code"], "initiative", initiative["name"], initiative["unit_code"], initiative
        )
    return index


async def plan_index(api: Api, cache: dict[str, tuple[str, PlanIndex]], plan_id: str) -> PlanIndex:
    cached = cache.get(plan_id)
    headers = {"if-none-match": cached[0]} if cached else None
    response = await api.request("GET", f"/api/planning/v1/plans/{plan_id}/tree", headers=headers)
    if response.status_code == 304 and cached:
        return cached[1]
    if response.status_code >= 400:
        raise problem_of(response)
    index = index_document(response.json())
    etag = response.headers.get("etag")
    if etag:
        cache[plan_id] = (etag, index)
    return index


async def list_plans(api: Api, organisation: str | None) -> list[dict[str, Any]]:
    """Every plan the person may see (of one organisation when given), following the cursor."""
    plans: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = await api.get(
            "/api/planning/v1/plans", params={"organisation": organisation, "limit": 500, "cursor": cursor}
        )
        plans.extend(page.get("items") or [])
        cursor = page.get("next_cursor")
        if not cursor:
            return plans

"""Items of a plan version (units, objectives, parameters, indicators, products, initiatives):
list and get from the item index, merge-patch edits of a draft's item."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Query
from fastapi.responses import JSONResponse, Response

from metas_kit.errors import PROBLEM_RESPONSES, NotFound
from metas_kit.pagination import encode_cursor
from planning.api.params import ItemCode, PlanId, VersionQuery
from planning.api.plans import version_headers
from planning.api.schemas import ItemPage
from planning.db.repositories import PlanRepository
from planning.deps import PageDep, Planner, Reader, SessionDep
from planning.domain.items import kinds_of
from planning.versioning import (
    add_document_item,
    patch_document_item,
    remove_document_item,
    tree_version,
)

router = APIRouter(prefix="/v1/plans/{plan_id}", tags=["plan items"])
Collection = Literal["units", "objectives", "parameters", "indicators", "products", "initiatives"]


def _kinds(collection: str, level: str | None) -> tuple[str, ...]:
    kinds = kinds_of(collection)
    if collection == "objectives" and level is not None:
        kinds = (f"{level}_objective",)
    return kinds


@router.get("/{collection}", response_model=ItemPage, responses=PROBLEM_RESPONSES)
async def list_items(
    plan_id: PlanId,
    collection: Collection,
    session: SessionDep,
    _who: Reader,
    page: PageDep,
    version: VersionQuery = None,
    unit_code: Annotated[str | None, Query(max_length=64)] = None,
    objective_code: Annotated[str | None, Query(max_length=64)] = None,
    indicator_code: Annotated[str | None, Query(max_length=64)] = None,
    level: Annotated[Literal["strategic", "operational"] | None, Query()] = None,
) -> JSONResponse:
    repo = PlanRepository(session)
    row = await tree_version(repo, plan_id, version)
    after = page.cursor.get("p") if page.cursor else None
    items = await repo.list_items(
        plan_id,
        row.number,
        _kinds(collection, level),
        after_position=after if isinstance(after, int) else None,
        limit=page.limit + 1,
        unit_code=unit_code,
        objective_code=objective_code,
        indicator_code=indicator_code,
    )
    more = len(items) > page.limit
    items = items[: page.limit]
    body: dict[str, Any] = {
        "items": [{"kind": i.kind, **i.data} if collection == "objectives" else i.data for i in items],
        "next_cursor": encode_cursor({"p": items[-1].position}) if more and items else None,
    }
    return JSONResponse(body, headers=version_headers(row))


@router.get("/{collection}/{code}", responses=PROBLEM_RESPONSES)
async def get_item(
    plan_id: PlanId,
    collection: Collection,
    code: ItemCode,
    session: SessionDep,
    _who: Reader,
    version: VersionQuery = None,
) -> JSONResponse:
    repo = PlanRepository(session)
    row = await tree_version(repo, plan_id, version)
    item = await repo.get_item(plan_id, row.number, kinds_of(collection), code)
    if item is None:
        raise NotFound(f"No {collection[:-1]} {code!r} in version {row.number} of {plan_id!r}.")
    data = {"kind": item.kind, **item.data} if collection == "objectives" else item.data
    return JSONResponse(data, headers=version_headers(row))


@router.patch(
    "/{collection}/{code}",
    responses=PROBLEM_RESPONSES,
    summary="JSON merge-patch one item of a draft version (If-Match: the version ETag)",
)
async def patch_item(
    plan_id: PlanId,
    collection: Collection,
    code: ItemCode,
    session: SessionDep,
    who: Planner,
    patch: Annotated[dict[str, Any], Body()],
    version: VersionQuery = None,
    if_match: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    row, after = await patch_document_item(
        session, plan_id, collection, code, patch, who, number=version, if_match=if_match
    )
    return JSONResponse(after, headers=version_headers(row))


@router.post(
    "/{collection}",
    status_code=201,
    responses=PROBLEM_RESPONSES,
    summary="Add an item to a draft version (If-Match: the version ETag; objectives carry their kind)",
)
async def add_item(
    plan_id: PlanId,
    collection: Collection,
    session: SessionDep,
    who: Planner,
    item: Annotated[dict[str, Any], Body()],
    version: VersionQuery = None,
    if_match: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    row = await add_document_item(session, plan_id, collection, item, who, number=version, if_match=if_match)
    stored = {k: v for k, v in item.items() if k != "kind"} if collection == "objectives" else item
    return JSONResponse(stored, status_code=201, headers=version_headers(row))


@router.delete(
    "/{collection}/{code}",
    status_code=204,
    responses=PROBLEM_RESPONSES,
    summary="Remove an item from a draft version (If-Match: the version ETag)",
)
async def remove_item(
    plan_id: PlanId,
    collection: Collection,
    code: ItemCode,
    session: SessionDep,
    who: Planner,
    version: VersionQuery = None,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    row = await remove_document_item(session, plan_id, collection, code, who, number=version, if_match=if_match)
    return Response(status_code=204, headers=version_headers(row))

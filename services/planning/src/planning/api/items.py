"""Items of a plan version (units, objectives, parameters, indicators, products, initiatives):
list and get from the item index, merge-patch edits of a draft's item."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Query, Response

from metas_kit.auth import Planner, Reader
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES
from metas_kit.pagination import PageDep
from planning.api.params import ItemCode, PlanId, VersionQuery
from planning.api.plans import version_headers, with_version_headers
from planning.api.schemas import ItemPage
from planning.application import reads, versions

router = APIRouter(prefix="/v1/plans/{plan_id}", tags=["plan items"])
Collection = Literal["units", "objectives", "parameters", "indicators", "products", "initiatives"]
Item = dict[str, Any]


@router.get("/{collection}", responses=PROBLEM_RESPONSES)
async def list_items(
    plan_id: PlanId,
    collection: Collection,
    response: Response,
    session: SessionDep,
    who: Reader,
    page: PageDep,
    version: VersionQuery = None,
    unit_code: Annotated[str | None, Query(max_length=64)] = None,
    objective_code: Annotated[str | None, Query(max_length=64)] = None,
    indicator_code: Annotated[str | None, Query(max_length=64)] = None,
    level: Annotated[Literal["strategic", "operational"] | None, Query()] = None,
) -> ItemPage:
    row, result = await reads.list_items(
        session,
        who,
        plan_id,
        collection,
        page,
        number=version,
        filters=reads.ItemFilter(unit_code, objective_code, indicator_code, level),
    )
    with_version_headers(response, row)
    return ItemPage(items=[reads.item_body(collection, i) for i in result.items], next_cursor=result.next_cursor)


@router.get("/{collection}/{code}", responses=PROBLEM_RESPONSES)
async def get_item(
    plan_id: PlanId,
    collection: Collection,
    code: ItemCode,
    response: Response,
    session: SessionDep,
    who: Reader,
    version: VersionQuery = None,
) -> Item:
    row, item = await reads.get_item(session, who, plan_id, collection, code, number=version)
    with_version_headers(response, row)
    return reads.item_body(collection, item)


@router.patch(
    "/{collection}/{code}",
    responses=PROBLEM_RESPONSES,
    summary="JSON merge-patch one item of a draft version (If-Match: the version ETag)",
)
async def patch_item(
    plan_id: PlanId,
    collection: Collection,
    code: ItemCode,
    response: Response,
    session: SessionDep,
    who: Planner,
    patch: Annotated[dict[str, Any], Body()],
    version: VersionQuery = None,
    if_match: Annotated[str | None, Header()] = None,
) -> Item:
    row, after = await versions.patch_document_item(
        session, plan_id, collection, code, patch, who, number=version, if_match=if_match
    )
    with_version_headers(response, row)
    return after


@router.post(
    "/{collection}",
    status_code=201,
    responses=PROBLEM_RESPONSES,
    summary="Add an item to a draft version (If-Match: the version ETag; objectives carry their kind)",
)
async def add_item(
    plan_id: PlanId,
    collection: Collection,
    response: Response,
    session: SessionDep,
    who: Planner,
    item: Annotated[dict[str, Any], Body()],
    version: VersionQuery = None,
    if_match: Annotated[str | None, Header()] = None,
) -> Item:
    row = await versions.add_document_item(session, plan_id, collection, item, who, number=version, if_match=if_match)
    with_version_headers(response, row)
    return {k: v for k, v in item.items() if k != "kind"} if collection == "objectives" else item


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
    row = await versions.remove_document_item(
        session, plan_id, collection, code, who, number=version, if_match=if_match
    )
    return Response(status_code=204, headers=version_headers(row))

"""Items of a plan version (units, objectives, parameters, indicators, products, initiatives):
list and get from the item index, merge-patch edits of a draft's item."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Query, Response
from fastapi.responses import JSONResponse

from metas_kit.auth import Planner, Principal, Reader
from metas_kit.bounds import JsonObject
from metas_kit.db import SessionDep
from metas_kit.errors import PROBLEM_RESPONSES
from metas_kit.pagination import PageDep
from metas_kit.writes import Write, WriteContext
from planning.api.params import ItemCode, PlanId, VersionQuery
from planning.api.plans import version_headers, with_version_headers
from planning.api.schemas import ItemPage
from planning.application import reads, versions

if TYPE_CHECKING:
    from planning.db.models import PlanVersion

router = APIRouter(prefix="/v1/plans/{plan_id}", tags=["plan items"])
Collection = Literal["units", "objectives", "parameters", "indicators", "products", "initiatives"]
Item = dict[str, Any]
T = TypeVar("T")


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
    response_model=Item,
    responses=PROBLEM_RESPONSES,
    summary="JSON merge-patch one item of a draft version (If-Match: the version ETag)",
)
async def patch_item(
    plan_id: PlanId,
    collection: Collection,
    code: ItemCode,
    write: Write,
    who: Planner,
    patch: Annotated[JsonObject, Body()],
    version: VersionQuery = None,
) -> Any:
    async def change(ctx: WriteContext) -> tuple[PlanVersion, Item]:
        return await versions.patch_document_item(ctx, plan_id, collection, code, patch, number=version)

    return await _draft_write(write, who, plan_id, version, change, payload=patch)


@router.post(
    "/{collection}",
    status_code=201,
    response_model=Item,
    responses=PROBLEM_RESPONSES,
    summary="Add an item to a draft version (If-Match: the version ETag; objectives carry their kind)",
)
async def add_item(
    plan_id: PlanId,
    collection: Collection,
    write: Write,
    who: Planner,
    item: Annotated[JsonObject, Body()],
    version: VersionQuery = None,
) -> Any:
    async def change(ctx: WriteContext) -> tuple[PlanVersion, Item]:
        row = await versions.add_document_item(ctx, plan_id, collection, item, number=version)
        return row, {k: v for k, v in item.items() if k != "kind"} if collection == "objectives" else item

    return await _draft_write(write, who, plan_id, version, change, payload=item, status_code=201)


@router.delete(
    "/{collection}/{code}",
    status_code=204,
    response_class=Response,
    responses=PROBLEM_RESPONSES,
    summary="Remove an item from a draft version (If-Match: the version ETag)",
)
async def remove_item(
    plan_id: PlanId,
    collection: Collection,
    code: ItemCode,
    write: Write,
    who: Planner,
    version: VersionQuery = None,
) -> Response:
    async def change(ctx: WriteContext) -> tuple[PlanVersion, None]:
        return await versions.remove_document_item(ctx, plan_id, collection, code, number=version), None

    payload = {"collection": collection, "code": code, "version": version}
    replayed = await _draft_write(write, who, plan_id, version, change, payload=payload, status_code=204)
    # No body either way; a replay carries the first answer's headers.
    headers = replayed.headers if isinstance(replayed, Response) else write.response.headers
    return Response(status_code=204, headers=_bodiless(headers))


async def _draft_write(
    write: Write,
    who: Principal,
    plan_id: str,
    version: int | None,
    change: Callable[[WriteContext], Awaitable[tuple[PlanVersion, T]]],
    *,
    payload: Any,
    status_code: int = 200,
) -> T | JSONResponse:
    """An item write to a draft version: If-Match its ETag (required), answer with the version's headers."""

    async def apply(ctx: WriteContext) -> T:
        row, result = await change(ctx)
        ctx.headers.update(version_headers(row))
        return result

    return await write(
        apply,
        payload=payload,
        current_etag=lambda: reads.draft_etag(write.session, who, plan_id, version),
        if_match="required",
        status_code=status_code,
    )


def _bodiless(headers: Any) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in ("content-length", "content-type")}

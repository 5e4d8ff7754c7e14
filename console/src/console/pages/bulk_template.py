"""The registration template on the bulk entry page: download the unit's XLSX for the period, upload it filled in,
see every bad cell (sheet, cell, why) from execution's dry run, then import it when no cell is bad.

Between the check and the import the file travels back in the page (base64 in a hidden field; templates are a few
tens of KiB, execution refuses more than 2 MiB), so the console keeps nothing; a token made with the check is the
import's Idempotency-Key, so a double click imports once."""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from console.gateway import problem_of
from console.pages.bulk import render
from console.pages.common import read_form, signed_in_page
from console.problems import Told, tell
from console.web import Page

router = APIRouter(include_in_schema=False)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_BYTES = 2 * 1024 * 1024  # execution's limit; a larger file is refused here without a round trip


def _api_path(plan_id: str, action: str = "") -> str:
    return f"/api/execution/v1/plans/{plan_id}/registration-template{action}"


async def _failed(page: Page, plan_id: str, unit: str, period: str, response: Any) -> Response:
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    told = tell(problem, page.gettext)
    if problem.status == 415:
        told = Told(page.gettext("This file is not an XLSX workbook: upload the template as downloaded."))
    elif problem.status == 413:
        told = Told(page.gettext("The file is too large for a registration template."))
    elif problem.problem.get("type", "").endswith("/not-a-registration-template"):
        told = Told(page.gettext("This workbook is not a registration template: download the template again."))
    status = problem.status if problem.status in (403, 404, 409, 413, 415, 422) else 503
    return await render(page, plan_id, unit, period, told=told, status=status, sheet=None)


@router.get("/plans/{plan_id}/bulk/template")
async def download(request: Request, plan_id: str, unit: str = "", period: str = "") -> Response:
    page = await signed_in_page(request)
    response = await page.api.request(
        "GET",
        _api_path(plan_id),
        params={"unit_code": unit, "period": period},
        headers={"accept": XLSX, "accept-language": page.lang},
    )
    if response.status_code >= 300:
        return await _failed(page, plan_id, unit, period, response)
    disposition = response.headers.get("content-disposition") or f'attachment; filename="{plan_id}.xlsx"'
    return Response(
        response.content,
        media_type=XLSX,
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


def _sheet_view(body: dict[str, Any], data: bytes | None) -> dict[str, Any]:
    """What the page shows of a check: the bad cells, and the file and a fresh token when it can be imported."""
    problems = [p for p in body.get("problems") or [] if isinstance(p, dict)]
    ok = bool(body.get("ok")) and not problems
    return {
        "problems": problems,
        "filled": int(body.get("filled_rows") or 0),
        "ok": ok,
        "file": base64.b64encode(data).decode("ascii") if ok and data is not None else "",
        "token": secrets.token_urlsafe(16) if ok else "",
    }


@router.post("/plans/{plan_id}/bulk/template")
async def check(request: Request, plan_id: str) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    unit, period = str(form.get("unit") or ""), str(form.get("period") or "")
    upload = form.get("file")
    data = await upload.read(MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""
    if not data:
        told = Told(page.gettext("Choose the filled-in template file."))
        return await render(page, plan_id, unit, period, told=told, status=422, sheet=None)
    if len(data) > MAX_BYTES:
        told = Told(page.gettext("The file is too large for a registration template."))
        return await render(page, plan_id, unit, period, told=told, status=413, sheet=None)
    response = await page.api.request(
        "POST",
        _api_path(plan_id, ":dry-run"),
        content=data,
        headers={"content-type": XLSX, "accept-language": page.lang},
    )
    if response.status_code >= 300:
        return await _failed(page, plan_id, unit, period, response)
    sheet = _sheet_view(response.json(), data)
    return await render(page, plan_id, unit, period, sheet=sheet, status=200 if sheet["ok"] else 422)


@router.post("/plans/{plan_id}/bulk/template/import")
async def import_template(request: Request, plan_id: str) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    unit, period = str(form.get("unit") or ""), str(form.get("period") or "")
    try:
        data = base64.b64decode(str(form.get("file") or ""), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    token = str(form.get("token") or "")
    if not data or len(data) > MAX_BYTES or not token.replace("-", "").replace("_", "").isalnum():
        told = Told(page.gettext("Upload the filled-in template again."))
        return await render(page, plan_id, unit, period, told=told, status=422, sheet=None)
    reason = str(form.get("reason") or "").strip()
    response = await page.api.request(
        "POST",
        _api_path(plan_id, ":import"),
        params={"reason": reason or None},
        content=data,
        headers={"content-type": XLSX, "accept-language": page.lang, "idempotency-key": f"console-template-{token}"},
    )
    if response.status_code < 300:
        body = response.json()
        done = int(body.get("created") or 0) + int(body.get("updated") or 0)
        return page.redirect(f"/plans/{plan_id}/bulk?unit={unit}&period={period}&saved={done}")
    if response.status_code == 422 and isinstance(problem_of(response).problem.get("errors"), list):
        # Something changed since the check (a lock, a certification): the same table of bad cells.
        errors = problem_of(response).problem["errors"]
        if all(isinstance(e, dict) and "cell" in e for e in errors):
            return await render(page, plan_id, unit, period, sheet=_sheet_view({"problems": errors}, None), status=422)
    return await _failed(page, plan_id, unit, period, response)

"""Evidence files of a registration: uploaded through the console (one request per file to execution's evidence
API, the file as the body), listed on the registration page and in the certifier's queue, downloaded through the
console with the type and name execution stored."""

from __future__ import annotations

import asyncio
import mimetypes
import re
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile

from console.gateway import Api, ApiProblem, problem_of
from console.i18n import Formats
from console.pages.common import read_form, signed_in_page
from console.problems import Told
from console.web import Page

router = APIRouter(include_in_schema=False)
FILES_FIELD = "files"
# Headers of execution's download passed on to the browser: the stored type, the safe file name, the hash.
PASSED_ON = ("content-type", "content-disposition", "etag")


def evidence_path(plan_id: str, item_code: str, period: str) -> str:
    return f"/api/execution/v1/plans/{plan_id}/registrations/{item_code}/{period}/evidence"


def page_url(plan_id: str, item_code: str, period: str) -> str:
    return f"/plans/{quote(plan_id, safe='')}/registrations/{quote(item_code, safe='')}/{quote(period, safe='')}"


async def list_evidence(api: Api, plan_id: str, item_code: str, period: str) -> list[dict[str, Any]]:
    """The registration's files, oldest first; none when nothing is registered (or the list cannot be read)."""
    response = await api.request("GET", evidence_path(plan_id, item_code, period))
    if response.status_code == 200:
        return list(response.json())
    if response.status_code in (401, 503):
        raise problem_of(response)
    return []


async def requirements(api: Api, plan_id: str) -> dict[str, str]:
    """Item code → what the plan requires as evidence (its "fonte de comprovação")."""
    response = await api.request("GET", f"/api/execution/v1/plans/{plan_id}/evidence-requirements")
    if response.status_code != 200:
        return {}
    return {str(r["item_code"]): str(r["source"]) for r in response.json()}


async def evidence_of_rows(api: Api, plan_id: str, rows: list[dict[str, Any]], limit: int) -> dict[str, list[Any]]:
    """Files of each listed registration ("item|period" → files), for the first `limit` rows only: one call each."""
    semaphore = asyncio.Semaphore(8)

    async def one(row: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        async with semaphore:
            found = await list_evidence(api, plan_id, row["item_code"], row["period"])
            return f"{row['item_code']}|{row['period']}", found

    return dict(await asyncio.gather(*(one(r) for r in rows[:limit])))


def file_size(fmt: Formats, size: int) -> str:
    """Bytes as a person reads them, in the page's number format: 532 B, 12,4 kB, 1,5 MB (powers of 1024)."""
    if size < 1024:
        return f"{fmt.number(size)} B"
    for unit, power in (("kB", 1), ("MB", 2), ("GB", 3)):
        scaled = Decimal(size) / (Decimal(1024) ** power)
        if scaled < 1024 or unit == "GB":
            return f"{fmt.number(scaled.quantize(Decimal('0.1')))} {unit}"
    raise AssertionError("unreachable")


def declared_type(upload: UploadFile) -> str:
    """The type the browser sent for the file; from its name when the browser did not know it (execution checks
    the content against it either way)."""
    sent = (upload.content_type or "").split(";")[0].strip().lower()
    if sent and sent != "application/octet-stream":
        return upload.content_type or sent
    guessed, _ = mimetypes.guess_type(upload.filename or "")
    return guessed or "application/octet-stream"


# Execution says "Evidence files are at most N bytes"; the gateway "The request body exceeds N bytes".
SIZE_LIMIT = re.compile(r"(?:at most|exceeds) (\d+) bytes")


def too_large(page: Page, limit: int) -> Told:
    """The form's files, sent together, were over what one file may be: nothing was stored (said beside the field)."""
    size = file_size(page.fmt, limit)
    return Told(
        page.gettext("Nothing was saved: the files were too large."),
        {
            FILES_FIELD: [
                page.gettext(
                    "Nothing was saved: the files chosen were larger than %(size)s. A file may have at most "
                    "%(size)s; send large files one at a time.",
                    size=size,
                )
            ]
        },
    )


def upload_problem(page: Page, name: str, problem: ApiProblem, declared: str) -> str:
    """One refused file, said in the person's language next to the file field."""
    body = problem.problem
    kind = str(body.get("type", "")).rsplit("/", 1)[-1]
    if problem.status == 413:
        limit = SIZE_LIMIT.search(problem.detail)
        if limit:
            size = file_size(page.fmt, int(limit.group(1)))
            return page.gettext("%(name)s: too large; a file may have at most %(size)s.", name=name, size=size)
        return page.gettext("%(name)s: too large.", name=name)
    if problem.status == 415 or kind == "unsupported-evidence-type":
        return page.gettext(
            "%(name)s: this type of file is not accepted. Send a PDF, an image (PNG, JPEG, GIF, WebP), "
            "an office document (Word, Excel, PowerPoint, OpenDocument), CSV or plain text.",
            name=name,
        )
    if kind == "evidence-refused":
        reason = body.get("reason")
        if reason == "empty":
            return page.gettext("%(name)s: the file is empty.", name=name)
        if reason == "executable":
            return page.gettext("%(name)s: programs and scripts are not accepted as evidence.", name=name)
        return page.gettext("%(name)s: the content is not what its type says (%(type)s).", name=name, type=declared)
    if problem.status == 422 and any(str(e.get("path")) == "name" for e in problem.errors):
        return page.gettext(
            "%(name)s: the file name is not accepted (no slashes or control characters, at most 200 characters).",
            name=name,
        )
    if kind == "registration-certified":
        return page.gettext(
            "%(name)s: this registration is certified; its evidence is final. A new value may bring more.", name=name
        )
    if kind == "too-many-evidence-files":
        return page.gettext("%(name)s: this registration has as many files as it may carry.", name=name)
    if kind == "period-closed":
        return page.gettext("%(name)s: the period is closed; nothing can be added to it.", name=name)
    if problem.status == 403:
        return page.gettext("%(name)s: only a registrar of the unit adds evidence.", name=name)
    if problem.status == 404:
        return page.gettext("%(name)s: register a value first; evidence goes with a registration.", name=name)
    return page.gettext("%(name)s: not stored; the service did not answer as expected. Try again.", name=name)


def chosen_files(form: Any) -> list[UploadFile]:
    """The files of the form's file field; a field left empty sends one nameless, empty part."""
    return [f for f in form.getlist(FILES_FIELD) if isinstance(f, UploadFile) and f.filename]


async def upload(
    page: Page, plan_id: str, item_code: str, period: str, files: list[UploadFile]
) -> tuple[list[str], list[str]]:
    """Each file sent to execution on its own (a refused file does not stop the others): the names stored and
    the messages of the refused ones."""
    stored: list[str] = []
    refused: list[str] = []
    for upload_file in files:
        name = upload_file.filename or ""
        content = await upload_file.read()
        response = await page.api.request(
            "POST",
            evidence_path(plan_id, item_code, period),
            params={"name": name},
            content=content,
            headers={"content-type": declared_type(upload_file)},
        )
        if response.status_code < 300:
            stored.append(name)
            continue
        problem = problem_of(response)
        if problem.status == 401:
            raise problem
        refused.append(upload_problem(page, name, problem, declared_type(upload_file)))
    return stored, refused


@router.post("/plans/{plan_id}/registrations/{item_code}/{period}/evidence")
async def add_files(request: Request, plan_id: str, item_code: str, period: str) -> Response:
    """Files added afterwards (the registration form sends its own with the value)."""
    from console.pages import registration  # the page this form belongs to (it imports this module)

    page = await signed_in_page(request)
    form = await read_form(request, page)
    files = chosen_files(form)
    if not files:
        refused = [page.gettext("Choose at least one file.")]
        stored: list[str] = []
    else:
        stored, refused = await upload(page, plan_id, item_code, period, files)
    if not refused:
        return page.redirect(f"{page_url(plan_id, item_code, period)}?added={len(stored)}#evidence")
    return await registration.show_with_file_errors(page, plan_id, item_code, period, stored, refused)


@router.post("/plans/{plan_id}/registrations/{item_code}/{period}/evidence/{evidence_id}/delete")
async def remove(request: Request, plan_id: str, item_code: str, period: str, evidence_id: int) -> Response:
    """A file of a version no certification has covered, removed by the unit's registrar (execution refuses the
    others: a certified version's files are never deleted)."""
    from console.pages import registration  # the page this form belongs to (it imports this module)

    page = await signed_in_page(request)
    await read_form(request, page)
    response = await page.api.request("DELETE", f"{evidence_path(plan_id, item_code, period)}/{evidence_id}")
    if response.status_code < 300:
        return page.redirect(f"{page_url(plan_id, item_code, period)}?removed=1#evidence")
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    kind = str(problem.problem.get("type", "")).rsplit("/", 1)[-1]
    if kind == "evidence-frozen":
        text = page.gettext("This file was certified with its version; it is never removed.")
    elif problem.status == 403:
        text = page.gettext("Only a registrar of the unit removes evidence.")
    elif problem.status == 404:
        text = page.gettext("This file is no longer there; the list shows what is.")
    else:
        text = page.gettext("The file was not removed; the service did not answer as expected. Try again.")
    message = page.gettext("The file was not removed.")
    return await registration.show_with_file_errors(page, plan_id, item_code, period, [], [text], message=message)


@router.get("/plans/{plan_id}/registrations/{item_code}/{period}/evidence/{evidence_id}")
async def download(request: Request, plan_id: str, item_code: str, period: str, evidence_id: int) -> Response:
    """The file's bytes as execution serves them, passed on while they arrive (nothing kept by the console)."""
    page = await signed_in_page(request)
    upstream = await page.api.stream(f"{evidence_path(plan_id, item_code, period)}/{evidence_id}/content")
    if upstream.status_code >= 400:
        await upstream.aread()
        await upstream.aclose()
        raise problem_of(upstream)
    headers = {k: upstream.headers[k] for k in PASSED_ON if k in upstream.headers}
    # Served as a download (Content-Disposition: attachment; SecurityHeaders adds nosniff and the console's CSP).
    headers["cache-control"] = "private, no-cache"
    return StreamingResponse(
        upstream.aiter_bytes(), headers=headers, background=BackgroundTask(upstream.aclose), media_type=None
    )

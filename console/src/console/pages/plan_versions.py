"""Plan versions for planners: import a plan file (YAML or JSON) with the dry run's preview — every error by its
path, the warnings, what would change — before it is applied; a version's readable difference against another;
approve a draft (guarded by the ETag the page showed) and revise an approved version into a new draft."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.gateway import ApiProblem, problem_of
from console.i18n import N_
from console.pages.common import read_form, signed_in_page
from console.plan_diff import diff_documents
from console.problems import Told, tell
from console.web import Page

router = APIRouter(include_in_schema=False)
PLANNING = "/api/planning/v1"
MAX_FILE_BYTES = 5 * 1024 * 1024  # planning's own limit on a document
YAML_SUFFIXES = (".yaml", ".yml")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

COLLECTION_NAMES = {
    "units": N_("Units"),
    "strategic_objectives": N_("Strategic objectives"),
    "parameters": N_("Evaluation parameters"),
    "operational_objectives": N_("Operational objectives"),
    "indicators": N_("Indicators"),
    "products": N_("Products"),
    "initiatives": N_("Initiatives"),
}
ACTIONS = {
    "create": N_("A new plan would be created (version 1, draft)."),
    "new_version": N_("A new draft version would be created (the latest version is approved)."),
    "replace_draft": N_("The open draft's document would be replaced."),
    "unchanged": N_("Nothing would change: this is the latest version's content."),
}
DONE = {
    "imported": N_("Plan imported: version %(version)s."),
    "unchanged": N_("Nothing changed: the file is the latest version's content."),
    "approved": N_("Version %(version)s approved: it is now the plan in force."),
    "revised": N_("Draft version %(version)s created from the approved version."),
}


def may_plan(page: Page) -> bool:
    return page.account is not None and page.account.has("planner")


def _forbidden(page: Page) -> ApiProblem:
    return ApiProblem(403, {"title": "Forbidden", "detail": page.gettext("Only planners import and approve plans.")})


def _media_type(filename: str, content: bytes) -> str:
    if filename.lower().endswith(YAML_SUFFIXES):
        return "application/yaml"
    if filename.lower().endswith(".json") or content.lstrip()[:1] in (b"{", b"["):
        return "application/json"
    return "application/yaml"


def _findings(problem_body: dict[str, Any], key: str) -> list[dict[str, str]]:
    found = problem_body.get(key)
    return (
        [
            {
                "path": str(f.get("path") or ""),
                "code": str(f.get("code") or f.get("type") or ""),
                "message": str(f.get("message") or ""),
            }
            for f in found
            if isinstance(f, dict)
        ]
        if isinstance(found, list)
        else []
    )


async def render_import(page: Page, *, status: int = 200, **values: Any) -> Response:
    return page.render(
        "plan_import.html",
        status=status,
        title=page.gettext("Import a plan"),
        active="plans",
        actions=ACTIONS,
        **values,
    )


@router.get("/plans/import")
async def import_form(request: Request) -> Response:
    page = await signed_in_page(request)
    if not may_plan(page):
        raise _forbidden(page)
    return await render_import(page)


async def _latest_etag(page: Page, plan_id: str) -> str:
    """The latest version's ETag now (empty for a new plan): applying sends it, so a version changed between
    the preview and the apply is refused instead of overwritten."""
    if not SLUG.match(plan_id):
        return ""
    response = await page.api.request("GET", f"{PLANNING}/plans/{plan_id}/versions")
    if response.status_code != 200:
        return ""
    versions = response.json().get("items") or []
    return str(max(versions, key=lambda v: v["number"])["etag"]) if versions else ""


@router.post("/plans/import")
async def import_preview(request: Request) -> Response:
    """The dry run of an uploaded file: nothing is written."""
    page = await signed_in_page(request)
    form = await read_form(request, page)
    if not may_plan(page):
        raise _forbidden(page)
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        told = Told(page.gettext("Choose a plan file to import."), fields={"file": [page.gettext("Choose a file.")]})
        return await render_import(page, told=told, status=422)
    content = await upload.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        told = Told(
            page.gettext("This file is larger than 5 MB."),
            fields={"file": [page.gettext("This file is larger than 5 MB.")]},
        )
        return await render_import(page, told=told, status=422)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        told = Told(
            page.gettext("This file is not UTF-8 text."),
            fields={"file": [page.gettext("This file is not UTF-8 text.")]},
        )
        return await render_import(page, told=told, status=422)
    media = _media_type(upload.filename, content)
    return await preview(page, text, media, upload.filename)


async def preview(page: Page, text: str, media: str, filename: str) -> Response:
    response = await page.api.request(
        "POST",
        f"{PLANNING}/plans:import",
        params={"dry_run": "true"},
        content=text.encode("utf-8"),
        headers={"content-type": media},
    )
    if response.status_code < 300:
        result = response.json()
        return await render_import(
            page,
            result=result,
            content=text,
            media=media,
            etag=await _latest_etag(page, str(result.get("plan_id"))),
            digest=hashlib.sha256(text.encode("utf-8")).hexdigest()[:12],
            idempotency_key=secrets.token_urlsafe(16),
            filename=filename,
        )
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    errors = _findings(problem.problem, "errors")
    warnings = _findings(problem.problem, "warnings")
    if problem.status == 422 and errors:
        told = Told(page.gettext("The file has errors: nothing can be imported until they are fixed."))
    elif problem.status == 400:
        told = Told(page.gettext("The file could not be read as YAML or JSON."))
    else:
        told = tell(problem, page.gettext)
    status = problem.status if problem.status in (400, 403, 404, 409, 412, 422) else 503
    return await render_import(
        page, status=status, told=told, errors=errors, warnings=warnings, detail=problem.detail, filename=filename
    )


@router.post("/plans/import/apply")
async def import_apply(request: Request) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    if not may_plan(page):
        raise _forbidden(page)
    text = str(form.get("content") or "")
    media = "application/yaml" if form.get("media") == "application/yaml" else "application/json"
    headers = {"content-type": media}
    if form.get("etag"):
        headers["if-match"] = str(form["etag"])
    if form.get("idempotency_key"):
        headers["idempotency-key"] = str(form["idempotency_key"])
    response = await page.api.request("POST", f"{PLANNING}/plans:import", content=text.encode("utf-8"), headers=headers)
    if response.status_code < 300:
        result = response.json()
        done = "unchanged" if result.get("action") == "unchanged" else "imported"
        query = urlencode({"done": done, "version": result.get("version")})
        return page.redirect(f"/plans/{quote(str(result['plan_id']), safe='')}/versions?{query}")
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    if problem.status == 412:
        told = Told(
            page.gettext(
                "The plan changed after your preview (someone imported or edited it), so nothing was applied. "
                "Preview the file again."
            )
        )
    else:
        told = tell(problem, page.gettext)
    status = problem.status if problem.status in (403, 404, 409, 412, 422) else 503
    return await render_import(
        page,
        status=status,
        told=told,
        errors=_findings(problem.problem, "errors"),
        warnings=_findings(problem.problem, "warnings"),
        filename=str(form.get("filename") or ""),
    )


async def versions_of(page: Page, plan_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    plan, found = await asyncio.gather(
        page.api.get(f"{PLANNING}/plans/{plan_id}"), page.api.get(f"{PLANNING}/plans/{plan_id}/versions")
    )
    return plan, sorted(found.get("items") or [], key=lambda v: v["number"], reverse=True)


async def render_versions(
    page: Page, plan_id: str, *, told: Told | None = None, notice: str | None = None, status: int = 200
) -> Response:
    plan, versions = await versions_of(page, plan_id)
    return page.render(
        "plan_versions.html",
        status=status,
        title=page.gettext("Versions of %(plan)s", plan=plan.get("title", plan_id)),
        active="plans",
        plan=plan,
        plan_id=plan_id,
        versions=versions,
        has_draft=any(v["status"] == "draft" for v in versions),
        may_plan=may_plan(page),
        told=told,
        notice=notice,
    )


@router.get("/plans/{plan_id}/versions")
async def versions(request: Request, plan_id: str, done: str = "", version: str = "") -> Response:
    page = await signed_in_page(request)
    notice = page.gettext(DONE[done], version=version) if done in DONE and version.isdigit() else None
    return await render_versions(page, plan_id, notice=notice)


def _after_write(page: Page, plan_id: str, response: Any, done: str) -> Response | Told:
    if response.status_code < 300:
        query = urlencode({"done": done, "version": response.json().get("number")})
        return page.redirect(f"/plans/{quote(plan_id, safe='')}/versions?{query}")
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    if problem.status == 412:
        return Told(
            page.gettext("This version changed after you opened the page, so it was not approved. Review it again."),
            reload=True,
        )
    if problem.status == 409:
        detail = problem.detail
        return Told(
            page.gettext("Refused: %(detail)s", detail=detail) if detail else tell(problem, page.gettext).message
        )
    return tell(problem, page.gettext)


@router.post("/plans/{plan_id}/versions/{number}/approve")
async def approve(request: Request, plan_id: str, number: int) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    if not may_plan(page):
        raise _forbidden(page)
    if form.get("confirm") != "yes":
        told = Told(
            page.gettext("Tick the confirmation to approve: approving makes this version the plan in force."),
            fields={f"confirm-{number}": [page.gettext("Confirm that you have reviewed this version.")]},
        )
        return await render_versions(page, plan_id, told=told, status=422)
    response = await page.api.request(
        "POST",
        f"{PLANNING}/plans/{plan_id}/versions/{number}:approve",
        headers={"if-match": str(form.get("etag") or "")},
    )
    outcome = _after_write(page, plan_id, response, "approved")
    if isinstance(outcome, Told):
        return await render_versions(page, plan_id, told=outcome, status=409)
    return outcome


@router.post("/plans/{plan_id}/versions/{number}/revise")
async def revise(request: Request, plan_id: str, number: int) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    if not may_plan(page):
        raise _forbidden(page)
    headers = {"idempotency-key": str(form["idempotency_key"])} if form.get("idempotency_key") else None
    response = await page.api.request("POST", f"{PLANNING}/plans/{plan_id}/versions/{number}:revise", headers=headers)
    outcome = _after_write(page, plan_id, response, "revised")
    if isinstance(outcome, Told):
        return await render_versions(page, plan_id, told=outcome, status=409)
    return outcome


@router.get("/plans/{plan_id}/versions/{number}/diff")
async def diff(request: Request, plan_id: str, number: int, against: int | None = None) -> Response:
    page = await signed_in_page(request)
    plan, found = await versions_of(page, plan_id)
    numbers = [v["number"] for v in found]
    if number not in numbers:
        raise ApiProblem(404, {"title": "Not found"})
    if against is None or against not in numbers:
        older = [n for n in numbers if n < number]
        against = max(older) if older else number
    base = f"{PLANNING}/plans/{plan_id}/tree"
    before, after = await asyncio.gather(
        page.api.get(base, params={"version": against}), page.api.get(base, params={"version": number})
    )
    return page.render(
        "plan_diff.html",
        title=page.gettext("Version %(number)s against version %(against)s", number=number, against=against),
        active="plans",
        plan=plan,
        plan_id=plan_id,
        number=number,
        against=against,
        numbers=numbers,
        diff=diff_documents(before, after),
        collection_names=COLLECTION_NAMES,
    )

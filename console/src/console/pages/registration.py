"""The registration form of one item and period: its definition beside it, the value, the history, the
certification state; the write is guarded by the ETag seen when the form was shown."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console.gateway import ApiProblem, problem_of
from console.i18n import typed_number
from console.pages import evidence
from console.pages.common import read_form, signed_in_page
from console.plans import Item, PlanIndex, plan_index
from console.problems import Told, tell
from console.web import Page

router = APIRouter(include_in_schema=False)
READ_ROLES = ("viewer", "planner", "certifier", "auditor", "budget")
COMPLETENESS = ("none", "partial", "full")


def base(plan_id: str, item_code: str, period: str) -> str:
    return f"/api/execution/v1/plans/{plan_id}/registrations/{item_code}/{period}"


def may_register(page: Page, index: PlanIndex, item: Item) -> bool:
    assert page.account is not None
    units = page.account.units_for("registrar", index.organisation.get("code"))
    return units is None or item.unit_code in units


def may_read(page: Page, index: PlanIndex, item: Item) -> bool:
    """Registrars see their own units' items; the other roles read the plan's registrations."""
    assert page.account is not None
    org = index.organisation.get("code")
    if any(page.account.units_for(role, org) != () for role in READ_ROLES):
        return True
    return may_register(page, index, item)


async def load(page: Page, plan_id: str, item_code: str, period: str) -> dict[str, Any]:
    api = page.api
    index, current, history, files, required, obligations = await asyncio.gather(
        plan_index(api, page.request.app.state.plan_cache, plan_id),
        api.request("GET", base(plan_id, item_code, period)),
        api.request("GET", base(plan_id, item_code, period) + "/versions"),
        evidence.list_evidence(api, plan_id, item_code, period),
        evidence.requirements(api, plan_id),
        api.request(
            "GET", "/api/execution/v1/obligations", params={"plan_id": plan_id, "period": period, "limit": 500}
        ),
    )
    item = index.items.get(item_code)
    if item is None:
        raise ApiProblem(404, {"title": "Not found"})
    if not may_read(page, index, item):
        # Said plainly rather than as the API's 404 (which hides another unit's registrations).
        detail = page.gettext("You do not register for unit %(unit)s.", unit=item.unit_code)
        raise ApiProblem(403, {"title": "Forbidden", "detail": detail})
    registration: dict[str, Any] | None = None
    etag = ""
    if current.status_code == 200:
        registration = current.json()
        etag = current.headers.get("etag", "")
    elif current.status_code != 404:
        raise problem_of(current)
    versions = history.json().get("versions", []) if history.status_code == 200 else []
    if registration is None:
        snapshot = await api.get(
            f"/api/execution/v1/plans/{plan_id}/registrations/current",
            params={"period_to": period, "item_code": item_code},
        )
        owed = [r for r in snapshot.get("items") or [] if r.get("period") == period]
        if not owed:
            raise ApiProblem(404, {"title": "Not found", "detail": f"{item_code} is not owed for {period}."})
        due = owed[0]
    else:
        due = registration
    owed = obligations.json().get("items", []) if obligations.status_code == 200 else []
    obligation = next((o for o in owed if o.get("item_code") == item_code), None)
    unlock = await unlock_requests_here(page, plan_id, item, period, obligation)
    return {
        "index": index,
        "item": item,
        "registration": registration,
        "etag": etag,
        "versions": versions,
        "due": due,
        "evidence": files,
        "evidence_source": required.get(item_code),
        "obligation": obligation,
        "band": (registration or obligation or {}).get("justification_band"),
        "unlock_requests": unlock,
    }


async def unlock_requests_here(
    page: Page, plan_id: str, item: Item, period: str, obligation: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """A registrar's requests to reopen this period for this item or its unit, when the period is closed to it."""
    if obligation is None or obligation.get("writable", True):
        return []
    response = await page.api.request(
        "GET", f"/api/execution/v1/plans/{plan_id}/unlock-requests", params={"period": period, "limit": 100}
    )
    if response.status_code != 200:
        return []
    return [
        r
        for r in response.json().get("items") or []
        if r.get("item_code") in (None, item.code) and r.get("unit_code") == item.unit_code
    ]


def values_of(registration: dict[str, Any] | None) -> dict[str, Any]:
    """The form's fields from the stored payload."""
    payload = dict((registration or {}).get("payload") or {})
    values: dict[str, Any] = {k: payload.get(k) or "" for k in ("value", "numerator", "denominator", "multiplier")}
    values.update(
        note=payload.get("note") or "",
        cumulative_percent=payload.get("cumulative_percent") or "",
        completeness=payload.get("completeness") or "",
        delivered_on=payload.get("delivered_on") or "",
        evidence="\n".join(payload.get("evidence") or []),
        sub_activities={s.get("name"): s.get("done_percent") for s in payload.get("sub_activities") or []},
        reason="",
        justification=(registration or {}).get("justification") or "",
    )
    if payload.get("numerator") not in (None, ""):
        values["value"] = ""
    return values


NUMERIC = ("value", "numerator", "denominator", "multiplier", "cumulative_percent")


def payload_from(form: Any, item: Item, lang: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The API payload from the form (numbers read as the person's language writes them, anything else sent as
    typed for the API to judge) and the values to show again as typed."""
    shown_text = {
        k: str(form.get(k) or "").strip() for k in form.keys() if not k.startswith("sub:") and k != evidence.FILES_FIELD
    }
    text = {k: typed_number(v, lang) if k in NUMERIC else v for k, v in shown_text.items()}
    typed_subs = {k.removeprefix("sub:"): str(form.get(k) or "").strip() for k in form.keys() if k.startswith("sub:")}
    subs = {k: typed_number(v, lang) for k, v in typed_subs.items()}
    payload: dict[str, Any] = {}
    if item.kind == "indicator":
        if text.get("numerator") or text.get("denominator"):
            payload.update(numerator=text.get("numerator", ""), denominator=text.get("denominator", ""))
            if text.get("multiplier"):
                payload["multiplier"] = text["multiplier"]
        else:
            payload["value"] = text.get("value", "")
    elif item.kind in ("product", "stage"):
        payload["completeness"] = text.get("completeness", "")
        if text.get("delivered_on"):
            payload["delivered_on"] = text["delivered_on"]
        references = [line.strip() for line in str(form.get("evidence") or "").splitlines() if line.strip()]
        if references:
            payload["evidence"] = references
    elif item.kind == "initiative":
        if any(subs.values()) and not text.get("cumulative_percent"):
            payload["sub_activities"] = [{"name": n, "done_percent": v or "0"} for n, v in subs.items()]
        else:
            payload["cumulative_percent"] = text.get("cumulative_percent", "")
    if text.get("note"):
        payload["note"] = text["note"]
    shown = {**shown_text, "sub_activities": typed_subs, "evidence": str(form.get("evidence") or "")}
    return payload, shown


def render(
    page: Page,
    data: dict[str, Any],
    plan_id: str,
    period: str,
    *,
    values: dict[str, Any],
    told: Told | None,
    status: int = 200,
    notice: str | None = None,
    checked: dict[str, Any] | None = None,
) -> Response:
    item: Item = data["item"]
    obligation = data["obligation"]
    return page.render(
        "registration.html",
        status=status,
        title=f"{item.code} · {period}",
        active="home",
        plan_id=plan_id,
        period=period,
        index=data["index"],
        item=item,
        registration=data["registration"],
        etag=data["etag"],
        versions=data["versions"],
        due=data["due"],
        values=values,
        told=told,
        notice=notice,
        may_register=may_register(page, data["index"], item),
        completeness=COMPLETENESS,
        evidence=data["evidence"],
        evidence_source=data["evidence_source"],
        file_size=lambda n: evidence.file_size(page.fmt, int(n)),
        band=data["band"],
        writable=obligation is None or obligation.get("writable", True),
        unlock_requests=data["unlock_requests"],
        here_url=f"/plans/{plan_id}/registrations/{item.code}/{period}",
        checked=checked,
    )


@router.get("/plans/{plan_id}/registrations/{item_code}/{period}")
async def registration_form(
    request: Request,
    plan_id: str,
    item_code: str,
    period: str,
    saved: str = "",
    added: str = "",
    asked: str = "",
    too_large: str = "",
    removed: str = "",
) -> Response:
    page = await signed_in_page(request)
    data = await load(page, plan_id, item_code, period)
    told = None
    if too_large.isdigit() and int(too_large) > 0:
        # The gateway sent the browser back here: the form's files were larger than a file may be (gateway/uploads.py).
        told = evidence.too_large(page, int(too_large))
    said = []
    if saved and data["registration"]:
        said.append(page.gettext("Saved as version %(n)s.", n=str(data["registration"]["version"])))
    if added.isdigit() and int(added) > 0:
        said.append(page.ngettext("%(num)s file added.", "%(num)s files added.", int(added)))
    if asked:
        said.append(page.gettext("Your request to reopen the period was sent to the planners."))
    if removed:
        said.append(page.gettext("The file was removed."))
    notice = " ".join(said) or None
    values = values_of(data["registration"])
    return render(page, data, plan_id, period, values=values, told=told, notice=notice)


@router.post("/plans/{plan_id}/registrations/{item_code}/{period}")
async def register(request: Request, plan_id: str, item_code: str, period: str) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    index = await plan_index(page.api, request.app.state.plan_cache, plan_id)
    item = index.items.get(item_code)
    if item is None:
        raise ApiProblem(404, {"title": "Not found"})
    payload, shown = payload_from(form, item, page.lang)
    if str(form.get("action") or "") == "check":
        return await check_value(page, form, plan_id, item_code, period, payload, shown)
    etag = str(form.get("etag") or "")
    headers = {"if-match": etag} if etag else {"if-none-match": "*"}
    body: dict[str, Any] = {"payload": payload}
    if shown.get("reason"):
        body["reason"] = shown["reason"]
    if shown.get("justification"):
        body["justification"] = shown["justification"]
    response = await page.api.request("PUT", base(plan_id, item_code, period), json=body, headers=headers)
    if response.status_code < 300:
        # Files chosen with the value go to the version just saved.
        stored, refused = await evidence.upload(page, plan_id, item_code, period, evidence.chosen_files(form))
        if refused:
            return await show_with_file_errors(page, plan_id, item_code, period, stored, refused, saved=True)
        added = f"&added={len(stored)}" if stored else ""
        return page.redirect(f"/plans/{plan_id}/registrations/{item_code}/{period}?saved=1{added}")
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    data = await load(page, plan_id, item_code, period)
    # The person's input is kept on the page; the form now carries the current ETag only after a reload.
    data["etag"] = etag
    status = problem.status if problem.status in (403, 409, 412, 422, 428, 429) else 503
    told = tell(problem, page.gettext, page.fmt.number)
    if evidence.chosen_files(form):
        told.fields.setdefault(evidence.FILES_FIELD, []).append(
            page.gettext("Nothing was saved: choose the files again.")
        )
    return render(page, data, plan_id, period, values=shown, told=told, status=status)


async def check_value(
    page: Page, form: Any, plan_id: str, item_code: str, period: str, payload: dict[str, Any], shown: dict[str, Any]
) -> Response:
    """The "Check" button: execution's dry run of the value (`:check`) — whether it needs a justification and which
    warnings it would get — shown beside the form, which keeps what was typed. Nothing is saved."""
    body = {"payload": payload, "justification": shown.get("justification") or None}
    response = await page.api.request("POST", base(plan_id, item_code, period) + ":check", json=body)
    data = await load(page, plan_id, item_code, period)
    data["etag"] = str(form.get("etag") or "")
    if response.status_code >= 300:
        problem = problem_of(response)
        if problem.status == 401:
            raise problem
        status = problem.status if problem.status in (403, 404, 409, 422, 429) else 503
        return render(page, data, plan_id, period, values=shown, told=tell(problem, page.gettext), status=status)
    checked: dict[str, Any] = response.json()
    told = None
    if checked.get("errors"):  # what saving would refuse, beside its field
        band = checked.get("justification_band")
        problem = ApiProblem(422, {"errors": checked["errors"], "justification_band": band})
        told = tell(problem, page.gettext, page.fmt.number)
        # A check is not a failed save: the top line says what the check found, the fields say why.
        told.message = page.gettext(
            "Checked: saving this value as it is would be refused for the reasons shown; nothing was saved."
        )
    if evidence.chosen_files(form):
        told = told or Told(page.gettext("Checked; nothing was saved."))
        told.fields.setdefault(evidence.FILES_FIELD, []).append(
            page.gettext("Nothing was saved: choose the files again.")
        )
    return render(page, data, plan_id, period, values=shown, told=told, checked=checked)


async def show_with_file_errors(
    page: Page,
    plan_id: str,
    item_code: str,
    period: str,
    stored: list[str],
    refused: list[str],
    *,
    saved: bool = False,
    message: str | None = None,
) -> Response:
    """The page after an upload some files of which were refused: what was stored said, each refusal beside the
    file field (the refused files are not kept: the person chooses them again)."""
    data = await load(page, plan_id, item_code, period)
    said = []
    if saved and data["registration"]:
        said.append(page.gettext("Saved as version %(n)s.", n=str(data["registration"]["version"])))
    if stored:
        said.append(page.ngettext("%(num)s file added.", "%(num)s files added.", len(stored)))
    told = Told(message or page.gettext("Some files were not stored."), {evidence.FILES_FIELD: refused})
    values = values_of(data["registration"])
    notice = " ".join(said) or None
    return render(page, data, plan_id, period, values=values, told=told, status=422, notice=notice)


@router.post("/plans/{plan_id}/registrations/{item_code}/{period}/certification")
async def certification(request: Request, plan_id: str, item_code: str, period: str) -> Response:
    page = await signed_in_page(request)
    form = await read_form(request, page)
    action = str(form.get("action") or "")
    etag = str(form.get("etag") or "")
    target = base(plan_id, item_code, period)
    if action == "reject":
        reason = str(form.get("reason") or "").strip()
        response = await page.api.request(
            "POST", target + ":reject", json={"reason": reason}, headers={"if-match": etag}
        )
    else:
        response = await page.api.request("POST", target + ":certify", headers={"if-match": etag})
    if response.status_code < 300:
        return page.redirect(f"/plans/{plan_id}/registrations/{item_code}/{period}")
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    data = await load(page, plan_id, item_code, period)
    data["etag"] = etag
    status = problem.status if problem.status in (403, 409, 412, 422, 428) else 503
    told = tell(problem, page.gettext)
    return render(page, data, plan_id, period, values=values_of(data["registration"]), told=told, status=status)


async def show_with_unlock_problem(
    page: Page, plan_id: str, item_code: str, period: str, told: Told, reason: str, status: int
) -> Response:
    """The registration page after a refused request to reopen its period, the reason typed kept."""
    data = await load(page, plan_id, item_code, period)
    values = {**values_of(data["registration"]), "unlock_reason": reason}
    shown = status if status in (403, 404, 409, 422) else 503
    return render(page, data, plan_id, period, values=values, told=told, status=shown)

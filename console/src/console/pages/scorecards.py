"""Scorecards: a plan's evaluation as organisation → parameter or team → objective → item with scores and states
(provisional or final, plainly marked), its official documents, and an item's page — the trend of its monthly
values against the meta and tolerance band, the step-by-step explanation of its score, "what if" and "what do I
need". Everything is read from the scoring, planning and execution APIs as the signed-in person."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console import chart as trend
from console import scorecard, trace
from console.gateway import Api, ApiProblem, problem_of
from console.i18n import typed_number
from console.pages.common import read_form, signed_in_page
from console.pages.compliance import month_labels
from console.plans import PlanIndex
from console.problems import Told, field_message, tell
from console.web import Page

router = APIRouter(include_in_schema=False)
SCORING = "/api/scoring/v1"
EVALUATORS = ("planner", "certifier")
FORMATS = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
FORMATS["csv"] = "text/csv"
# Rules whose result is one number the what-if form can take (composites need their components; products dates).
SIMPLE_RULES = ("general", "ratio", "threshold", "step_table", "quar_realization")


def plan_url(plan_id: str) -> str:
    return f"/plans/{quote(plan_id, safe='')}/scorecard"


async def plan_document(page: Page, plan_id: str, version: int | None) -> dict[str, Any]:
    """The plan document of the evaluated version, revalidated by its ETag (versions are kept per number)."""
    cache: dict[str, tuple[str, dict[str, Any]]] = page.request.app.state.plan_cache.setdefault("scorecards", {})
    key = f"{plan_id}@{version}"
    cached = cache.get(key)
    response = await page.api.request(
        "GET",
        f"/api/planning/v1/plans/{quote(plan_id, safe='')}/tree",
        params={"version": version},
        headers={"if-none-match": cached[0]} if cached else None,
    )
    if response.status_code == 304 and cached:
        return cached[1]
    if response.status_code >= 400:
        raise problem_of(response)
    document: dict[str, Any] = response.json()
    if response.headers.get("etag"):
        cache[key] = (response.headers["etag"], document)
    return document


async def evaluations_of(api: Api, plan_id: str) -> list[dict[str, Any]]:
    found = await api.get(f"{SCORING}/evaluations", params={"plan_id": plan_id, "limit": 50})
    return list(found.get("items") or [])


async def evaluation(api: Api, plan_id: str, evaluation_id: str) -> dict[str, Any]:
    run: dict[str, Any] = await api.get(f"{SCORING}/evaluations/{quote(evaluation_id, safe='')}")
    if run.get("plan_id") != plan_id:
        raise ApiProblem(404, {"title": "Not found"})
    return run


def may_evaluate(page: Page) -> bool:
    return page.account is not None and page.account.has(*EVALUATORS)


def default_evaluation(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The published final evaluation (the newest revision) when there is one, else the newest evaluation."""
    finals = [r for r in runs if r.get("kind") == "final"]
    return (finals or runs)[0] if runs else None


@router.get("/plans/{plan_id}/scorecard")
async def scorecard_home(request: Request, plan_id: str) -> Response:
    page = await signed_in_page(request)
    runs = await evaluations_of(page.api, plan_id)
    chosen = default_evaluation(runs)
    if chosen is not None:
        return page.redirect(f"{plan_url(plan_id)}/{quote(chosen['id'], safe='')}")
    document = await plan_document(page, plan_id, None)
    return page.render(
        "scorecard.html",
        title=page.gettext("Scorecard"),
        active="plans",
        plan_id=plan_id,
        document=document,
        run=None,
        runs=[],
        may_evaluate=may_evaluate(page),
        tz=PlanIndex(document).timezone,
    )


@router.post("/plans/{plan_id}/scorecard")
async def evaluate_now(request: Request, plan_id: str) -> Response:
    """A provisional evaluation made now (POST-redirect-GET to it)."""
    page = await signed_in_page(request)
    await read_form(request, page)
    response = await page.api.request("POST", f"{SCORING}/evaluations", json={"plan_id": plan_id})
    if response.status_code >= 300:
        problem = problem_of(response)
        if problem.status == 401:
            raise problem
        document = await plan_document(page, plan_id, None)
        status = problem.status if problem.status in (403, 404, 409, 422) else 503
        return page.render(
            "scorecard.html",
            status=status,
            title=page.gettext("Scorecard"),
            active="plans",
            plan_id=plan_id,
            document=document,
            run=None,
            runs=await evaluations_of(page.api, plan_id),
            may_evaluate=may_evaluate(page),
            told=tell(problem, page.gettext),
            tz=PlanIndex(document).timezone,
        )
    return page.redirect(f"{plan_url(plan_id)}/{quote(response.json()['id'], safe='')}")


def explained(root: scorecard.Node, page: Page) -> scorecard.Node:
    """The steps of the organisation's, each parameter's or team's and each objective's figure, in the person's
    language."""
    for node in (root, *root.children, *(o for branch in root.children for o in branch.children)):
        node.extra["steps"] = trace.steps(node.extra.get("steps"), page.gettext, page.fmt.number)
    return root


@router.get("/plans/{plan_id}/scorecard/{evaluation_id}")
async def scorecard_page(request: Request, plan_id: str, evaluation_id: str) -> Response:
    page = await signed_in_page(request)
    run, runs = await asyncio.gather(evaluation(page.api, plan_id, evaluation_id), evaluations_of(page.api, plan_id))
    document = await plan_document(page, plan_id, run.get("plan_version"))
    results = run.get("results") or {}
    return page.render(
        "scorecard.html",
        title=page.gettext("Scorecard"),
        active="plans",
        plan_id=plan_id,
        document=document,
        run=run,
        runs=runs,
        tree=explained(scorecard.build(document, results), page),
        bands=scorecard.bands_of(document),
        missing=scorecard.missing_items(results),
        tz=PlanIndex(document).timezone,
        may_evaluate=may_evaluate(page),
    )


@router.get("/plans/{plan_id}/scorecard/{evaluation_id}/report")
async def report(request: Request, plan_id: str, evaluation_id: str, format: str = "pdf") -> Response:
    """The evaluation's official document as the scoring service made it from the stored snapshot."""
    page = await signed_in_page(request)
    if format not in FORMATS:
        raise ApiProblem(404, {"title": "Not found"})
    await evaluation(page.api, plan_id, evaluation_id)
    answer = await page.api.call(
        "GET", f"{SCORING}/evaluations/{quote(evaluation_id, safe='')}/report", params={"format": format}
    )
    headers = {
        "content-disposition": answer.headers.get("content-disposition", f'attachment; filename="report.{format}"')
    }
    return Response(answer.content, media_type=FORMATS[format], headers=headers)


# --- one item ---------------------------------------------------------------------------------------------


def _field_errors(problem: ApiProblem, gettext: Any, *, target_field: str) -> Told:
    """The API's errors beside the form's fields: a hypothetical result → `value`, the inverse target → `target`."""
    told = tell(problem, gettext)
    if problem.status != 422:
        return told
    told.fields = {}
    for error in problem.errors:
        path = str(error.get("path", ""))
        name = "target" if path.startswith("target") else "value" if path.startswith("results") else target_field
        message = str(error.get("message", "")).removeprefix("Value error, ")  # pydantic's prefix of a refusal
        told.fields.setdefault(name, []).append(field_message(gettext, message))
    return told


async def item_data(page: Page, plan_id: str, evaluation_id: str, code: str) -> dict[str, Any]:
    run = await evaluation(page.api, plan_id, evaluation_id)
    document, registrations = await asyncio.gather(
        plan_document(page, plan_id, run.get("plan_version")),
        page.api.get(
            f"/api/execution/v1/plans/{quote(plan_id, safe='')}/registrations",
            params={"item_code": code, "limit": 500},
        ),
    )
    tree = scorecard.build(document, run.get("results") or {})
    node, ancestors = scorecard.find(tree, code)
    if node is None:
        raise ApiProblem(404, {"title": "Not found"})
    results = run.get("results") or {}
    section = "indicators" if node.level == "indicator" else "products"
    score = (results.get(section) or {}).get(code) or {}
    item = next(i for i in document.get(section) or [] if i["code"] == code)
    year = int((document.get("plan") or {}).get("cycle_year") or 0)
    periods = [f"{year}-{m:02d}" for m in range(1, 13)]
    by_period = {
        str(r.get("period")): trend.value_of(r.get("payload"))
        for r in registrations.get("items") or []
        if r.get("certification") != "rejected"
    }
    chart = (
        trend.build(periods, by_period, item.get("meta"), item.get("tolerance")) if section == "indicators" else None
    )
    rule = str((item.get("scoring_rule") or {}).get("kind") or "")
    return {
        "run": run,
        "document": document,
        "node": node,
        "ancestors": ancestors,
        "item": item,
        "score": score,
        "steps": trace.steps(score.get("steps"), page.gettext, page.fmt.number),
        "chart": chart,
        "bands": scorecard.bands_of(document),
        "simulable": section == "indicators" and rule in SIMPLE_RULES,
        "framework": scorecard.bands_of(document).framework,
        "month_labels": month_labels(periods, page.lang),
        "tz": PlanIndex(document).timezone,
    }


async def render_item(
    page: Page,
    plan_id: str,
    evaluation_id: str,
    code: str,
    *,
    status: int = 200,
    told: Told | None = None,
    values: dict[str, str] | None = None,
    simulated: dict[str, Any] | None = None,
    inverse: dict[str, Any] | None = None,
) -> Response:
    data = await item_data(page, plan_id, evaluation_id, code)
    return page.render(
        "scorecard_item.html",
        status=status,
        title=f"{code} · {page.gettext('Scorecard')}",
        active="plans",
        plan_id=plan_id,
        told=told,
        values=values or {},
        simulated=simulated,
        inverse=inverse,
        here_url=f"{plan_url(plan_id)}/{quote(evaluation_id, safe='')}/items/{quote(code, safe='')}",
        **data,
    )


@router.get("/plans/{plan_id}/scorecard/{evaluation_id}/items/{code}")
async def item_page(request: Request, plan_id: str, evaluation_id: str, code: str) -> Response:
    page = await signed_in_page(request)
    return await render_item(page, plan_id, evaluation_id, code)


@router.post("/plans/{plan_id}/scorecard/{evaluation_id}/items/{code}")
async def item_question(request: Request, plan_id: str, evaluation_id: str, code: str) -> Response:
    """ "What if" (a hypothetical result scored with the other current registrations) or "what do I need" (the
    least demanding result reaching a score, a team grade or an objective rate). Nothing is stored."""
    page = await signed_in_page(request)
    form = await read_form(request, page)
    values = {k: str(form.get(k) or "").strip() for k in ("action", "value", "target", "target_kind")}
    run = await evaluation(page.api, plan_id, evaluation_id)
    scenario: dict[str, Any] = {
        "plan_id": plan_id,
        "version": run.get("plan_version"),
        "use_registrations": True,
        "period_to": run.get("period_to"),
    }
    if values["action"] == "simulate":
        if not values["value"]:
            told = Told(page.gettext("Some values need fixing; nothing was saved."))
            told.fields["value"] = [page.gettext("This field is required.")]
            return await render_item(page, plan_id, evaluation_id, code, status=422, told=told, values=values)
        body = {**scenario, "results": {code: {"value": typed_number(values["value"], page.lang)}}}
        response = await page.api.request("POST", f"{SCORING}/simulations", json=body)
        if response.status_code < 300:
            return await render_item(
                page, plan_id, evaluation_id, code, values=values, simulated=simulated_view(response.json(), run, code)
            )
        target_field = "value"
    elif values["action"] == "inverse":
        if not values["target"]:
            told = Told(page.gettext("Some values need fixing; nothing was saved."))
            told.fields["target"] = [page.gettext("This field is required.")]
            return await render_item(page, plan_id, evaluation_id, code, status=422, told=told, values=values)
        kind = values["target_kind"] if values["target_kind"] in ("score", "team_grade", "objective_rate") else "score"
        body = {
            **scenario,
            "item_code": code,
            "target": {"kind": kind, "value": typed_number(values["target"], page.lang)},
        }
        response = await page.api.request("POST", f"{SCORING}/simulations:inverse", json=body)
        if response.status_code < 300:
            return await render_item(page, plan_id, evaluation_id, code, values=values, inverse=response.json())
        target_field = "target"
    else:
        return await render_item(
            page, plan_id, evaluation_id, code, status=422, told=Told(page.gettext("Not understood."))
        )
    problem = problem_of(response)
    if problem.status == 401:
        raise problem
    status = problem.status if problem.status in (403, 404, 409, 422) else 503
    told = _field_errors(problem, page.gettext, target_field=target_field)
    return await render_item(page, plan_id, evaluation_id, code, status=status, told=told, values=values)


def simulated_view(answer: dict[str, Any], run: dict[str, Any], code: str) -> dict[str, Any]:
    """The hypothetical score of the item and of what contains it (the team grade of an Acordo, the objective and
    final rates of a QUAR), each beside the evaluation's figure."""
    results, stored = answer.get("results") or {}, run.get("results") or {}
    score = (results.get("indicators") or {}).get(code) or {}
    rows: list[tuple[str, str, Any, Any]] = []  # (kind, code, evaluation's, simulated)
    unit = next((u for u, t in (results.get("teams") or {}).items() if code in _team_items(t)), None)
    if unit is not None:
        rows.append(("team", unit, _value(stored, "teams", unit), _value(results, "teams", unit)))
    for objective, found in (results.get("objectives") or {}).items():
        if code in ((found.get("steps") or [{}])[0].get("values") or {}):
            rows.append(("objective", objective, _rate(stored, objective), found.get("rate")))
    if results.get("final"):
        rows.append(("final", "", (stored.get("final") or {}).get("rate"), results["final"].get("rate")))
    return {"score": score, "rows": rows}


def _value(results: dict[str, Any], section: str, code: str) -> Any:
    return ((results.get(section) or {}).get(code) or {}).get("value")


def _rate(results: dict[str, Any], code: str) -> Any:
    return ((results.get("objectives") or {}).get(code) or {}).get("rate")


def _team_items(team: dict[str, Any]) -> set[str]:
    """The goals a team grade is made of (its formula's terms, and those left out)."""
    step = (team.get("steps") or [{}])[0]
    return set((step.get("values") or {}).keys()) | set(team.get("missing") or []) | set(team.get("set_aside") or [])

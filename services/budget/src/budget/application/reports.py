"""Reports over the stored amounts and the reconciliation of the published tables (the figures; the routers
render them as JSON or CSV)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from budget.application.amounts import field_error
from budget.application.context import Published, load, published
from budget.application.scope import BudgetState, require_budget
from budget.db import repositories as repo
from budget.domain.amounts import Breakdown
from budget.domain.reconciliation import CheckResult, run_checks
from budget.domain.reports import CumulativeRow, Report, ReportError, cumulative, planned_vs_executed, report_breakdown
from metas_kit.auth import Principal
from metas_kit.errors import NotFound

Initiatives = dict[str, list[dict[str, str]]]


@dataclass(frozen=True, slots=True)
class PlannedVsExecuted:
    report: Report
    rubric_names: Mapping[str, str] | None  # of the code table in force, when grouped by rubric
    initiatives: Initiatives | None  # by sub-investment, when grouped by sub-investment


async def planned_vs_executed_report(
    session: AsyncSession,
    state: BudgetState,
    who: Principal,
    dims: list[str],
    *,
    breakdown: str | None,
    year: int | None,
    rubric_level: int | None,
) -> PlannedVsExecuted:
    require_budget(who, state)
    chosen = report_breakdown(dims, Breakdown(breakdown) if breakdown else None)
    rubric_names: Mapping[str, str] | None = None
    if "rubric" in dims:  # the rows name their rubric from the code table in force: the whole context
        rubric_names = (await load(session, state.cache)).codes.codes
        entries = await repo.grouped_entries(session, breakdown=chosen, year=year)
    else:
        # Nothing of the context is needed but that a budget is loaded: asked in the amounts' statement. Only
        # when no amount comes back does the context tell "not loaded" (409, as before) from "no amounts".
        entries = await repo.grouped_entries(session, breakdown=chosen, year=year, loaded_only=True)
        if not entries:
            await load(session, state.cache)
    try:
        report = planned_vs_executed(entries, dims, chosen, rubric_level=rubric_level, year=year)
    except ReportError as exc:
        raise field_error(exc.field, str(exc)) from None
    links: Initiatives | None = None
    if "subinvestment" in dims:  # sub-investment rows carry the planning initiatives linked to them
        links = {}
        for link in await repo.links_of(session):
            links.setdefault(link.subinvestment, []).append(
                {"plan_id": link.plan_id, "initiative_code": link.initiative_code}
            )
    return PlannedVsExecuted(report, rubric_names, links)


async def cumulative_report(
    session: AsyncSession, state: BudgetState, who: Principal, *, by: str, up_to_year: int
) -> list[CumulativeRow]:
    require_budget(who, state)
    ctx = await load(session, state.cache)
    pb = ctx.published.budget
    costs: dict[str | int, Decimal | None]
    if by == "eixo":
        costs = {e.number: e.total_cost for e in pb.funded_eixos}
    else:
        costs = {s.code_table19: s.total_estimated for s in pb.subinvestments}
    return cumulative(await repo.grouped_entries(session, breakdown=Breakdown.SUBINVESTMENT), by, costs, up_to_year)


async def reconciliation(
    session: AsyncSession, state: BudgetState, who: Principal, *, published_id: int | None
) -> tuple[Published, list[CheckResult]]:
    require_budget(who, state)
    ctx = await load(session, state.cache)
    chosen = ctx.published
    if published_id is not None and published_id != chosen.row.id:
        found = await published(session, state.cache, published_id)
        if found is None:
            raise NotFound(f"Published budget {published_id} does not exist.")
        chosen = found
    return chosen, run_checks(chosen.budget, ctx.codes)

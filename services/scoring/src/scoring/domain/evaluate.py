"""One evaluation, as a pure function of its stored inputs: `evaluate(inputs) -> results`.

The inputs snapshot holds everything the result depends on (plan document, registrations,
committee decisions, options and the computed January cut-off), so re-running `evaluate` on a
stored snapshot reproduces the grade exactly, whatever happened to the plan or registrations since.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import metas_rules
from metas_rules.engine import (
    AcordoPlan,
    AcordoResult,
    QuarObjective,
    QuarParameter,
    QuarPlan,
    QuarResult,
    evaluate_acordo,
    evaluate_quar,
    product_cutoff,
)
from scoring.domain.calendar import business_day_predicate
from scoring.domain.inputs import (
    Committee,
    dec,
    deliveries,
    indicator_facts,
    latest_payloads,
    observations,
    product_facts,
    zeroed_for_missing,
)

ENGINE_VERSION = f"metas_rules {metas_rules.RULES_VERSION}"


def canonical_hash(document: Any) -> str:
    raw = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(raw).hexdigest()


def cutoff_for(tree: Mapping[str, Any]) -> date | None:
    """Last business day of January after the cycle, on the plan's calendar (Acordo only)."""
    plan = tree["plan"]
    if plan.get("framework") != "acordo_resultados":
        return None
    year = int(plan["cycle_year"])
    return product_cutoff(year, business_day_predicate(plan.get("calendar"), range(year, year + 2)))


def registration_cutoff(tree: Mapping[str, Any]) -> date:
    """Last business day of January after the cycle, on the plan's calendar: registrations of the year close
    then (docs/domain.md §2.4), so a final evaluation can be made only after it (§6)."""
    plan = tree["plan"]
    year = int(plan["cycle_year"])
    return product_cutoff(year, business_day_predicate(plan.get("calendar"), range(year, year + 2)))


def cycle_periods(tree: Mapping[str, Any]) -> list[str]:
    year = int(tree["plan"]["cycle_year"])
    return [f"{year:04d}-{month:02d}" for month in range(1, 13)]


def committee_decisions(committee: Mapping[str, Any], *, by: str, at: str) -> list[dict[str, Any]]:
    """The committee's decisions, one per item, with who, when and why (stored in a final snapshot)."""
    reasons = committee.get("reasons") or {}
    out: list[dict[str, Any]] = [
        {"item_code": code, "decision": "set_aside", "reason": reasons.get(code), "by": by, "at": at}
        for code in committee.get("set_aside") or []
    ]
    for code, partial in (committee.get("partial_scores") or {}).items():
        out.append(
            {
                "item_code": code,
                "decision": "partial_score",
                "score": partial["score"],
                "reason": partial.get("justification"),
                "by": by,
                "at": at,
            }
        )
    for code, given in (committee.get("inputs") or {}).items():
        out.append(
            {"item_code": code, "decision": "inputs", "inputs": given, "reason": reasons.get(code), "by": by, "at": at}
        )
    return out


def make_inputs(
    tree: Mapping[str, Any],
    registrations: Mapping[str, Any],
    *,
    committee: Mapping[str, Any] | None = None,
    period_to: str | None = None,
    as_of: str | None = None,
    n1: str | None = None,
    certified_only: bool = False,
    plan_etag: str | None = None,
    final: bool = False,
) -> dict[str, Any]:
    cutoff = cutoff_for(tree)
    certified_only = certified_only or final  # a final evaluation reads certified results only (§6)
    return {
        "plan": tree,
        "plan_etag": plan_etag,
        "registrations": registrations,
        "committee": dict(committee or {}),
        "options": {
            "period_to": period_to,
            "as_of": as_of,
            "n1": n1,
            "certified_only": certified_only,
            **({"final": True} if final else {}),  # absent on provisional runs: their stored hashes stay valid
        },
        "cutoff": None if cutoff is None else cutoff.isoformat(),
        "rules_version": metas_rules.RULES_VERSION,
    }


@dataclass(frozen=True)
class Run:
    framework: str
    acordo_plan: AcordoPlan | None
    quar_plan: QuarPlan | None
    acordo: AcordoResult | None
    quar: QuarResult | None


def teams_of(tree: Mapping[str, Any]) -> tuple[str, ...]:
    teams = [u["code"] for u in tree.get("units") or [] if u.get("kind") == "team"]
    if teams:
        return tuple(teams)
    seen: dict[str, None] = {}
    for item in (*(tree.get("indicators") or []), *(tree.get("products") or [])):
        if item.get("unit_code"):
            seen[item["unit_code"]] = None
    return tuple(seen)


def run(inputs: Mapping[str, Any]) -> Run:
    tree = inputs["plan"]
    options = inputs.get("options") or {}
    committee = Committee.from_json(inputs.get("committee"))
    payloads = latest_payloads(
        inputs.get("registrations") or {},
        period_to=options.get("period_to"),
        certified_only=bool(options.get("certified_only")),
    )
    final = bool(options.get("final"))
    obs = observations(tree, payloads, committee, final=final)
    framework = tree["plan"]["framework"]
    if framework == "quar":
        qp = quar_plan(tree)
        return Run(framework, None, qp, None, evaluate_quar(qp, obs))
    ap = acordo_plan(tree, inputs.get("cutoff"))
    as_of = options.get("as_of")
    result = evaluate_acordo(
        ap,
        obs,
        deliveries(tree, payloads, committee, final=final),
        as_of=date.fromisoformat(as_of) if as_of else None,
        n1=dec(options.get("n1")),
    )
    return Run(framework, ap, None, result, None)


def acordo_plan(tree: Mapping[str, Any], cutoff: str | None) -> AcordoPlan:
    productivity = ((tree["plan"].get("acordo") or {}).get("productivity")) or {}
    return AcordoPlan(
        units=teams_of(tree),
        indicators=tuple(indicator_facts(tree)),
        products=tuple(product_facts(tree)),
        cutoff=date.fromisoformat(cutoff) if cutoff else None,
        n1_weight=dec(productivity.get("n1_weight")) or Decimal("0.70"),
        n2_weight=dec(productivity.get("n2_weight")) or Decimal("0.30"),
    )


def quar_plan(tree: Mapping[str, Any]) -> QuarPlan:
    quar = tree["plan"].get("quar") or {}
    return QuarPlan(
        indicators=tuple(indicator_facts(tree)),
        objectives=tuple(
            QuarObjective(o["code"], o["parameter_code"], Decimal(str(o["weight"])), o.get("relevant"))
            for o in tree.get("operational_objectives") or []
        ),
        parameters=tuple(QuarParameter(p["code"], Decimal(str(p["weight"]))) for p in tree.get("parameters") or []),
        relevance="computed" if quar.get("relevance") == "computed" else "explicit",
        relevance_threshold_percent=dec(quar.get("relevance_threshold_percent")) or Decimal(50),
    )


def summary(r: Run) -> dict[str, Any]:
    if r.acordo is not None:
        return {
            "framework": r.framework,
            "teams": {u: (None if t.value is None else format(t.value, "f")) for u, t in r.acordo.teams.items()},
            "complete": all(t.complete for t in r.acordo.teams.values()),
            "productivity": {u: format(v, "f") for u, (v, _) in r.acordo.productivity.items()},
        }
    assert r.quar is not None
    q = r.quar
    return {
        "framework": r.framework,
        "final_rate": None if q.final.rate is None else format(q.final.rate, "f"),
        "complete": q.final.complete,
        "mention": q.mention,
        "mention_label": q.mention_label,
        "parameters": {c: (None if p.rate is None else format(p.rate, "f")) for c, p in q.parameters.items()},
        "objectives": {c: (None if o.rate is None else format(o.rate, "f")) for c, o in q.objectives.items()},
    }


def results_document(r: Run) -> dict[str, Any]:
    body = r.acordo.to_dict() if r.acordo is not None else r.quar.to_dict() if r.quar is not None else {}
    return {"engine": ENGINE_VERSION, "summary": summary(r), **body}


def applied_rules(inputs: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, str]:
    """Which rule decided each item of a final evaluation: `missing → 0`, `set aside` or `scored`
    (anything else is the engine's status, e.g. `not_scorable`)."""
    tree = inputs["plan"]
    options = inputs.get("options") or {}
    payloads = latest_payloads(
        inputs.get("registrations") or {}, period_to=options.get("period_to"), certified_only=True
    )
    zeroed = zeroed_for_missing(tree, payloads, Committee.from_json(inputs.get("committee")))
    out: dict[str, str] = {}
    for section in ("indicators", "products"):
        for code, score in (document.get(section) or {}).items():
            stages = [s["code"] for s in _product(tree, code).get("stages") or []] if section == "products" else []
            if score["status"] == "set_aside":
                out[code] = "set aside"
            elif code in zeroed or (stages and all(s in zeroed for s in stages)):
                out[code] = "missing → 0"
            elif score["status"] == "scored" and any(s in zeroed for s in stages):
                out[code] = "scored (stages missing → 0: " + ", ".join(s for s in stages if s in zeroed) + ")"
            else:
                out[code] = score["status"]
    return out


def _product(tree: Mapping[str, Any], code: str) -> Mapping[str, Any]:
    return next((p for p in tree.get("products") or [] if p["code"] == code), {})


def evaluate(inputs: Mapping[str, Any]) -> dict[str, Any]:
    document = results_document(run(inputs))
    causes = (inputs.get("committee") or {}).get("causes")
    if causes:
        document["deviation_causes"] = dict(causes)
    if (inputs.get("options") or {}).get("final"):
        document["applied"] = applied_rules(inputs, document)
    return document

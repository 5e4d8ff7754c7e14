"""The inputs of one evaluation: plan document, current registrations, committee decisions.

Pure mapping from those JSON documents to the engine's facts and observations. Readings:
- V0 of an Acordo indicator = its reference value of cycle_year − 1 (docs/domain.md §2.1).
- The result of an item = the registration of its most recent registered period up to
  `period_to` (rejected registrations are ignored; `certified_only` keeps certified ones only).
- A QUAR indicator with no registration of its own takes the mean of the execution rates of the
  initiatives that feed it (`indicator_code`), docs/domain.md §4.
- Committee decisions (set-aside goals, partial-delivery scores with justification, component
  inputs, reference index) come with the evaluation request and are stored in its snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from metas_rules import parse_rule
from metas_rules.decimal_ops import q2
from metas_rules.engine import Delivery, IndicatorFacts, Observation, ProductFacts, StageFacts


def dec(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


@dataclass(frozen=True)
class Committee:
    set_aside: frozenset[str] = frozenset()
    partial_scores: Mapping[str, tuple[Decimal, str]] = field(default_factory=dict)
    components: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)
    reference_index: Mapping[str, Decimal] = field(default_factory=dict)
    quantities: Mapping[str, Decimal] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Committee:
        data = data or {}
        partial = {
            code: (Decimal(str(v["score"])), str(v.get("justification") or ""))
            for code, v in (data.get("partial_scores") or {}).items()
        }
        comps: dict[str, dict[str, Decimal]] = {}
        ref: dict[str, Decimal] = {}
        qty: dict[str, Decimal] = {}
        for code, v in (data.get("inputs") or {}).items():
            if v.get("components"):
                comps[code] = {k: Decimal(str(x)) for k, x in v["components"].items()}
            if v.get("reference_index") is not None:
                ref[code] = Decimal(str(v["reference_index"]))
            if v.get("quantity") is not None:
                qty[code] = Decimal(str(v["quantity"]))
        return cls(frozenset(data.get("set_aside") or ()), partial, comps, ref, qty)


def indicator_facts(tree: Mapping[str, Any]) -> list[IndicatorFacts]:
    year = int(tree["plan"]["cycle_year"])
    out = []
    for ind in tree.get("indicators") or []:
        refs = ind.get("reference_values") or {}
        out.append(
            IndicatorFacts(
                code=ind["code"],
                rule=parse_rule(ind["scoring_rule"]),
                polarity=ind["polarity"],
                meta=dec(ind.get("meta")),
                tolerance=dec(ind.get("tolerance")),
                critical_value=dec(ind.get("critical_value")),
                reference_value=dec(refs.get(str(year - 1))),
                unit_code=ind.get("unit_code"),
                weight=dec(ind.get("weight")) or Decimal(0),
                objective_code=ind.get("objective_code"),
            )
        )
    return out


def product_facts(tree: Mapping[str, Any]) -> list[ProductFacts]:
    out = []
    for p in tree.get("products") or []:
        stages = tuple(
            StageFacts(s["code"], date.fromisoformat(s["due_date"]), dec(s.get("weight")))
            for s in p.get("stages") or []
        )
        out.append(
            ProductFacts(
                code=p["code"],
                rule=parse_rule(p["scoring_rule"]),
                due_date=date.fromisoformat(p["due_date"]) if p.get("due_date") else None,
                unit_code=p.get("unit_code"),
                weight=dec(p.get("weight")) or Decimal(0),
                stages=stages,
            )
        )
    return out


def latest_payloads(
    registrations: Mapping[str, Any], *, period_to: str | None, certified_only: bool = False
) -> dict[str, dict[str, Any]]:
    """item_code → payload of its latest registered period (≤ period_to)."""
    best: dict[str, tuple[str, dict[str, Any]]] = {}
    for row in registrations.get("items") or []:
        if not row.get("registered") or row.get("payload") is None:
            continue
        if row.get("certification") == "rejected" or (certified_only and not row.get("certified")):
            continue
        period = str(row["period"])
        if period_to is not None and period > period_to:
            continue
        code = row["item_code"]
        if code not in best or period > best[code][0]:
            best[code] = (period, dict(row["payload"]))
    return {code: payload for code, (_, payload) in best.items()}


def payload_value(payload: Mapping[str, Any]) -> Decimal | None:
    if payload.get("value") is not None:
        return dec(payload["value"])
    if payload.get("numerator") is not None and payload.get("denominator") not in (None, "0", 0):
        mult = dec(payload.get("multiplier")) or Decimal(1)
        num, den = dec(payload["numerator"]), dec(payload["denominator"])
        if num is None or den is None:  # pragma: no cover - checked above
            return None
        return num / den * mult
    return None


def observations(
    tree: Mapping[str, Any], payloads: Mapping[str, Mapping[str, Any]], committee: Committee, *, final: bool = False
) -> dict[str, Observation]:
    """At a final evaluation an owed indicator without a result scores 0 unless set aside (docs/domain.md §6);
    indicators derived from other teams' grades are computed, never owed."""
    initiative_rates: dict[str, list[Decimal]] = {}
    for ini in tree.get("initiatives") or []:
        rate = (payloads.get(ini["code"]) or {}).get("execution_rate")
        if ini.get("indicator_code") and rate is not None:
            initiative_rates.setdefault(ini["indicator_code"], []).append(Decimal(str(rate)))
    out: dict[str, Observation] = {}
    for ind in tree.get("indicators") or []:
        code = ind["code"]
        payload = payloads.get(code) or {}
        result = payload_value(payload)
        if result is None and initiative_rates.get(code):
            rates = initiative_rates[code]
            result = q2(sum(rates, Decimal(0)) / len(rates))
        comps = {k: Decimal(str(v)) for k, v in (payload.get("components") or {}).items()}
        comps.update(committee.components.get(code, {}))
        ref = committee.reference_index.get(code, dec(payload.get("reference_index")))
        if result is None and not comps and code not in committee.set_aside:
            if final and ind["scoring_rule"].get("kind") != "derived_from_teams":
                out[code] = Observation(missing_scores_zero=True)
            continue
        out[code] = Observation(
            result=result, components=comps, reference_index=ref, set_aside=code in committee.set_aside
        )
    return out


def _delivery(payload: Mapping[str, Any] | None, code: str, committee: Committee) -> Delivery | None:
    partial = committee.partial_scores.get(code)
    committee_qty = committee.quantities.get(code)
    if payload is None and partial is None and committee_qty is None:
        return None
    payload = payload or {}
    completeness = payload.get("completeness")
    delivered_on = date.fromisoformat(payload["delivered_on"]) if payload.get("delivered_on") else None
    quantity = committee_qty if committee_qty is not None else dec(payload.get("quantity", payload.get("value")))
    if partial is not None or completeness == "partial":
        score, why = partial if partial is not None else (None, None)
        return Delivery(
            status="partial", delivered_on=delivered_on, partial_score=score, justification=why, quantity=quantity
        )
    if completeness == "full":
        return Delivery(status="delivered", delivered_on=delivered_on, quantity=quantity)
    if completeness == "none":
        return Delivery(status="not_delivered", quantity=quantity)
    return Delivery(quantity=quantity)


# At a final evaluation a product (or stage) with nothing delivered is not delivered, a quantity product
# delivered nothing: both score 0 under their rule (docs/domain.md §6).
NOTHING_DELIVERED = Delivery(status="not_delivered", quantity=Decimal(0))


def deliveries(
    tree: Mapping[str, Any], payloads: Mapping[str, Mapping[str, Any]], committee: Committee, *, final: bool = False
) -> dict[str, Delivery]:
    out: dict[str, Delivery] = {}
    for p in tree.get("products") or []:
        code = p["code"]
        if p.get("stages"):
            stages = {}
            for s in p["stages"]:
                d = _delivery(payloads.get(s["code"]), s["code"], committee)
                if d is None and final:
                    d = NOTHING_DELIVERED
                if d is not None:
                    stages[s["code"]] = d
            out[code] = Delivery(stages=stages, set_aside=code in committee.set_aside)
            continue
        d = _delivery(payloads.get(code), code, committee)
        if code in committee.set_aside:
            d = Delivery(set_aside=True)
        elif d is None and final:
            d = NOTHING_DELIVERED
        if d is not None:
            out[code] = d
    return out


def zeroed_for_missing(
    tree: Mapping[str, Any], payloads: Mapping[str, Mapping[str, Any]], committee: Committee
) -> set[str]:
    """The items (or stages) a final evaluation scores 0 because nothing certified was registered."""
    obs = observations(tree, payloads, committee, final=True)
    codes = {code for code, o in obs.items() if o.missing_scores_zero}
    for p in tree.get("products") or []:
        if p["code"] in committee.set_aside:
            continue
        for target in p.get("stages") or [p]:
            if _delivery(payloads.get(target["code"]), target["code"], committee) is None:
                codes.add(target["code"])
    return codes

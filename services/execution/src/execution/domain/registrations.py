"""What a plan asks to be registered, and validation of registration payloads.

Three kinds of item are registered every month:

* indicator — ``value``, or ``numerator`` / ``denominator`` (× ``multiplier``, default 1; use 100
  for a percentage): the value is derived and stored with the inputs.
* initiative — the cumulative share of scope achieved (``cumulative_percent``, 0–100), or the
  completion of each weighted sub-activity, from which the share is derived
  (Σ weight × done / 100). The execution rate (share / target × 100) may exceed 100.
* product (or one of its dated stages) — ``completeness`` none | partial | full; a delivery
  (partial or full) needs ``delivered_on`` and at least one ``evidence`` reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from execution.domain.calendars import CalendarSpec
from execution.domain.deadlines import DeadlineRule
from execution.domain.errors import InvalidRegistration
from execution.domain.periods import Period, is_due_month, period_range

_CENT = Decimal("0.01")
_VALUE_PLACES = Decimal("0.000001")
_HUNDRED = Decimal(100)


class ItemKind(StrEnum):
    INDICATOR = "indicator"
    PRODUCT = "product"
    INITIATIVE = "initiative"


@dataclass(frozen=True, slots=True)
class SubActivity:
    name: str
    weight: Decimal


@dataclass(frozen=True, slots=True)
class PlanItem:
    code: str
    kind: ItemKind
    unit_code: str
    periodicity: str | None = None
    target_percent: Decimal | None = None
    sub_activities: tuple[SubActivity, ...] = ()
    parent_code: str | None = None  # a product stage names its product


@dataclass(frozen=True, slots=True)
class PlanFacts:
    """The part of a planning tree the execution service needs."""

    plan_id: str
    cycle_year: int
    calendar: CalendarSpec
    rule: DeadlineRule
    items: Mapping[str, PlanItem]
    units: Mapping[str, str] = field(default_factory=dict)
    version: int | None = None

    @property
    def first_period(self) -> Period:
        return Period(self.cycle_year, 1)

    @property
    def last_period(self) -> Period:
        return Period(self.cycle_year, 12)

    def periods(self) -> list[Period]:
        return list(period_range(self.first_period, self.last_period))

    def owes(self, item: PlanItem, period: Period) -> bool:
        """Whether ``item`` owes a registration for ``period``."""
        if not self.first_period <= period <= self.last_period:
            return False
        if item.kind is ItemKind.INDICATOR:
            return is_due_month(item.periodicity, period)
        return True

    @classmethod
    def from_tree(cls, tree: Mapping[str, Any]) -> PlanFacts:
        """Read the planning service's plan document (docs/api/planning.md)."""
        plan = tree.get("plan") or {}
        plan_id = str(plan.get("id") or plan.get("plan_id") or tree.get("plan_id"))
        cycle_year_raw = plan.get("cycle_year") or tree.get("cycle_year")
        if cycle_year_raw is None:
            raise InvalidRegistration("the plan has no cycle_year")
        cycle_year = int(cycle_year_raw)
        calendar = CalendarSpec.from_mapping(plan.get("calendar") or tree.get("calendar") or {})
        rule = DeadlineRule.from_mapping(plan.get("registration_deadline") or tree.get("registration_deadline"))
        items: dict[str, PlanItem] = {}

        def put(item: PlanItem) -> None:
            if item.code in items:
                raise InvalidRegistration(f"item code {item.code!r} appears twice in the plan")
            items[item.code] = item

        for ind in tree.get("indicators") or ():
            put(
                PlanItem(
                    code=str(ind["code"]),
                    kind=ItemKind.INDICATOR,
                    unit_code=str(ind.get("unit_code") or ""),
                    periodicity=ind.get("periodicity"),
                )
            )
        for prod in tree.get("products") or ():
            unit = str(prod.get("unit_code") or "")
            stages = prod.get("stages") or ()
            if stages:
                for stage in stages:
                    put(
                        PlanItem(
                            code=str(stage["code"]),
                            kind=ItemKind.PRODUCT,
                            unit_code=unit,
                            parent_code=str(prod["code"]),
                        )
                    )
            else:
                put(PlanItem(code=str(prod["code"]), kind=ItemKind.PRODUCT, unit_code=unit))
        for ini in tree.get("initiatives") or ():
            target = ini.get("target_percent")
            put(
                PlanItem(
                    code=str(ini["code"]),
                    kind=ItemKind.INITIATIVE,
                    unit_code=str(ini.get("unit_code") or ""),
                    target_percent=_decimal(target, "target_percent") if target is not None else None,
                    sub_activities=tuple(
                        SubActivity(name=str(s["name"]), weight=_decimal(s["weight"], "weight"))
                        for s in ini.get("sub_activities") or ()
                    ),
                )
            )
        units = {str(u["code"]): str(u.get("name") or u["code"]) for u in tree.get("units") or ()}
        version = plan.get("version") or tree.get("version")
        return cls(
            plan_id=plan_id,
            cycle_year=cycle_year,
            calendar=calendar,
            rule=rule,
            items=items,
            units=units,
            version=int(version) if version is not None else None,
        )


def _decimal(value: Any, name: str) -> Decimal:
    if isinstance(value, float):
        value = repr(value)  # YAML/JSON floats: keep the printed digits, not the binary value
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidRegistration(f"{name} is not a number: {value!r}") from exc
    if not result.is_finite():
        raise InvalidRegistration(f"{name} is not a finite number: {value!r}")
    return result


def plain(value: Decimal) -> str:
    """Fixed-point text without trailing zeros (``Decimal.normalize`` would give ``1E+1``)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _percent(value: Any, name: str) -> Decimal:
    result = _decimal(value, name)
    if not Decimal(0) <= result <= _HUNDRED:
        raise InvalidRegistration(f"{name} must be between 0 and 100, got {result}")
    return result


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def normalise_payload(item: PlanItem, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a registration payload for ``item``; return the canonical JSON-able form."""
    note = _text(payload.get("note"))
    if item.kind is ItemKind.INDICATOR:
        return {**_indicator(payload), "note": note}
    if item.kind is ItemKind.INITIATIVE:
        return {**_initiative(item, payload), "note": note}
    return {**_product(payload), "note": note}


def _indicator(payload: Mapping[str, Any]) -> dict[str, Any]:
    has_value = payload.get("value") is not None
    has_ratio = payload.get("numerator") is not None or payload.get("denominator") is not None
    if has_value == has_ratio:
        raise InvalidRegistration("give either value or numerator and denominator")
    if has_value:
        return {"value": str(_decimal(payload["value"], "value"))}
    if payload.get("numerator") is None or payload.get("denominator") is None:
        raise InvalidRegistration("numerator and denominator go together")
    numerator = _decimal(payload["numerator"], "numerator")
    denominator = _decimal(payload["denominator"], "denominator")
    multiplier = _decimal(payload.get("multiplier", 1), "multiplier")
    if denominator == 0:
        raise InvalidRegistration("denominator must not be zero")
    value = (numerator / denominator * multiplier).quantize(_VALUE_PLACES, rounding=ROUND_HALF_UP)
    return {
        "value": plain(value),
        "numerator": str(numerator),
        "denominator": str(denominator),
        "multiplier": str(multiplier),
    }


def _initiative(item: PlanItem, payload: Mapping[str, Any]) -> dict[str, Any]:
    given: Sequence[Mapping[str, Any]] = payload.get("sub_activities") or ()
    out: dict[str, Any] = {}
    if given:
        weights = {s.name: s.weight for s in item.sub_activities}
        if not weights:
            raise InvalidRegistration(f"initiative {item.code} has no sub-activities in the plan")
        done: dict[str, Decimal] = {}
        for entry in given:
            name = str(entry.get("name"))
            if name not in weights:
                raise InvalidRegistration(f"unknown sub-activity {name!r} of {item.code}")
            done[name] = _percent(entry.get("done_percent"), f"sub_activities[{name}].done_percent")
        share = sum(
            (weights[name] * done.get(name, Decimal(0)) / _HUNDRED for name in weights),
            Decimal(0),
        ).quantize(_CENT, rounding=ROUND_HALF_UP)
        if payload.get("cumulative_percent") is not None:
            stated = _percent(payload["cumulative_percent"], "cumulative_percent")
            if stated.quantize(_CENT, rounding=ROUND_HALF_UP) != share:
                raise InvalidRegistration(f"cumulative_percent {stated} disagrees with the sub-activities ({share})")
        out["sub_activities"] = [{"name": name, "done_percent": str(done.get(name, Decimal(0)))} for name in weights]
    elif payload.get("cumulative_percent") is not None:
        share = _percent(payload["cumulative_percent"], "cumulative_percent")
    else:
        raise InvalidRegistration("give cumulative_percent or sub_activities")
    out["cumulative_percent"] = str(share)
    if item.target_percent:
        rate = (share / item.target_percent * _HUNDRED).quantize(_CENT, rounding=ROUND_HALF_UP)
        out["execution_rate"] = str(rate)
    return out


def _product(payload: Mapping[str, Any]) -> dict[str, Any]:
    completeness = str(payload.get("completeness") or "none").strip().lower()
    if completeness not in {"none", "partial", "full"}:
        raise InvalidRegistration("completeness must be none, partial or full")
    evidence = [str(e).strip() for e in payload.get("evidence") or () if str(e).strip()]
    delivered_raw = payload.get("delivered_on")
    delivered: date | None = None
    if delivered_raw is not None:
        try:
            delivered = delivered_raw if isinstance(delivered_raw, date) else date.fromisoformat(str(delivered_raw))
        except ValueError as exc:
            raise InvalidRegistration(f"delivered_on is not an ISO date: {delivered_raw!r}") from exc
    if completeness == "none":
        if delivered is not None:
            raise InvalidRegistration("delivered_on needs completeness partial or full")
    else:
        if delivered is None:
            raise InvalidRegistration(f"a {completeness} delivery needs delivered_on")
        if not evidence:
            raise InvalidRegistration(f"a {completeness} delivery needs evidence")
    return {
        "completeness": completeness,
        "delivered_on": delivered.isoformat() if delivered else None,
        "evidence": evidence,
    }


@dataclass(frozen=True, slots=True)
class PlanOverrides:
    """Registration rules kept by execution for keys the plan document does not carry."""

    catch_up_through: Period | None = None
    closing_month: int | None = None
    categories: tuple[str, ...] | None = None
    openings: tuple[date, ...] = ()
    timezone: str | None = None

    def apply(self, facts: PlanFacts) -> PlanFacts:
        rule = facts.rule
        rule = DeadlineRule(
            business_day=rule.business_day,
            month_offset=rule.month_offset,
            catch_up_through=self.catch_up_through or rule.catch_up_through,
            closing_month=self.closing_month or rule.closing_month,
        )
        cal = facts.calendar
        calendar = CalendarSpec(
            country=cal.country,
            subdiv=cal.subdiv,
            categories=self.categories if self.categories is not None else cal.categories,
            closures=cal.closures,
            openings=tuple(sorted(set(cal.openings) | set(self.openings))),
            timezone=self.timezone or cal.timezone,
        )
        return replace(facts, rule=rule, calendar=calendar)

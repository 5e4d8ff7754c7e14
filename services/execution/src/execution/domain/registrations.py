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

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from execution.domain.calendars import CalendarSpec
from execution.domain.deadlines import DeadlineRule
from execution.domain.errors import InvalidRegistration
from execution.domain.justifications import JustificationBand, band_of_indicator
from execution.domain.periods import Period, is_due_month, period_range
from metas_kit.numbers import MEASURE, InvalidNumber, NumberKind, decimal_text, to_decimal

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
    # Values outside it need a justification (domain/justifications.py); None: no target per period.
    justification_band: JustificationBand | None = None


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
                    justification_band=band_of_indicator(ind),
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


# Registered numbers follow the kit's one grammar (plain ASCII decimal text, bounded digits): a measure for values,
# numerators and denominators; percentages are measures between 0 and 100; the multiplier is a small positive
# factor (100 for a percentage). The bounds keep every derived value within Decimal's 28 digits, so the arithmetic
# below cannot raise (docs/api/execution.md, "Numbers").
MULTIPLIER = NumberKind("multiplier", 4, 6, signed=False)
NOTE_MAX = 4000
EVIDENCE_MAX_ITEMS = 50
EVIDENCE_MAX_LENGTH = 500
_KINDS_OF_COMPLETENESS = ("none", "partial", "full")


def _number(payload: Mapping[str, Any], key: str, kind: NumberKind = MEASURE) -> tuple[str, Decimal]:
    """The text as sent and its Decimal, or InvalidRegistration naming ``payload.<key>``."""
    try:
        text = decimal_text(payload[key], kind, f"payload.{key}")
    except InvalidNumber as exc:
        raise InvalidRegistration(exc.reason, f"payload.{key}") from exc
    return text, to_decimal(text)


def _percent_text(value: Any, field: str) -> tuple[str, Decimal]:
    try:
        text = decimal_text(value, MEASURE, field)
    except InvalidNumber as exc:
        raise InvalidRegistration(exc.reason, field) from exc
    number = to_decimal(text)
    if not Decimal(0) <= number <= _HUNDRED:
        raise InvalidRegistration(f"must be between 0 and 100, got {text}", field)
    return text, number


def _note(payload: Mapping[str, Any]) -> str | None:
    value = payload.get("note")
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRegistration("note must be text", "payload.note")
    if len(value) > NOTE_MAX:
        raise InvalidRegistration(f"note is longer than {NOTE_MAX} characters", "payload.note")
    if "\x00" in value:
        raise InvalidRegistration("note must not contain NUL characters", "payload.note")
    return value.strip() or None


def normalise_payload(item: PlanItem, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a registration payload for ``item``; return the canonical JSON-able form (numbers as sent)."""
    note = _note(payload)
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
        return {"value": _number(payload, "value")[0]}
    for key in ("numerator", "denominator"):
        if payload.get(key) is None:
            raise InvalidRegistration("numerator and denominator go together", f"payload.{key}")
    numerator_text, numerator = _number(payload, "numerator")
    denominator_text, denominator = _number(payload, "denominator")
    multiplier_text, multiplier = ("1", Decimal(1))
    if payload.get("multiplier") is not None:
        multiplier_text, multiplier = _number(payload, "multiplier", MULTIPLIER)
        if multiplier == 0:
            raise InvalidRegistration("multiplier must not be zero", "payload.multiplier")
    if denominator == 0:
        # A ratio over nothing has no value: the registrar is told, nothing is stored (docs/domain.md §2.1).
        raise InvalidRegistration("denominator must not be zero", "payload.denominator")
    # Bounded inputs: |numerator / denominator × multiplier| < 10^21, so the quantised value has at most 27
    # digits and quantize cannot raise. A value beyond a measure's 10 integer digits is refused, not stored.
    value = (numerator / denominator * multiplier).quantize(_VALUE_PLACES, rounding=ROUND_HALF_UP)
    text = plain(value)
    try:
        decimal_text(text, MEASURE)
    except InvalidNumber as exc:
        raise InvalidRegistration(
            f"numerator / denominator × multiplier = {text} is beyond a measure's range", "payload.numerator"
        ) from exc
    return {
        "value": text,
        "numerator": numerator_text,
        "denominator": denominator_text,
        "multiplier": multiplier_text,
    }


def _initiative(item: PlanItem, payload: Mapping[str, Any]) -> dict[str, Any]:
    given = payload.get("sub_activities") or []
    if not isinstance(given, list):
        raise InvalidRegistration("sub_activities must be a list", "payload.sub_activities")
    out: dict[str, Any] = {}
    if given:
        weights = {s.name: s.weight for s in item.sub_activities}
        if not weights:
            raise InvalidRegistration(
                f"initiative {item.code} has no sub-activities in the plan", "payload.sub_activities"
            )
        done: dict[str, tuple[str, Decimal]] = {}
        for index, entry in enumerate(given):
            path = f"payload.sub_activities[{index}]"
            if not isinstance(entry, Mapping):
                raise InvalidRegistration("each sub-activity is an object with name and done_percent", path)
            name = entry.get("name")
            if not isinstance(name, str) or name not in weights:
                raise InvalidRegistration(f"unknown sub-activity {str(name)[:100]!r} of {item.code}", f"{path}.name")
            done[name] = _percent_text(entry.get("done_percent"), f"{path}.done_percent")
        share = sum(
            (weights[name] * done[name][1] / _HUNDRED for name in weights if name in done),
            Decimal(0),
        ).quantize(_CENT, rounding=ROUND_HALF_UP)
        share_text = str(share)
        if payload.get("cumulative_percent") is not None:
            stated_text, stated = _percent_text(payload["cumulative_percent"], "payload.cumulative_percent")
            if stated.quantize(_CENT, rounding=ROUND_HALF_UP) != share:
                raise InvalidRegistration(
                    f"cumulative_percent {stated_text} disagrees with the sub-activities ({share})",
                    "payload.cumulative_percent",
                )
        out["sub_activities"] = [
            {"name": name, "done_percent": done[name][0] if name in done else "0"} for name in weights
        ]
    elif payload.get("cumulative_percent") is not None:
        share_text, share = _percent_text(payload["cumulative_percent"], "payload.cumulative_percent")
    else:
        raise InvalidRegistration("give cumulative_percent or sub_activities")
    out["cumulative_percent"] = share_text
    if item.target_percent:
        # share ≤ 100 and the plan's target is a positive percentage: the rate stays far inside 28 digits.
        rate = (share / item.target_percent * _HUNDRED).quantize(_CENT, rounding=ROUND_HALF_UP)
        out["execution_rate"] = str(rate)
    return out


def _product(payload: Mapping[str, Any]) -> dict[str, Any]:
    completeness = payload.get("completeness", "none")
    if completeness is None:
        completeness = "none"
    if completeness not in _KINDS_OF_COMPLETENESS:
        raise InvalidRegistration("completeness must be none, partial or full", "payload.completeness")
    raw_evidence = payload.get("evidence") or []
    if not isinstance(raw_evidence, list) or not all(isinstance(e, str) for e in raw_evidence):
        raise InvalidRegistration("evidence must be a list of references (text)", "payload.evidence")
    if len(raw_evidence) > EVIDENCE_MAX_ITEMS:
        raise InvalidRegistration(f"at most {EVIDENCE_MAX_ITEMS} evidence references", "payload.evidence")
    if any(len(e) > EVIDENCE_MAX_LENGTH for e in raw_evidence):
        raise InvalidRegistration(
            f"an evidence reference is longer than {EVIDENCE_MAX_LENGTH} characters", "payload.evidence"
        )
    evidence = [e.strip() for e in raw_evidence if e.strip()]
    delivered_raw = payload.get("delivered_on")
    delivered: date | None = None
    if delivered_raw is not None:
        if not isinstance(delivered_raw, str) or len(delivered_raw) != 10:
            raise InvalidRegistration("delivered_on must be an ISO date (YYYY-MM-DD)", "payload.delivered_on")
        try:
            delivered = date.fromisoformat(delivered_raw)
        except ValueError as exc:
            raise InvalidRegistration(
                f"delivered_on is not an ISO date: {delivered_raw!r}", "payload.delivered_on"
            ) from exc
    if completeness == "none":
        if delivered is not None:
            raise InvalidRegistration("delivered_on needs completeness partial or full", "payload.delivered_on")
    else:
        if delivered is None:
            raise InvalidRegistration(f"a {completeness} delivery needs delivered_on", "payload.delivered_on")
        if not evidence:
            raise InvalidRegistration(f"a {completeness} delivery needs evidence", "payload.evidence")
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

"""Semantic validation of a plan document: every finding, with its JSON path.

Errors refuse a plan; warnings never do. Warnings are the facts of the source that are kept as
printed (data/README.md lists them): they are reported, never silently fixed. The structural checks
(types, unknown keys, impossible dates) are pydantic's, see ``check_document``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from metas_rules.rules import DerivedFromTeamsRule, rule_problems
from planning.domain.document import (
    Framework,
    PlanDocument,
    Polarity,
    Product,
    UnitKind,
    error_path,
    parse_document,
)

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Finding:
    path: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class ValidationReport:
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, path: str, code: str, message: str) -> None:
        self.errors.append(Finding(path, code, message))

    def warn(self, path: str, code: str, message: str) -> None:
        self.warnings.append(Finding(path, code, message))


def check_document(data: Mapping[str, Any] | str | bytes) -> tuple[PlanDocument | None, ValidationReport]:
    """Parse then validate; a document that does not parse gets only its schema errors."""
    try:
        doc = parse_document(data)
    except ValidationError as exc:
        report = ValidationReport()
        for err in exc.errors(include_url=False):
            report.error(error_path(tuple(err["loc"])), "schema", str(err["msg"]))
        return None, report
    return doc, validate(doc)


def validate(doc: PlanDocument) -> ValidationReport:
    report = ValidationReport()
    _check_framework(doc, report)
    _check_unique_codes(doc, report)
    _check_references(doc, report)
    _check_dates(doc, report)
    _check_weights(doc, report)
    _check_rules(doc, report)
    _check_dependency_cycles(doc, report)
    _warn_relevance(doc, report)
    _warn_source_facts(doc, report)
    return report


def computed_relevant_objectives(doc: PlanDocument) -> list[str]:
    """QUAR relevant objectives (docs/domain.md §3.4): by global weight (parameter × objective weight)
    descending, taken until the cumulative weight exceeds the threshold (50 %) and at least half of
    the objectives are taken. Seed 000: OP1, OP4 (10.5), OP5 (10.0), OP10, OP14 (8.8), OP2 (8.4),
    OP11 (6.4) = 63.4 %."""
    if doc.plan.quar is None or not doc.operational_objectives:
        return []
    threshold = doc.plan.quar.relevance_threshold_percent
    param_weight = {p.code: p.weight for p in doc.parameters}
    ranked = sorted(
        doc.operational_objectives,
        key=lambda o: -(param_weight.get(o.parameter_code, Decimal(0)) * o.weight / HUNDRED),
    )
    half = (len(ranked) + 1) // 2
    taken: list[str] = []
    total = Decimal(0)
    for op in ranked:
        if total > threshold and len(taken) >= half:
            break
        taken.append(op.code)
        total += param_weight.get(op.parameter_code, Decimal(0)) * op.weight / HUNDRED
    return taken


def _warn_relevance(doc: PlanDocument, report: ValidationReport) -> None:
    """Explicit relevance flags that differ from the rule are kept (the plan decides), but reported."""
    if doc.plan.quar is None or doc.plan.quar.relevance != "explicit":
        return
    computed = set(computed_relevant_objectives(doc))
    for i, op in enumerate(doc.operational_objectives):
        if op.relevant is not None and op.relevant != (op.code in computed):
            rule = "relevant" if op.code in computed else "not relevant"
            report.warn(
                f"operational_objectives[{i}].relevant",
                "relevance_differs",
                f"{op.code} is flagged relevant={op.relevant} but the relevance rule makes it {rule}",
            )


# --- framework -----------------------------------------------------------------------------------


def _check_framework(doc: PlanDocument, report: ValidationReport) -> None:
    plan = doc.plan
    if plan.framework is Framework.QUAR:
        if plan.quar is None:
            report.error("plan.quar", "framework_mismatch", "a QUAR plan needs its quar settings")
        if plan.acordo is not None:
            report.error("plan.acordo", "framework_mismatch", "acordo settings on a QUAR plan")
        if not doc.parameters:
            report.error("parameters", "framework_mismatch", "a QUAR plan needs evaluation parameters")
        for i, ind in enumerate(doc.indicators):
            if ind.objective_code is None:
                report.error(
                    f"indicators[{i}].objective_code",
                    "framework_mismatch",
                    "a QUAR indicator belongs to an operational objective",
                )
    else:
        if plan.acordo is None:
            report.error("plan.acordo", "framework_mismatch", "an acordo plan needs its acordo settings")
        if plan.quar is not None:
            report.error("plan.quar", "framework_mismatch", "quar settings on an acordo plan")
        if doc.parameters:
            report.error("parameters", "framework_mismatch", "evaluation parameters are QUAR only")
        if doc.operational_objectives:
            report.error("operational_objectives", "framework_mismatch", "operational objectives are QUAR only")


# --- codes and references ------------------------------------------------------------------------


def _dupes(report: ValidationReport, entries: Iterable[tuple[str, str]], what: str) -> None:
    first: dict[str, str] = {}
    for path, code in entries:
        if code in first:
            report.error(path, "duplicate_code", f"{what} code {code!r} already used at {first[code]}")
        else:
            first[code] = path


def _item_codes(doc: PlanDocument) -> list[tuple[str, str]]:
    """Indicators, products, product stages and initiatives share one namespace."""
    out = [(f"indicators[{i}].code", x.code) for i, x in enumerate(doc.indicators)]
    for i, p in enumerate(doc.products):
        out.append((f"products[{i}].code", p.code))
        out += [(f"products[{i}].stages[{j}].code", s.code) for j, s in enumerate(p.stages)]
    out += [(f"initiatives[{i}].code", x.code) for i, x in enumerate(doc.initiatives)]
    return out


def _check_unique_codes(doc: PlanDocument, report: ValidationReport) -> None:
    _dupes(report, ((f"units[{i}].code", u.code) for i, u in enumerate(doc.units)), "unit")
    objectives = [(f"strategic_objectives[{i}].code", o.code) for i, o in enumerate(doc.strategic_objectives)]
    objectives += [(f"operational_objectives[{i}].code", o.code) for i, o in enumerate(doc.operational_objectives)]
    _dupes(report, objectives, "objective")
    _dupes(report, ((f"parameters[{i}].code", p.code) for i, p in enumerate(doc.parameters)), "parameter")
    _dupes(report, _item_codes(doc), "item")


def _check_references(doc: PlanDocument, report: ValidationReport) -> None:
    units = {u.code for u in doc.units}
    strategic = {o.code for o in doc.strategic_objectives}
    operational = {o.code for o in doc.operational_objectives}
    parameters = {p.code for p in doc.parameters}
    indicators = {i.code for i in doc.indicators}

    def need(path: str, code: str | None, known: set[str], what: str) -> None:
        if code is not None and code not in known:
            report.error(path, "unknown_reference", f"no {what} with code {code!r}")

    for i, u in enumerate(doc.units):
        need(f"units[{i}].parent_code", u.parent_code, units, "unit")
    for i, op in enumerate(doc.operational_objectives):
        need(f"operational_objectives[{i}].parameter_code", op.parameter_code, parameters, "parameter")
        for j, so in enumerate(op.strategic_objective_codes):
            need(
                f"operational_objectives[{i}].strategic_objective_codes[{j}]",
                so,
                strategic,
                "strategic objective",
            )
    indicator_objectives = operational if doc.plan.framework is Framework.QUAR else strategic
    level = "operational objective" if doc.plan.framework is Framework.QUAR else "strategic objective"
    for i, ind in enumerate(doc.indicators):
        need(f"indicators[{i}].unit_code", ind.unit_code, units, "unit")
        need(f"indicators[{i}].objective_code", ind.objective_code, indicator_objectives, level)
        rule = ind.scoring_rule
        if isinstance(rule, DerivedFromTeamsRule):
            for j, code in enumerate(rule.exclude_units):
                need(f"indicators[{i}].scoring_rule.exclude_units[{j}]", code, units, "unit")
            for j, code in enumerate(rule.include_units or []):
                need(f"indicators[{i}].scoring_rule.include_units[{j}]", code, units, "unit")
    for i, p in enumerate(doc.products):
        need(f"products[{i}].unit_code", p.unit_code, units, "unit")
        need(f"products[{i}].objective_code", p.objective_code, strategic | operational, "objective")
    for i, ini in enumerate(doc.initiatives):
        need(f"initiatives[{i}].unit_code", ini.unit_code, units, "unit")
        need(f"initiatives[{i}].indicator_code", ini.indicator_code, indicators, "indicator")
        for j, so in enumerate(ini.strategic_objective_codes):
            need(f"initiatives[{i}].strategic_objective_codes[{j}]", so, strategic, "strategic objective")


# --- dates ---------------------------------------------------------------------------------------


def _check_dates(doc: PlanDocument, report: ValidationReport) -> None:
    plan = doc.plan
    if plan.valid_from and plan.valid_to and plan.valid_from > plan.valid_to:
        report.error("plan.valid_to", "date_order", f"valid_to {plan.valid_to} is before valid_from {plan.valid_from}")
    for i, c in enumerate(plan.calendar.closures):
        if c.date.year not in (plan.cycle_year, plan.cycle_year + 1):
            report.warn(
                f"plan.calendar.closures[{i}].date",
                "closure_outside_cycle",
                f"closure {c.date} is outside the cycle",
            )
    for i, p in enumerate(doc.products):
        for j, s in enumerate(p.stages):
            if s.due_date > p.due_date:
                report.error(
                    f"products[{i}].stages[{j}].due_date",
                    "date_order",
                    f"stage due {s.due_date} after its product's due date {p.due_date}",
                )
    for i, ini in enumerate(doc.initiatives):
        if ini.deadline is not None and ini.deadline.year != plan.cycle_year:
            report.warn(
                f"initiatives[{i}].deadline",
                "deadline_outside_cycle",
                f"deadline {ini.deadline} is outside the plan year {plan.cycle_year} (as printed)",
            )


# --- weights -------------------------------------------------------------------------------------


def _sum_check(report: ValidationReport, path: str, what: str, weights: list[Decimal]) -> None:
    total = sum(weights, Decimal(0))
    if total != HUNDRED:
        report.error(path, "weights_sum", f"{what} weights sum to {total}, not 100")


def _check_weights(doc: PlanDocument, report: ValidationReport) -> None:
    if doc.plan.framework is Framework.QUAR:
        if doc.parameters:
            _sum_check(report, "parameters", "parameter", [p.weight for p in doc.parameters])
        for pi, param in enumerate(doc.parameters):
            ops = [o.weight for o in doc.operational_objectives if o.parameter_code == param.code]
            _sum_check(report, f"parameters[{pi}]", f"operational objectives of {param.code}:", ops)
        for oi, op in enumerate(doc.operational_objectives):
            inds = [x.weight for x in doc.indicators if x.objective_code == op.code]
            _sum_check(report, f"operational_objectives[{oi}]", f"indicators of {op.code}:", inds)
    else:
        for ui, unit in enumerate(doc.units):
            inds = [x.weight for x in doc.indicators if x.unit_code == unit.code]
            prods = [x.weight for x in doc.products if x.unit_code == unit.code]
            if inds or prods or unit.kind is UnitKind.TEAM:
                _sum_check(report, f"units[{ui}]", f"indicators and products of team {unit.code}:", inds + prods)
    for i, ini in enumerate(doc.initiatives):
        if ini.sub_activities:
            _sum_check(
                report,
                f"initiatives[{i}].sub_activities",
                f"sub-activities of {ini.code}:",
                [s.weight for s in ini.sub_activities],
            )
    for i, p in enumerate(doc.products):
        stage_weights = [s.weight for s in p.stages]
        given = [w for w in stage_weights if w is not None]
        if given and len(given) != len(stage_weights):
            report.error(f"products[{i}].stages", "weights_sum", "give a weight to every stage or to none")
        elif given:
            _sum_check(report, f"products[{i}].stages", f"stages of {p.code}:", given)


# --- scoring rules -------------------------------------------------------------------------------


def reference_value(values: Mapping[str, Decimal | None], cycle_year: int) -> Decimal | None:
    """V0: the value of the year immediately before the cycle (None when ND / absent)."""
    return values.get(str(cycle_year - 1))


def _check_rules(doc: PlanDocument, report: ValidationReport) -> None:
    for i, ind in enumerate(doc.indicators):
        for problem in rule_problems(
            ind.scoring_rule,
            polarity=ind.polarity.value,
            meta=ind.meta,
            tolerance=ind.tolerance,
            critical_value=ind.critical_value,
            reference_value=reference_value(ind.reference_values, doc.plan.cycle_year),
            item="indicator",
        ):
            report.error(f"indicators[{i}].scoring_rule", "rule_problem", problem)
        _check_critical_side(report, f"indicators[{i}]", ind.polarity, ind.meta, ind.critical_value)
        if ind.tolerance is not None and ind.tolerance < 0:
            report.error(f"indicators[{i}].tolerance", "negative_tolerance", "tolerance is negative")
    for i, p in enumerate(doc.products):
        for problem in rule_problems(
            p.scoring_rule,
            polarity=Polarity.HIGHER_IS_BETTER.value,
            meta=p.quantity_target,
            item="product",
        ):
            report.error(f"products[{i}].scoring_rule", "rule_problem", problem)


def _check_critical_side(
    report: ValidationReport, path: str, polarity: Polarity, meta: Decimal, critical: Decimal | None
) -> None:
    """The critical value is the level of outstanding achievement: beyond the meta for the polarity."""
    if critical is None:
        return
    wrong = critical <= meta if polarity is Polarity.HIGHER_IS_BETTER else critical >= meta
    if wrong:
        side = "above" if polarity is Polarity.HIGHER_IS_BETTER else "below"
        report.error(
            f"{path}.critical_value",
            "critical_value_side",
            f"critical value {critical} must be {side} the meta {meta} for {polarity.value}",
        )


# --- derived indicators ----------------------------------------------------------------------------


def _check_dependency_cycles(doc: PlanDocument, report: ValidationReport) -> None:
    """An indicator derived from team grades depends on every item of those teams; no cycles."""
    team_codes = [u.code for u in doc.units if u.kind is UnitKind.TEAM] or [u.code for u in doc.units]
    items_by_unit: dict[str, list[str]] = defaultdict(list)
    for ind in doc.indicators:
        items_by_unit[ind.unit_code].append(ind.code)
    edges: dict[str, list[str]] = {}
    index = {ind.code: i for i, ind in enumerate(doc.indicators)}
    for ind in doc.indicators:
        rule = ind.scoring_rule
        if not isinstance(rule, DerivedFromTeamsRule):
            continue
        sources = (
            rule.include_units if rule.include_units is not None else [c for c in team_codes if c != ind.unit_code]
        )
        deps = [c for c in sources if c not in set(rule.exclude_units)]
        edges[ind.code] = [item for unit in deps for item in items_by_unit.get(unit, [])]
    reported: set[frozenset[str]] = set()
    for cycle in _cycles(edges):
        key = frozenset(cycle)
        if key in reported:
            continue
        reported.add(key)
        report.error(
            f"indicators[{index[cycle[0]]}].scoring_rule",
            "dependency_cycle",
            "derived indicators depend on each other: " + " -> ".join([*cycle, cycle[0]]),
        )


def _cycles(edges: Mapping[str, list[str]]) -> list[list[str]]:
    """One cycle per strongly-connected loop found by depth-first search (iterative colouring)."""
    white, grey, black = 0, 1, 2
    colour: dict[str, int] = defaultdict(int)
    found: list[list[str]] = []
    for start in edges:
        if colour[start] != white:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        while stack:
            node, nxt = stack.pop()
            if nxt == 0:
                colour[node] = grey
                path.append(node)
            children = edges.get(node, [])
            if nxt < len(children):
                stack.append((node, nxt + 1))
                child = children[nxt]
                if colour[child] == grey:
                    found.append(path[path.index(child) :])
                elif colour[child] == white:
                    stack.append((child, 0))
            else:
                colour[node] = black
                path.pop()
    return found


# --- warnings: facts of the source ----------------------------------------------------------------

_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_YMD = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")


def printed_date(text: str) -> tuple[bool, dt.date | None]:
    """(looks like a date, the date if it exists). '31/11/2014' → (True, None)."""
    text = text.strip()
    m = _DMY.match(text)
    parts = (int(m[3]), int(m[2]), int(m[1])) if m else None
    if parts is None and (m := _YMD.match(text)):
        parts = (int(m[1]), int(m[2]), int(m[3]))
    if parts is None:
        return False, None
    try:
        return True, dt.date(*parts)
    except ValueError:
        return True, None


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _printed_dates(report: ValidationReport, path: str, as_printed: Mapping[str, str], actual: dt.date | None) -> None:
    for key, text in as_printed.items():
        if not key.split(".")[-1].endswith(("date", "deadline")):
            continue
        is_date, parsed = printed_date(text)
        if not is_date:
            continue
        if parsed is None:
            used = f"; the date used is {actual}" if actual else ""
            report.warn(
                f"{path}.as_printed.{key}",
                "impossible_printed_date",
                f"printed date {text!r} does not exist (kept as printed){used}",
            )
        elif actual is not None and parsed != actual:
            report.warn(
                f"{path}.as_printed.{key}",
                "printed_date_differs",
                f"printed date {text!r} differs from the date used {actual}",
            )


def _warn_source_facts(doc: PlanDocument, report: ValidationReport) -> None:
    for note in doc.source_notes:
        ref = f" ({note.reference})" if note.reference else ""
        report.warn(note.path, "source_note", note.message + ref)
    for i, ind in enumerate(doc.indicators):
        if not ind.name:
            report.warn(f"indicators[{i}].name", "missing_name", f"indicator {ind.code} has no name in the source")
        _printed_dates(report, f"indicators[{i}]", ind.as_printed, None)
    for i, p in enumerate(doc.products):
        _printed_dates(report, f"products[{i}]", p.as_printed, p.due_date)
        for j, s in enumerate(p.stages):
            _printed_dates(report, f"products[{i}].stages[{j}]", s.as_printed, s.due_date)
    for i, ini in enumerate(doc.initiatives):
        _printed_dates(report, f"initiatives[{i}]", ini.as_printed, ini.deadline)
    _warn_duplicate_products(doc.products, report)
    _warn_name_collisions(doc, report)


def _warn_duplicate_products(products: list[Product], report: ValidationReport) -> None:
    seen: dict[str, tuple[int, Product]] = {}
    for i, p in enumerate(products):
        key = _norm(p.name) + "|" + _norm(p.deliverable or "")
        if key in seen:
            j, other = seen[key]
            report.warn(
                f"products[{i}]",
                "duplicate_product",
                f"{p.code} ({p.unit_code}) is the same product as {other.code} ({other.unit_code}) at products[{j}]",
            )
        else:
            seen[key] = (i, p)


def _warn_name_collisions(doc: PlanDocument, report: ValidationReport) -> None:
    """A printed variant of an objective's name that is another objective's name (OP8 vs OP7)."""
    groups: list[tuple[str, list[Any]]] = [
        ("strategic_objectives", list(doc.strategic_objectives)),
        ("operational_objectives", list(doc.operational_objectives)),
    ]
    for section, objectives in groups:
        names = {_norm(o.name): o.code for o in objectives}
        for i, o in enumerate(objectives):
            for j, variant in enumerate(o.name_variants):
                other = names.get(_norm(variant.text))
                if other is not None and other != o.code:
                    report.warn(
                        f"{section}[{i}].name_variants[{j}]",
                        "name_variant_collision",
                        f"{variant.source} names {o.code} {variant.text!r}, which is the name of {other}",
                    )

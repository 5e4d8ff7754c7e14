"""A stored evaluation as a scorecard: organisation → parameter (QUAR) or team (Acordo) → objective → item, each
with its score and a state taken from the plan's own thresholds (docs/domain.md §3.3 and §2.1.1).

- QUAR: a rate above 100 % is *Superou*, exactly 100 % *Atingiu*, below *Não atingiu* (Lei 66-B/2007; an
  indicator's rate is 100 % exactly when its result lies in the tolerance band, §3.1).
- Acordo: the score bands of the plan's general rule (Anexo IV's table: execution ≥ 100 % → 100; 80–99.99 % →
  80, 60, 40; below → 0). A score reaching the top band is *met*, one reaching the lowest band that still scores
  is *partly met*, anything below *not met*. The bands are read from the plan document; Anexo IV's when the plan
  has no general-rule table.

Pure: JSON in, plain structures out; the page translates the labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

GREEN, AMBER, RED, NONE = "green", "amber", "red", "none"
HUNDRED = Decimal(100)
# Anexo IV's table (docs/domain.md §2.1.1) when a plan carries no general-rule table of its own.
ANEXO_IV_TOP, ANEXO_IV_FLOOR = Decimal(100), Decimal(40)


def dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class Bands:
    """The thresholds a plan's scores are judged by."""

    framework: str
    top: Decimal = ANEXO_IV_TOP  # Acordo: a score at least this is met
    floor: Decimal = ANEXO_IV_FLOOR  # Acordo: a score at least this is partly met
    source: str = "anexo_iv"  # where the Acordo's bands came from: "plan" or "anexo_iv"

    def state(self, value: Any) -> str:
        number = dec(value)
        if number is None:
            return NONE
        if self.framework == "quar":
            return GREEN if number > HUNDRED else AMBER if number == HUNDRED else RED
        return GREEN if number >= self.top else AMBER if number >= self.floor else RED


def bands_of(document: dict[str, Any]) -> Bands:
    """QUAR judges rates against 100 %; an Acordo plan by the score bands of its general rule's table."""
    framework = str((document.get("plan") or {}).get("framework") or "")
    if framework == "quar":
        return Bands("quar")
    for indicator in document.get("indicators") or []:
        rule = indicator.get("scoring_rule") or {}
        rows = (rule.get("obs2_table") or {}).get("rows") if rule.get("kind") == "general" else None
        scores = [d for d in (dec(row.get("value")) for row in rows or []) if d is not None]
        scoring = [s for s in scores if s > 0]
        if scoring:
            return Bands(framework, top=max(scoring), floor=min(scoring), source="plan")
    return Bands(framework)


@dataclass
class Node:
    """One row of the scorecard: a level (organisation, parameter, team, objective, indicator, product)."""

    level: str
    code: str
    name: str
    value: str | None  # the score or rate as the API wrote it
    state: str
    status: str = "scored"  # the engine's status for items; "scored" for aggregates
    weight: str | None = None
    meta: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)


def _item_node(
    level: str, item: dict[str, Any], score: dict[str, Any] | None, bands: Bands, applied: str | None
) -> Node:
    score = score or {}
    status = str(score.get("status") or "missing")
    value = score.get("value") if status == "scored" else None
    extra: dict[str, Any] = {"applied": applied} if applied else {}
    if score.get("reason"):
        extra["reason"] = score["reason"]
    return Node(
        level,
        str(item["code"]),
        str(item.get("name") or ""),
        value,
        bands.state(value),
        status=status,
        weight=item.get("weight"),
        meta=item.get("meta"),
        extra=extra,
    )


def build(document: dict[str, Any], results: dict[str, Any]) -> Node:
    """The whole scorecard of one evaluation (`results` as the scoring API stores them)."""
    bands = bands_of(document)
    indicators = results.get("indicators") or {}
    products = results.get("products") or {}
    applied = results.get("applied") or {}
    organisation = document.get("organisation") or {}
    if bands.framework == "quar":
        final = results.get("final") or {}
        root = Node(
            "organisation",
            str(organisation.get("acronym") or organisation.get("code") or ""),
            str(organisation.get("name") or ""),
            final.get("rate"),
            bands.state(final.get("rate")),
            extra={
                "mention": results.get("mention"),
                "mention_label": results.get("mention_label"),
                "steps": list(final.get("steps") or []),
            },
        )
        relevant = set(results.get("relevant_objectives") or [])
        objectives = results.get("objectives") or {}
        for parameter in document.get("parameters") or []:
            found_parameter = (results.get("parameters") or {}).get(parameter["code"]) or {}
            rate = found_parameter.get("rate")
            branch = Node(
                "parameter", parameter["code"], str(parameter.get("name") or ""), rate, bands.state(rate),
                weight=parameter.get("weight"), extra={"steps": list(found_parameter.get("steps") or [])},
            )  # fmt: skip
            for objective in document.get("operational_objectives") or []:
                if objective.get("parameter_code") != parameter["code"]:
                    continue
                found = objectives.get(objective["code"]) or {}
                node = Node(
                    "objective", objective["code"], str(objective.get("name") or ""), found.get("rate"),
                    bands.state(found.get("rate")), weight=objective.get("weight"),
                    extra={
                        "relevant": objective["code"] in relevant,
                        "label": found.get("label"),
                        "steps": list(found.get("steps") or []),
                    },
                )  # fmt: skip
                for indicator in document.get("indicators") or []:
                    if indicator.get("objective_code") == objective["code"]:
                        code = indicator["code"]
                        node.children.append(
                            _item_node("indicator", indicator, indicators.get(code), bands, applied.get(code))
                        )
                branch.children.append(node)
            root.children.append(branch)
        return root
    teams = results.get("teams") or {}
    productivity = results.get("productivity") or {}
    root = Node(
        "organisation",
        str(organisation.get("acronym") or organisation.get("code") or ""),
        str(organisation.get("name") or ""),
        None,
        NONE,
    )
    objective_names = {o["code"]: str(o.get("name") or "") for o in document.get("strategic_objectives") or []}
    for unit in document.get("units") or []:
        team = teams.get(unit["code"])
        if team is None:
            continue
        grade = team.get("value")
        branch = Node(
            "team",
            unit["code"],
            str(unit.get("name") or ""),
            grade,
            bands.state(grade),
            extra={
                "complete": team.get("complete", True),
                "missing": list(team.get("missing") or []),
                "set_aside": list(team.get("set_aside") or []),
                "productivity": (productivity.get(unit["code"]) or {}).get("value"),
                # the team grade's steps, then productivity's (N1 and N2)
                "steps": [
                    *(team.get("steps") or []),
                    *filter(None, [(productivity.get(unit["code"]) or {}).get("step")]),
                ],
            },
        )
        groups: dict[str, Node] = {}
        items = [("indicator", i, indicators) for i in document.get("indicators") or []]
        items += [("product", p, products) for p in document.get("products") or []]
        for level, item, scores in items:
            if item.get("unit_code") != unit["code"]:
                continue
            objective = str(item.get("objective_code") or "")
            if objective not in groups:
                # The Acordo scores no objective: the group only gathers the team's goals under it.
                groups[objective] = Node("objective", objective, objective_names.get(objective, ""), None, NONE)
                branch.children.append(groups[objective])
            code = item["code"]
            groups[objective].children.append(_item_node(level, item, scores.get(code), bands, applied.get(code)))
        root.children.append(branch)
    return root


def missing_items(results: dict[str, Any]) -> list[str]:
    """Items without a score (missing, pending, not scorable), in code order: what makes a grade incomplete."""
    out = []
    for section in ("indicators", "products"):
        for code, score in (results.get(section) or {}).items():
            if score.get("status") in ("missing", "pending", "not_scorable"):
                out.append(code)
    return sorted(out)


def find(root: Node, code: str) -> tuple[Node | None, list[Node]]:
    """The item `code` and its ancestors (root first)."""
    path: list[Node] = []

    def walk(node: Node) -> Node | None:
        path.append(node)
        if node.level in ("indicator", "product") and node.code == code:
            return node
        for child in node.children:
            found = walk(child)
            if found is not None:
                return found
        path.pop()
        return None

    found = walk(root)
    return found, path[:-1] if found else []

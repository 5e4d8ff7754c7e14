"""The official documents of an evaluation as plain tables, built from its stored snapshot only.

Everything comes from `inputs` (the plan document and registrations the run read) and `results`, so every
download of one evaluation shows the same figures. QUAR: the QUAR table, objective and parameter rates, the final
rate and mention, and the self-assessment (autoavaliação) with every deviation and its justification
(docs/domain.md §3). Acordo: per team, indicators (result / meta / score / weight), products (due date, delivery
date, delay score), the team grade and productivity with N1 and N2 (docs/domain.md §2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from scoring.domain.inputs import latest_payloads, payload_value


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    heading: str
    lines: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Report:
    title: str
    lines: tuple[str, ...]
    sections: tuple[Section, ...] = field(default=())
    # The one table a CSV download holds.
    flat: Table | None = None


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _result_text(value: Decimal | None) -> str:
    # A ratio's result can carry many decimals: printed to 4 places (the stored result keeps them all).
    if value is None:
        return "—"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        value = value.quantize(Decimal("0.0001"))
    return format(value, "f")


def _payloads(inputs: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    options = inputs.get("options") or {}
    return latest_payloads(
        inputs.get("registrations") or {},
        period_to=options.get("period_to"),
        certified_only=bool(options.get("certified_only")),
    )


def _header(run: Mapping[str, Any], inputs: Mapping[str, Any]) -> tuple[str, ...]:
    tree = inputs["plan"]
    organisation = tree.get("organisation") or {}
    kind = "Final" if run.get("kind") == "final" else "Provisional (incomplete where items are missing)"
    revision = f" — revision {run['revision']}" if run.get("revision") and run["revision"] > 1 else ""
    return (
        f"{organisation.get('name', '')} ({organisation.get('code', '')})",
        f"Plan {tree['plan']['id']} version {_text(run.get('plan_version'))} — cycle {tree['plan']['cycle_year']}",
        f"Evaluation {run['id']} — {kind}{revision}",
        f"Made {run['created_at']} by {run['created_by']}; periods up to {run.get('period_to') or 'December'}",
        f"Rules {run['rules_version']}, engine {run['engine_version']}, results sha256 {run['results_sha256'][:16]}",
    )


def classification(rate: str | None) -> str:
    """QUAR wording of an achievement (docs/domain.md §3.3)."""
    if rate is None:
        return "—"
    value = Decimal(rate)
    return "Superou" if value > 100 else "Atingiu" if value == 100 else "Não atingiu"


def quar_report(run: Mapping[str, Any], inputs: Mapping[str, Any], results: Mapping[str, Any]) -> Report:
    tree = inputs["plan"]
    payloads = _payloads(inputs)
    scores = results.get("indicators") or {}
    causes = results.get("deviation_causes") or {}
    rows = []
    deviations = []
    for ind in tree.get("indicators") or []:
        code = ind["code"]
        score = scores.get(code) or {}
        result = payload_value(payloads.get(code) or {})
        rate = score.get("value")
        rows.append(
            (
                ind.get("objective_code") or "—",
                code,
                ind.get("name") or "",
                _text(ind.get("meta")),
                _text(ind.get("tolerance")),
                _text(ind.get("critical_value")),
                _text(ind.get("weight")),
                _result_text(result),
                _text(rate),
                classification(rate),
            )
        )
        extra = score.get("extra") or {}
        deviation = extra.get("deviation_rate")
        if deviation is not None and Decimal(deviation) != 0:
            deviations.append(
                (
                    code,
                    _text(ind.get("meta")),
                    _result_text(result),
                    deviation,
                    _text(extra.get("deviation_result_percent")),
                    causes.get(code) or "—",
                )
            )
    quar_table = Table(
        "QUAR",
        (
            "Objective",
            "Indicator",
            "Name",
            "Meta",
            "Tolerance",
            "Critical value",
            "Weight %",
            "Result",
            "Rate %",
            "Classification",
        ),
        tuple(rows),
    )
    objectives = results.get("objectives") or {}
    relevant = set(results.get("relevant_objectives") or [])
    objective_rows = tuple(
        (
            o["code"],
            o.get("parameter_code") or "—",
            _text(o.get("weight")),
            "yes" if o["code"] in relevant else "no",
            _text((objectives.get(o["code"]) or {}).get("rate")),
            (objectives.get(o["code"]) or {}).get("label") or "—",
        )
        for o in tree.get("operational_objectives") or []
    )
    parameters = results.get("parameters") or {}
    parameter_rows = tuple(
        (p["code"], p.get("name") or "", _text(p.get("weight")), _text((parameters.get(p["code"]) or {}).get("rate")))
        for p in tree.get("parameters") or []
    )
    summary = results.get("summary") or {}
    final_lines = (
        f"Final rate: {_text(summary.get('final_rate'))} %",
        f"Mention: {summary.get('mention_label') or '— (not every indicator has a result)'}",
    )
    return Report(
        title=str(tree["plan"].get("title") or f"QUAR {tree['plan']['cycle_year']} — {tree['plan']['id']}"),
        lines=_header(run, inputs),
        sections=(
            Section("Quadro de avaliação e responsabilização", tables=(quar_table,)),
            Section(
                "Objectives and parameters",
                tables=(
                    Table(
                        "Objectives",
                        ("Objective", "Parameter", "Weight %", "Relevant", "Rate %", "Classification"),
                        objective_rows,
                    ),
                    Table("Parameters", ("Parameter", "Name", "Weight %", "Rate %"), parameter_rows),
                ),
            ),
            Section("Final evaluation", lines=final_lines),
            Section(
                "Autoavaliação — deviations and their justification",
                lines=() if deviations else ("No indicator deviates from its meta.",),
                tables=(
                    Table(
                        "Deviations",
                        (
                            "Indicator",
                            "Meta",
                            "Result",
                            "Deviation (rate − 100)",
                            "Deviation of result %",
                            "Justification",
                        ),
                        tuple(deviations),
                    ),
                )
                if deviations
                else (),
            ),
        ),
        flat=quar_table,
    )


def _days_late(due: str | None, delivered: str | None) -> str:
    if not due or not delivered:
        return "—"
    return str(max(0, (date.fromisoformat(delivered) - date.fromisoformat(due)).days))


def acordo_report(run: Mapping[str, Any], inputs: Mapping[str, Any], results: Mapping[str, Any]) -> Report:
    tree = inputs["plan"]
    payloads = _payloads(inputs)
    indicator_scores = results.get("indicators") or {}
    product_scores = results.get("products") or {}
    teams = results.get("teams") or {}
    productivity = results.get("productivity") or {}
    n1 = (inputs.get("options") or {}).get("n1")
    sections = []
    flat: list[tuple[str, ...]] = []
    for unit in results.get("order") or list(teams):
        indicators = []
        for ind in (i for i in tree.get("indicators") or [] if i.get("unit_code") == unit):
            score = indicator_scores.get(ind["code"]) or {}
            row = (
                ind["code"],
                ind.get("name") or "",
                _result_text(payload_value(payloads.get(ind["code"]) or {})),
                _text(ind.get("meta")),
                _text(score.get("value")) if score.get("status") != "set_aside" else "set aside",
                _text(ind.get("weight")),
            )
            indicators.append(row)
            flat.append((unit, "indicator", *row[:4], "—", "—", "—", *row[4:]))
        products = []
        for prod in (p for p in tree.get("products") or [] if p.get("unit_code") == unit):
            score = product_scores.get(prod["code"]) or {}
            for target in prod.get("stages") or [prod]:
                delivered = (payloads.get(target["code"]) or {}).get("delivered_on")
                line = (
                    target["code"],
                    prod.get("name") or "",
                    _text(target.get("due_date")),
                    _text(delivered),
                    _days_late(target.get("due_date"), delivered),
                    _text(score.get("value")) if score.get("status") != "set_aside" else "set aside",
                    _text(prod.get("weight")),
                )
                products.append(line)
                flat.append((unit, "product", line[0], line[1], "—", "—", *line[2:]))
        team = teams.get(unit) or {}
        prod_n2 = productivity.get(unit) or {}
        lines = [
            f"Team grade (N2): {_text(team.get('value'))}" + ("" if team.get("complete", True) else " (incomplete)"),
        ]
        if prod_n2:
            step = prod_n2.get("step") or {}
            values = step.get("values") or {}
            lines.append(
                f"Productivity: {_text(prod_n2.get('value'))} ({step.get('formula')}; "
                f"N1 {values.get('N1', _text(n1))}, N2 {values.get('N2', '—')})"
            )
        columns = ("Indicator", "Name", "Result", "Meta", "Score", "Weight")
        tables = [Table(f"{unit} indicators", columns, tuple(indicators))]
        if products:
            tables.append(
                Table(
                    f"{unit} products",
                    ("Product", "Name", "Due date", "Delivered on", "Days late", "Score", "Weight"),
                    tuple(products),
                )
            )
        unit_name = next((u.get("name") for u in tree.get("units") or [] if u.get("code") == unit), unit)
        sections.append(Section(f"{unit} — {unit_name}", lines=tuple(lines), tables=tuple(tables)))
    return Report(
        title=str(tree["plan"].get("title") or f"Acordo de Resultados {tree['plan']['cycle_year']}"),
        lines=_header(run, inputs),
        sections=tuple(sections),
        flat=Table(
            "Acordo",
            (
                "Team",
                "Kind",
                "Code",
                "Name",
                "Result",
                "Meta",
                "Due date",
                "Delivered on",
                "Days late",
                "Score",
                "Weight",
            ),
            tuple(flat),
        ),
    )


def build_report(run: Mapping[str, Any], inputs: Mapping[str, Any], results: Mapping[str, Any]) -> Report:
    if inputs["plan"]["plan"]["framework"] == "quar":
        return quar_report(run, inputs, results)
    return acordo_report(run, inputs, results)

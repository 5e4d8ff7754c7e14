"""Write the Grafana dashboards (deploy/grafana/dashboards/*.json) from the panel lists below.

    python deploy/tools/build_dashboards.py          # rewrite the JSON files
    python deploy/tools/build_dashboards.py --check  # exit 1 when a JSON file is stale (the suite checks this)

Dashboards are code so that panels stay uniform and every PromQL expression can be tested (tests/deploy).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "grafana" / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "metas-prometheus"}
SERVICES_RE = "gateway|planning|execution|scoring|budget"


@dataclass
class Q:
    expr: str
    legend: str = ""
    instant: bool = False


@dataclass
class Panel:
    title: str
    kind: str  # stat | timeseries | bargauge | table | gauge
    queries: list[Q]
    unit: str = "short"
    width: int = 6
    height: int = 6
    description: str = ""
    minmax: tuple[float, float] | None = None
    thresholds: list[tuple[float | None, str]] = field(default_factory=lambda: [(None, "green")])


def _variable(name: str, label: str, query: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "definition": query,
        "query": {"query": query, "refId": f"var-{name}"},
        "refresh": 2,
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
    }


def _panel(panel: Panel, pid: int, x: int, y: int) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "unit": panel.unit,
        "thresholds": {
            "mode": "absolute",
            "steps": [{"color": color, "value": value} for value, color in panel.thresholds],
        },
    }
    if panel.minmax:
        defaults["min"], defaults["max"] = panel.minmax
    if panel.kind == "timeseries":
        defaults["custom"] = {"lineWidth": 1, "fillOpacity": 10, "showPoints": "never"}
    targets = []
    for i, q in enumerate(panel.queries):
        target: dict[str, Any] = {
            "refId": chr(ord("A") + i),
            "datasource": DATASOURCE,
            "expr": q.expr,
            "legendFormat": q.legend or "__auto",
            "range": not (q.instant or panel.kind in {"stat", "gauge", "bargauge", "table"}),
            "instant": q.instant or panel.kind in {"stat", "gauge", "bargauge", "table"},
        }
        if panel.kind == "table":
            target["format"] = "table"
        targets.append(target)
    out: dict[str, Any] = {
        "id": pid,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {},
    }
    if panel.kind == "stat":
        out["options"] = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "value",
            "graphMode": "none",
            "textMode": "auto",
        }
    elif panel.kind == "bargauge":
        out["options"] = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "orientation": "horizontal",
            "displayMode": "gradient",
        }
    elif panel.kind == "timeseries":
        out["options"] = {
            "legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
    elif panel.kind == "table":
        out["transformations"] = [
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {"excludeByName": {"Time": True}}},
        ]
    return out


def dashboard(
    uid: str,
    title: str,
    description: str,
    panels: list[Panel],
    variables: list[dict[str, Any]],
    time_from: str = "now-24h",
) -> dict[str, Any]:
    laid_out, x, y, row_h, pid = [], 0, 0, 0, 1
    for panel in panels:
        if x + panel.width > 24:
            x, y, row_h = 0, y + row_h, 0
        laid_out.append(_panel(panel, pid, x, y))
        pid, x, row_h = pid + 1, x + panel.width, max(row_h, panel.height)
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["metas"],
        "timezone": "utc",
        "editable": False,
        "graphTooltip": 1,
        "refresh": "1m",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": time_from, "to": "now"},
        "templating": {"list": variables},
        "annotations": {"list": []},
        "links": [{"title": "metas", "type": "dashboards", "tags": ["metas"], "asDropdown": True}],
        "panels": laid_out,
    }


PU = 'plan=~"$plan", unit=~"$unit"'
RATIO = [(None, "red"), (0.8, "orange"), (0.95, "green")]


def deadline_compliance() -> dict[str, Any]:
    # Every execution replica exports the same snapshot: collapse replicas with max by (plan, unit) first.
    def per_unit(status: str) -> str:
        return f"max by (plan, unit) (metas_execution_registrations_{status}{{{PU}}})"

    def count(status: str) -> str:
        return f"sum({per_unit(status)})"

    panels = [
        Panel(
            "On-time ratio",
            "stat",
            [Q(f"{count('on_time')} / {count('due')}")],
            unit="percentunit",
            minmax=(0, 1),
            thresholds=RATIO,
            description="Registrations made by their deadline over registrations whose deadline has passed.",
        ),
        Panel(
            "Late",
            "stat",
            [Q(count("late"))],
            thresholds=[(None, "green"), (1, "orange")],
            width=4,
            description="Registered after the deadline.",
        ),
        Panel(
            "Missing",
            "stat",
            [Q(count("missing"))],
            thresholds=[(None, "green"), (1, "red")],
            width=4,
            description="Deadline passed, nothing registered.",
        ),
        Panel(
            "Pending",
            "stat",
            [Q(count("pending"))],
            width=4,
            description="Owed for an ended period; deadline not yet over.",
        ),
        Panel(
            "Next deadline in",
            "stat",
            [Q('min(metas_execution_next_deadline_timestamp_seconds{plan=~"$plan"}) - time()')],
            unit="dtdurations",
            thresholds=[(None, "red"), (86400, "orange"), (3 * 86400, "green")],
            width=6,
            description="Time until the end of the next registration due day of the selected plans.",
        ),
        Panel(
            "On-time ratio by unit",
            "timeseries",
            [Q(f"max by (plan, unit) (metas_execution_on_time_ratio{{{PU}}})", "{{plan}} / {{unit}}")],
            unit="percentunit",
            minmax=(0, 1),
            width=12,
            height=9,
            thresholds=RATIO,
        ),
        Panel(
            "Late and missing by unit",
            "bargauge",
            [
                Q(
                    f"{per_unit('late')} + {per_unit('missing')}",
                    "{{plan}} / {{unit}}",
                )
            ],
            width=12,
            height=9,
            thresholds=[(None, "green"), (1, "orange"), (5, "red")],
        ),
        Panel(
            "Compliance by unit",
            "table",
            [Q(per_unit(s), s) for s in ("due", "on_time", "late", "missing", "pending")],
            width=18,
            height=10,
        ),
        Panel(
            "Compliance data age",
            "stat",
            [Q("time() - min(metas_execution_metrics_refresh_timestamp_seconds)")],
            unit="s",
            thresholds=[(None, "green"), (120, "orange"), (600, "red")],
            width=6,
            height=10,
            description="Seconds since the stalest execution replica last recomputed these figures.",
        ),
    ]
    variables = [
        _variable("plan", "Plan", "label_values(metas_execution_registrations_due, plan)"),
        _variable("unit", "Unit", 'label_values(metas_execution_registrations_due{plan=~"$plan"}, unit)'),
    ]
    return dashboard(
        "metas-deadline-compliance",
        "metas / Deadline compliance",
        "Monthly registrations against their deadlines, per plan and unit (execution service).",
        panels,
        variables,
        time_from="now-30d",
    )


def gateway_traffic() -> dict[str, Any]:
    up = 'upstream=~"$upstream"'
    rate = "[$__rate_interval]"
    panels = [
        Panel(
            "Requests / s",
            "timeseries",
            [Q(f"sum by (upstream) (rate(metas_gateway_requests_total{{{up}}}{rate}))", "{{upstream}}")],
            unit="reqps",
            width=12,
            height=8,
        ),
        Panel(
            "Server errors (5xx) ratio",
            "timeseries",
            [
                Q(
                    f'sum by (upstream) (rate(metas_gateway_requests_total{{{up}, status=~"5.."}}{rate}))'
                    f" / sum by (upstream) (rate(metas_gateway_requests_total{{{up}}}{rate}))",
                    "{{upstream}}",
                )
            ],
            unit="percentunit",
            width=12,
            height=8,
            thresholds=[(None, "green"), (0.05, "red")],
        ),
        Panel(
            "Latency",
            "timeseries",
            [
                Q(
                    f"histogram_quantile({q}, sum by (le) (rate(metas_gateway_request_duration_seconds_bucket"
                    f"{{{up}}}{rate})))",
                    f"p{int(q * 100)}",
                )
                for q in (0.5, 0.95, 0.99)
            ],
            unit="s",
            width=12,
            height=8,
        ),
        Panel(
            "Responses by status",
            "timeseries",
            [Q(f"sum by (status) (rate(metas_gateway_requests_total{{{up}}}{rate}))", "{{status}}")],
            unit="reqps",
            width=12,
            height=8,
        ),
        Panel(
            "Upstream ready",
            "stat",
            [Q(f"metas_gateway_upstream_up{{{up}}}", "{{upstream}}")],
            thresholds=[(None, "red"), (1, "green")],
            width=8,
            description="1 when the upstream's last readiness probe answered ready.",
        ),
        Panel(
            "Circuit breakers",
            "stat",
            [Q(f"metas_gateway_circuit_state{{{up}}}", "{{upstream}}")],
            thresholds=[(None, "green"), (1, "red"), (2, "orange")],
            width=8,
            description="0 closed, 1 open, 2 half-open.",
        ),
        Panel(
            "Rate-limited / s", "stat", [Q(f"sum(rate(metas_gateway_rate_limited_total{rate}))")], unit="reqps", width=8
        ),
        Panel(
            "Upstream errors by kind",
            "timeseries",
            [
                Q(
                    f"sum by (upstream, kind) (rate(metas_gateway_upstream_errors_total{{{up}}}{rate}))",
                    "{{upstream}} {{kind}}",
                )
            ],
            unit="reqps",
            width=12,
            height=8,
        ),
        Panel(
            "Retries / s",
            "timeseries",
            [Q(f"sum by (upstream) (rate(metas_gateway_retries_total{{{up}}}{rate}))", "{{upstream}}")],
            unit="reqps",
            width=12,
            height=8,
        ),
        Panel(
            "Targets up",
            "stat",
            [Q(f'up{{job=~"{SERVICES_RE}"}}', "{{job}} {{instance}}")],
            thresholds=[(None, "red"), (1, "green")],
            width=24,
            height=4,
        ),
        Panel(
            "Requests / s by service",
            "timeseries",
            [Q("service:metas_http_requests:rate5m", "{{service}}")],
            unit="reqps",
            width=8,
            height=8,
        ),
        Panel(
            "p95 latency by service",
            "timeseries",
            [Q("service:metas_http_request_duration_seconds:p95_5m", "{{service}}")],
            unit="s",
            width=8,
            height=8,
        ),
        Panel(
            "In-flight requests",
            "timeseries",
            [Q("sum by (service) (metas_http_requests_in_flight)", "{{service}}")],
            width=8,
            height=8,
        ),
    ]
    variables = [_variable("upstream", "Upstream", "label_values(metas_gateway_requests_total, upstream)")]
    return dashboard(
        "metas-gateway-traffic",
        "metas / Gateway traffic",
        "Traffic, errors and latency at the gateway, upstream health, and every service's HTTP figures.",
        panels,
        variables,
        time_from="now-6h",
    )


def grades() -> dict[str, Any]:
    plan = 'plan=~"$plan"'
    rate = "[$__rate_interval]"
    panels = [
        Panel(
            "QUAR final rate",
            "stat",
            [Q(f"metas_scoring_final_rate{{{plan}}}", "{{plan}}")],
            unit="percent",
            minmax=(0, 125),
            thresholds=[(None, "red"), (75, "orange"), (100, "green")],
            width=8,
            height=7,
            description="Final rate of the latest evaluation of each QUAR plan (ceiling 125 %).",
        ),
        Panel(
            "QUAR objective rates",
            "bargauge",
            [Q(f"metas_scoring_objective_rate{{{plan}}}", "{{plan}} / {{objective}}")],
            unit="percent",
            minmax=(0, 125),
            thresholds=[(None, "red"), (75, "orange"), (100, "green")],
            width=16,
            height=7,
        ),
        Panel(
            "Team grades (Acordo de Resultados)",
            "bargauge",
            [Q(f"metas_scoring_team_grade{{{plan}}}", "{{plan}} / {{unit}}")],
            minmax=(0, 100),
            thresholds=[(None, "red"), (70, "orange"), (90, "green")],
            width=24,
            height=10,
            description="Grade 0-100 of each team in the latest evaluation of each Acordo plan.",
        ),
        Panel(
            "Team grades over time",
            "timeseries",
            [Q(f"metas_scoring_team_grade{{{plan}}}", "{{plan}} / {{unit}}")],
            minmax=(0, 100),
            width=12,
            height=8,
        ),
        Panel(
            "Evaluations per hour",
            "timeseries",
            [Q(f"sum by (plan) (increase(metas_scoring_evaluations_total{{{plan}}}[1h]))", "{{plan}}")],
            width=12,
            height=8,
        ),
        Panel(
            "Evaluation time (p95)",
            "timeseries",
            [
                Q(
                    f"histogram_quantile(0.95, sum by (le, plan) "
                    f"(rate(metas_scoring_evaluation_duration_seconds_bucket{{{plan}}}{rate})))",
                    "{{plan}}",
                )
            ],
            unit="s",
            width=12,
            height=8,
        ),
        Panel(
            "Simulations / s",
            "timeseries",
            [Q(f"sum by (kind) (rate(metas_scoring_simulations_total{rate}))", "{{kind}}")],
            unit="reqps",
            width=12,
            height=8,
        ),
    ]
    variables = [_variable("plan", "Plan", "label_values(metas_scoring_evaluations_total, plan)")]
    return dashboard(
        "metas-grades",
        "metas / Grades",
        "Grades of the latest evaluation of each plan (scoring service) and the evaluation workload.",
        panels,
        variables,
        time_from="now-30d",
    )


def prr_execution() -> dict[str, Any]:
    sel = 'eixo=~"$eixo", year=~"$year"'

    # Every budget replica exports the same figures: collapse replicas with max by (eixo, year) first.
    def per_cell(metric: str) -> str:
        return f"max by (eixo, year) ({metric}{{{sel}}})"

    eur = "currencyEUR"
    panels = [
        Panel(
            "Planned",
            "stat",
            [Q(f"sum({per_cell('metas_budget_planned_eur')})")],
            unit=eur,
            width=8,
            description="Planned (corrected) PRR budget incl. VAT of the selected eixos and years.",
        ),
        Panel("Executed (paid)", "stat", [Q(f"sum({per_cell('metas_budget_executed_eur')})")], unit=eur, width=8),
        Panel(
            "Executed / planned",
            "stat",
            [Q(f"sum({per_cell('metas_budget_executed_eur')}) / sum({per_cell('metas_budget_planned_eur')})")],
            unit="percentunit",
            thresholds=[(None, "red"), (0.5, "orange"), (0.9, "green")],
            width=8,
            description="Years printed with execution only (nothing planned) count in the numerator.",
        ),
        Panel(
            "Execution ratio by eixo and year",
            "bargauge",
            [Q(per_cell("metas_budget_execution_ratio"), "eixo {{eixo}} / {{year}}")],
            unit="percentunit",
            minmax=(0, 1),
            thresholds=[(None, "red"), (0.5, "orange"), (0.9, "green")],
            width=12,
            height=10,
        ),
        Panel(
            "Planned and executed by eixo and year",
            "table",
            [Q(per_cell("metas_budget_planned_eur"), "planned"), Q(per_cell("metas_budget_executed_eur"), "executed")],
            unit=eur,
            width=12,
            height=10,
        ),
        Panel(
            "Executed by eixo",
            "timeseries",
            [Q(f"sum by (eixo) ({per_cell('metas_budget_executed_eur')})", "eixo {{eixo}}")],
            unit=eur,
            width=24,
            height=8,
        ),
    ]
    variables = [
        _variable("eixo", "Eixo", "label_values(metas_budget_planned_eur, eixo)"),
        _variable("year", "Year", "label_values(metas_budget_planned_eur, year)"),
    ]
    return dashboard(
        "metas-prr-execution",
        "metas / PRR execution (C17-i03)",
        "Planned and executed amounts of the Recovery and Resilience Plan investment, by eixo and year.",
        panels,
        variables,
        time_from="now-90d",
    )


DASHBOARDS = {
    "metas-deadline-compliance.json": deadline_compliance,
    "metas-gateway-traffic.json": gateway_traffic,
    "metas-grades.json": grades,
    "metas-prr-execution.json": prr_execution,
}


def render(builder: Any) -> str:
    return json.dumps(builder(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    stale = []
    for name, builder in DASHBOARDS.items():
        path, text = OUT / name, render(builder)
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        sys.stderr.write(f"stale dashboards {stale}: run python deploy/tools/build_dashboards.py\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

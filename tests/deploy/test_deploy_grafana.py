"""Grafana: provisioning points at the dashboards; every panel's PromQL parses (promtool) and names only
metrics that the code exports or the rule files record."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import DEPLOY, REPO, require_tool, run

GRAFANA = DEPLOY / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
CODE_DIRS = [REPO / "libs", REPO / "services", REPO / "gateway"]
VARIABLE_VALUES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def panel_exprs(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def variable_selectors(dashboard: dict[str, Any]) -> list[str]:
    out = []
    for var in dashboard["templating"]["list"]:
        match = re.fullmatch(r"label_values\((.+), *(\w+)\)", var["query"]["query"])
        assert match, var["query"]
        out.append(match.group(1))
    return out


def as_promql(expr: str) -> str:
    """Grafana expression -> plain PromQL: time macros get a duration, template variables match anything."""
    for macro, value in VARIABLE_VALUES.items():
        expr = expr.replace(macro, value)
    return re.sub(r"\$\{?\w+\}?", ".*", expr)


def metric_names(expr: str) -> set[str]:
    # Identifiers that are not followed by "(" (functions) nor inside quotes / label matchers.
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_matchers = re.sub(r"\{[^}]*\}", "{}", without_strings)
    without_groupings = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", without_matchers)
    tokens = {
        m.group(0)
        for m in re.finditer(r"(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*", without_groupings)
        if not without_groupings[m.end() :].lstrip().startswith("(")
    }
    keywords = {"and", "or", "unless", "bool", "offset"}
    return tokens - keywords


@pytest.fixture(scope="module")
def exported_patterns() -> list[re.Pattern[str]]:
    """Metric names the code declares: string literals starting with metas_; an f-string's
    placeholders (f"metas_execution_registrations_{name}") match any identifier part."""
    literals = set()
    for d in CODE_DIRS:
        for path in d.rglob("*.py"):
            literals |= set(re.findall(r"""["'](metas_[a-z0-9_{}.]+)["']""", path.read_text()))
    return [re.compile(re.sub(r"\\\{[^}]*\\\}", r"[a-z0-9_]+", re.escape(lit))) for lit in literals]


@pytest.fixture(scope="module")
def recorded() -> set[str]:
    names = set()
    for path in (DEPLOY / "prometheus" / "rules").glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            names |= {r["record"] for r in group["rules"] if "record" in r}
    return names


def test_dashboards_are_up_to_date_with_their_builder() -> None:
    run([sys.executable, str(DEPLOY / "tools" / "build_dashboards.py"), "--check"])
    assert {p.name for p in DASHBOARDS} >= {"metas-deadline-compliance.json", "metas-gateway-traffic.json"}


def test_provisioning_matches_the_compose_mounts_and_the_datasource_uid() -> None:
    datasource = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "metas.yml").read_text())
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    (ds,) = datasource["datasources"]
    assert ds["type"] == "prometheus"
    assert ds["url"] == "http://prometheus:9090"
    assert "prometheus" in compose["services"]
    dashboards_mount = "./deploy/grafana/dashboards:" + provider["providers"][0]["options"]["path"] + ":ro"
    assert dashboards_mount in compose["services"]["grafana"]["volumes"]
    for path in DASHBOARDS:
        dashboard = load(path)
        uids = {p["datasource"]["uid"] for p in dashboard["panels"]}
        uids |= {t["datasource"]["uid"] for p in dashboard["panels"] for t in p["targets"]}
        assert uids == {ds["uid"]}, path.name


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_layout_is_well_formed(path: Path) -> None:
    dashboard = load(path)
    assert dashboard["uid"] == path.stem
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        pos = panel["gridPos"]
        assert 0 <= pos["x"] <= 24 - pos["w"], panel["title"]
        assert panel["targets"], panel["title"]
        assert [t["refId"] for t in panel["targets"]] == [chr(65 + i) for i in range(len(panel["targets"]))]
    # No two panels overlap on the grid.
    cells = set()
    for panel in dashboard["panels"]:
        pos = panel["gridPos"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, panel["title"]
                cells.add((x, y))


def test_every_panel_and_variable_query_parses_with_promtool(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    rules = []
    for path in DASHBOARDS:
        dashboard = load(path)
        for i, expr in enumerate(panel_exprs(dashboard) + variable_selectors(dashboard)):
            rules.append({"record": f"dashboard:{path.stem.replace('-', '_')}:{i}", "expr": as_promql(expr)})
    assert len(rules) > 20
    rules_file = tmp_path / "dashboards.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    out = run([promtool, "check", "rules", str(rules_file)])
    assert f"SUCCESS: {len(rules)} rules found" in out


def test_promtool_check_catches_a_broken_expression(tmp_path: Path) -> None:
    # Guard for the test above: the same pipeline rejects malformed PromQL.
    promtool = require_tool("promtool")
    rules_file = tmp_path / "broken.yml"
    bad = as_promql("sum by (upstream) (rate(metas_gateway_requests_total[$__rate_interval])")
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [{"record": "x:y", "expr": bad}]}]}))
    proc = subprocess.run([promtool, "check", "rules", str(rules_file)], capture_output=True, text=True, check=False)
    assert proc.returncode != 0


def test_metric_name_extraction() -> None:
    expr = 'sum by (upstream) (rate(metas_gateway_requests_total{upstream=~"$u", status=~"5.."}[5m])) / time()'
    assert metric_names(expr) == {"metas_gateway_requests_total"}
    assert metric_names("service:metas_http_requests:rate5m") == {"service:metas_http_requests:rate5m"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboards_use_only_metrics_that_exist(
    path: Path, exported_patterns: list[re.Pattern[str]], recorded: set[str]
) -> None:
    dashboard = load(path)
    names: set[str] = set()
    for expr in panel_exprs(dashboard) + variable_selectors(dashboard):
        names |= metric_names(as_promql(expr))
    assert names
    for name in sorted(names):
        if name in recorded or name == "up":
            continue
        exported = re.sub(r"_(bucket|count|sum)$", "", name)
        assert any(p.fullmatch(exported) for p in exported_patterns), f"{path.name}: {name} is exported by no code"


def test_exported_name_check_tells_declared_from_unknown(exported_patterns: list[re.Pattern[str]]) -> None:
    def known(name: str) -> bool:
        return any(p.fullmatch(name) for p in exported_patterns)

    assert known("metas_gateway_requests_total")
    assert known("metas_execution_registrations_missing")  # declared through an f-string
    assert not known("metas_gateway_requests_totally")
    assert not known("metas_nonexistent_seconds")

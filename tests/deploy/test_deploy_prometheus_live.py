"""A real Prometheus (the Debian package) scrapes the five real processes with the project's scrape config
and rules: it reads the deadline-compliance series back exactly as execution exports them, evaluates every
rule without error, answers every dashboard query, and puts MetasServiceDown in pending when a service dies."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml
from conftest import DEPLOY, PORTS, REPO, SERVICES, require_tool
from prometheus_client.parser import text_string_to_metric_families
from test_deploy_grafana import DASHBOARDS, as_promql, load, metric_names, panel_exprs, variable_selectors

from metas_dev.cluster import Cluster, ClusterConfig, free_port
from metas_kit.auth import Principal, issue_token
from metas_kit.testing import create_pg_database, drop_pg_database

JWT_SECRET = "deploy-live-test-secret-0123456789abcdef"
SEED_PLANS = {"ii-2024-quar", "ipsm-2014-acordo"}


@dataclass
class Observed:
    cluster: Cluster
    prometheus: str

    def query(self, promql: str) -> list[dict[str, Any]]:
        resp = httpx.get(f"{self.prometheus}/api/v1/query", params={"query": promql}, timeout=10)
        body = resp.json()
        assert body["status"] == "success", (promql, body)
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def api(self, path: str) -> Any:
        body = httpx.get(f"{self.prometheus}/api/v1/{path}", timeout=10).json()
        assert body["status"] == "success", body
        return body["data"]


def wait_for(what: str, check: Callable[[], Any], timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout} s waiting for {what}; last: {last!r}")


def _seed(env: dict[str, str]) -> None:
    for module, data in (("planning.seed", "data/plans"), ("budget.seed", "data/budget")):
        proc = subprocess.run(
            [sys.executable, "-m", module, data],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr


def _prometheus_config(cluster: Cluster, prom_port: int, scrape_interval: str) -> dict[str, Any]:
    """The repository's prometheus.yml, pointed at this cluster's ports and scraped every second."""
    config: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config["global"].update(scrape_interval=scrape_interval, evaluation_interval=scrape_interval)
    config["rule_files"] = [str(DEPLOY / "prometheus" / "rules" / "*.yml")]
    for job in config["scrape_configs"]:
        name = job["job_name"]
        port = cluster.config.ports[name] if name in SERVICES else prom_port
        (static,) = job["static_configs"]
        assert static["targets"][0].endswith(f":{PORTS.get(name, 9090)}")  # the shipped config's port
        static["targets"] = [f"127.0.0.1:{port}"]
    return config


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    promtool = require_tool("promtool")
    prometheus = require_tool("prometheus")
    tmp = tmp_path_factory.mktemp("prometheus-live")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    db_names = {s: f"metas_deploy_{s}_{worker}" for s in SERVICES if s != "gateway"}
    config = ClusterConfig(
        ports={name: free_port() for name in SERVICES},
        database_urls={s: create_pg_database(name) for s, name in db_names.items()},
        jwt_secret=JWT_SECRET,
        log_dir=tmp / "logs",
        extra_env={
            "execution": {"METAS_EXECUTION_METRICS_REFRESH_SECONDS": "1"},
            "budget": {"METAS_BUDGET_METRICS_REFRESH_SECONDS": "1"},
        },
    )
    seed_env = {k: v for k, v in os.environ.items() if not k.startswith("METAS_")}
    seed_env.update(
        METAS_PLANNING_DATABASE_URL=config.database_urls["planning"],
        METAS_BUDGET_DATABASE_URL=config.database_urls["budget"],
    )
    _seed(seed_env)
    cluster = Cluster(config)
    prom: subprocess.Popen[bytes] | None = None
    try:
        cluster.start()
        cluster.wait_ready(timeout=120)
        prom_port = free_port()
        config_file = tmp / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(_prometheus_config(cluster, prom_port, "1s"), sort_keys=False))
        subprocess.run([promtool, "check", "config", str(config_file)], check=True, capture_output=True)
        with open(tmp / "prometheus.log", "wb") as log:
            prom = subprocess.Popen(
                [
                    prometheus,
                    f"--config.file={config_file}",
                    f"--storage.tsdb.path={tmp / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{prom_port}"

        def ready() -> bool:
            try:
                return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for("Prometheus to be ready", ready, timeout=60)
        yield Observed(cluster, url)
    finally:
        if prom is not None:
            prom.terminate()
            prom.wait(timeout=30)
        cluster.stop()
        for name in db_names.values():
            drop_pg_database(name)


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                out[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def _series(result: list[dict[str, Any]], drop: tuple[str, ...] = ("job", "instance")) -> dict[Any, float]:
    return {
        tuple(sorted((k, v) for k, v in r["metric"].items() if k not in drop and k != "__name__")): float(r["value"][1])
        for r in result
    }


def test_every_target_is_scraped_under_its_service_job(observed: Observed) -> None:
    wait_for(
        "all five targets up",
        lambda: len(observed.query('up{job=~"gateway|planning|execution|scoring|budget"} == 1')) == 5,
    )
    targets = observed.api("targets")["activeTargets"]
    jobs = {t["labels"]["job"]: t for t in targets}
    for svc in SERVICES:
        assert jobs[svc]["health"] == "up", jobs[svc]
        assert jobs[svc]["scrapeUrl"] == f"{observed.cluster.config.url(svc)}/metrics"


def test_compliance_series_read_back_equal_what_execution_exports(observed: Observed) -> None:
    def both_plans() -> bool:
        plans = {r["metric"]["plan"] for r in observed.query("metas_execution_registrations_due")}
        return plans == SEED_PLANS

    wait_for("compliance series of both seed plans", both_plans)
    exported = httpx.get(observed.cluster.config.url("execution") + "/metrics", timeout=10).text
    for status in ("due", "on_time", "late", "missing", "pending"):
        name = f"metas_execution_registrations_{status}"
        from_prometheus = _series(observed.query(name))
        assert from_prometheus == _samples(exported, name), name
    due = _series(observed.query("metas_execution_registrations_due"))
    missing = _series(observed.query("metas_execution_registrations_missing"))
    on_time = _series(observed.query("metas_execution_registrations_on_time"))
    late = _series(observed.query("metas_execution_registrations_late"))
    # Both seed cycles (2014, 2024) are over and nothing was registered: every owed registration is due
    # and missing, none on time or late, and the on-time ratio of every unit is 0.
    assert due
    assert all(v > 0 for v in due.values())
    assert missing == due
    # By hand: unit AUDSEC of ipsm-2014-acordo owns 2 monthly indicators (AUDSEC-I1, AUDSEC-I2); the 12
    # months of 2014 are all owed and their last deadline (10th business day of January 2015) is over:
    # 2 x 12 = 24 due, 24 missing.
    audsec = (("plan", "ipsm-2014-acordo"), ("unit", "AUDSEC"))
    assert due[audsec] == 24
    assert missing[audsec] == 24
    assert set(on_time.values()) == set(late.values()) == {0.0}
    ratio = _series(observed.query("metas_execution_on_time_ratio"))
    assert set(ratio) == set(due)
    assert set(ratio.values()) == {0.0}
    # The dashboard's headline stat, computed by Prometheus over both plans: 0 on time / N due.
    (headline,) = observed.query(as_promql(panel_exprs(load(DASHBOARDS_BY_NAME["metas-deadline-compliance"]))[0]))
    assert float(headline["value"][1]) == 0.0


DASHBOARDS_BY_NAME = {p.stem: p for p in DASHBOARDS}


def test_prr_budget_series_read_back_equal_what_budget_exports(observed: Observed) -> None:
    wait_for("budget gauges", lambda: observed.query("metas_budget_executed_eur"))
    exported = httpx.get(observed.cluster.config.url("budget") + "/metrics", timeout=10).text
    for name in ("metas_budget_planned_eur", "metas_budget_executed_eur", "metas_budget_execution_ratio"):
        assert _series(observed.query(name)) == _samples(exported, name), name
    # Tabela 19 of the PRR seed, Eixo 4, 2021 (EUR, VAT included): subinvestments 1.4.1 468.962 +
    # 1.4.2 2.189.334 + 1.4.3 0 = 2.658.296, the figure the eixo row prints too.
    executed = _series(observed.query('metas_budget_executed_eur{eixo="4", year="2021"}'))
    assert executed == {(("eixo", "4"), ("year", "2021")): 468962.0 + 2189334.0 + 0.0}


def test_every_rule_loads_and_evaluates_without_error(observed: Observed) -> None:
    def evaluated() -> list[dict[str, Any]] | None:
        groups: list[dict[str, Any]] = observed.api("rules")["groups"]
        rules = [r for g in groups for r in g["rules"]]
        return groups if rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules) else None

    groups = wait_for("every rule evaluated once", evaluated, timeout=60)
    files = sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))
    expected = {g["name"] for p in files for g in yaml.safe_load(p.read_text())["groups"]}
    assert {g["name"] for g in groups} == expected
    for group in groups:
        for rule in group["rules"]:
            assert rule["health"] == "ok", (group["name"], rule["name"], rule.get("lastError"))


def test_gateway_traffic_reaches_the_recording_rules_and_dashboards(observed: Observed) -> None:
    token = issue_token(Principal(sub="deploy-test", roles=frozenset({"admin"})), JWT_SECRET)
    gw = observed.cluster.config.url("gateway")
    for _ in range(20):
        resp = httpx.get(f"{gw}/api/planning/v1/plans", headers={"authorization": f"Bearer {token}"}, timeout=10)
        assert resp.status_code == 200
    # 20 requests inside the 5-minute window: the gateway's per-service rate is positive.
    rate = wait_for(
        "gateway request rate", lambda: _series(observed.query('service:metas_http_requests:rate5m{service="gateway"}'))
    )
    assert rate[(("service", "gateway"),)] > 0
    # The 20 proxied calls appear with the next scrapes (every second here).
    key = (("status", "200"), ("upstream", "planning"))
    query = 'sum by (upstream, status) (metas_gateway_requests_total{upstream="planning"})'
    wait_for("20 proxied requests counted", lambda: _series(observed.query(query)).get(key, 0) >= 20)
    assert _series(observed.query(query))[key] == 20  # probes of /readyz are not proxied calls


def test_every_dashboard_query_runs_and_names_only_exported_metrics(observed: Observed) -> None:
    exported: set[str] = set()
    for svc in SERVICES:
        text = httpx.get(observed.cluster.config.url(svc) + "/metrics", timeout=10).text
        for family in text_string_to_metric_families(text):
            # A labelled family with no child yet has HELP/TYPE lines but no sample: derive its sample names.
            suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}.get(family.type, [""])
            exported |= {family.name + suffix for suffix in suffixes}
            exported |= {s.name for s in family.samples}
    recorded = {r["name"] for g in observed.api("rules")["groups"] for r in g["rules"] if r["type"] == "recording"}
    for path in DASHBOARDS:
        dashboard = load(path)
        for expr in panel_exprs(dashboard) + variable_selectors(dashboard):
            promql = as_promql(expr)
            observed.query(promql)  # asserts status == success
            unknown = metric_names(promql) - exported - recorded - {"up"}
            assert not unknown, (path.name, expr, unknown)


def test_a_stopped_service_puts_service_down_in_pending(observed: Observed) -> None:
    # Last in this module: it stops budget for good.
    observed.cluster.stop_one("budget")

    def pending() -> list[dict[str, Any]]:
        alerts = observed.api("alerts")["alerts"]
        return [a for a in alerts if a["labels"]["alertname"] == "MetasServiceDown" and a["labels"]["job"] == "budget"]

    (alert,) = wait_for("MetasServiceDown for budget", pending, timeout=60)
    assert alert["state"] == "pending"  # `for: 2m` has not elapsed yet
    assert alert["labels"]["severity"] == "critical"
    assert observed.query('up{job="budget"}')[0]["value"][1] == "0"

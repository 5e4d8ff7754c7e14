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
from deploy_support import DEPLOY, PORTS, REPO, SERVICES, require_tool
from harness.databases import create_pg_database, drop_pg_database
from prometheus_client.parser import text_string_to_metric_families
from test_deploy_grafana import DASHBOARDS, as_promql, load, metric_names, panel_exprs, variable_selectors

from metas_dev.cluster import Cluster, ClusterConfig, free_port
from metas_kit.auth import Principal, issue_token

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


def _admin_headers() -> dict[str, str]:
    token = issue_token(Principal(sub="deploy-test", roles=frozenset({"admin"})), JWT_SECRET)
    return {"authorization": f"Bearer {token}"}


def _import_audsec_history(gateway: str) -> None:
    """Back-dated registrations of unit AUDSEC (ipsm-2014-acordo, 2 monthly indicators; due: 10th business
    day of the next month, America/Sao_Paulo): AUDSEC-I1 every month of 2014 on the 1st of the next month
    (on time, 12); AUDSEC-I2 January-June on 20 December 2014 (late, 6); AUDSEC-I2 July-December never
    (missing, 6)."""
    rows = []
    for month in range(1, 13):
        next_month = "2015-01-01" if month == 12 else f"2014-{month + 1:02d}-01"
        rows.append(
            {
                "item_code": "AUDSEC-I1",
                "period": f"2014-{month:02d}",
                "payload": {"value": "100"},
                "registered_at": f"{next_month}T12:00:00Z",
            }
        )
    for month in range(1, 7):
        rows.append(
            {
                "item_code": "AUDSEC-I2",
                "period": f"2014-{month:02d}",
                "payload": {"value": "100"},
                "registered_at": "2014-12-20T12:00:00Z",
            }
        )
    resp = httpx.post(
        f"{gateway}/api/execution/v1/plans/ipsm-2014-acordo/registrations:import",
        headers=_admin_headers(),
        json={"reason": "deploy live test history", "registrations": rows},
        timeout=60,
    )
    assert resp.status_code in (200, 201), resp.text
    assert resp.json()["created"] == 18


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Observed]:
    promtool = require_tool("promtool")
    prometheus = require_tool("prometheus")
    tmp = tmp_path_factory.mktemp("prometheus-live")
    # Unique per process: two runs of the suite at once (or xdist workers) never share a database.
    db_names = {s: f"metas_deploy_{s}_{os.getpid()}" for s in SERVICES if s != "gateway"}
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
        _import_audsec_history(cluster.config.url("gateway"))
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
    # Every process's target, not only some: a target not scraped yet is "unknown", not "up".
    jobs_regex = "|".join(SERVICES)
    wait_for(
        f"all {len(SERVICES)} targets up",
        lambda: len(observed.query(f'up{{job=~"{jobs_regex}"}} == 1')) == len(SERVICES),
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
    series = {
        status: _series(observed.query(f"metas_execution_registrations_{status}"))
        for status in ("due", "on_time", "late", "missing")
    }
    # Both seed cycles (2014, 2024) are over: every owed registration is due, and due = on time + late + missing.
    assert series["due"]
    for key, due in series["due"].items():
        assert due > 0
        assert due == series["on_time"][key] + series["late"][key] + series["missing"][key], key
    # By hand, unit AUDSEC of ipsm-2014-acordo: 2 monthly indicators x 12 months of 2014 = 24 due, of which
    # the imported history makes 12 on time, 6 late and leaves 6 missing; on-time ratio 12 / 24 = 0.5.
    audsec = (("plan", "ipsm-2014-acordo"), ("unit", "AUDSEC"))
    assert [series[s][audsec] for s in ("due", "on_time", "late", "missing")] == [24, 12, 6, 6]
    assert _series(observed.query("metas_execution_on_time_ratio"))[audsec] == 0.5
    # Every other unit registered nothing: all missing.
    for key, due in series["due"].items():
        if key != audsec:
            assert series["missing"][key] == due, key
    # The dashboard's headline stat over both plans: the 12 on time over everything due.
    total_due = sum(series["due"].values())
    (headline,) = observed.query(as_promql(panel_exprs(load(DASHBOARDS_BY_NAME["metas-deadline-compliance"]))[0]))
    assert float(headline["value"][1]) == pytest.approx(12 / total_due)


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
    gw = observed.cluster.config.url("gateway")
    key = (("status", "200"), ("upstream", "planning"))
    query = 'sum by (upstream, status) (metas_gateway_requests_total{upstream="planning"})'

    def proxied() -> float:
        return _series(observed.query(query)).get(key, 0)

    def get_plans() -> None:
        assert httpx.get(f"{gw}/api/planning/v1/plans", headers=_admin_headers(), timeout=10).status_code == 200

    # A labelled counter is born at its first increment: let Prometheus see it at 1 before the burst,
    # or rate() has no increase to measure.
    get_plans()
    wait_for("first proxied request scraped", lambda: proxied() == 1)
    for _ in range(19):
        get_plans()
    wait_for("20 proxied requests counted", lambda: proxied() >= 20)
    assert proxied() == 20  # probes of /readyz are not proxied calls
    # The recording rule sees the gateway's traffic.
    query_rate = 'service:metas_http_requests:rate5m{service="gateway"}'
    wait_for(
        "gateway request rate > 0", lambda: _series(observed.query(query_rate)).get((("service", "gateway"),), 0) > 0
    )


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


def test_an_evaluation_through_the_gateway_shows_up_as_grades(observed: Observed) -> None:
    gw = observed.cluster.config.url("gateway")
    resp = httpx.post(
        f"{gw}/api/scoring/v1/evaluations",
        headers=_admin_headers(),
        json={"plan_id": "ipsm-2014-acordo", "period_to": "2014-12"},
        timeout=60,
    )
    assert resp.status_code == 201, resp.text
    teams = {unit: float(grade) for unit, grade in resp.json()["summary"]["teams"].items() if grade is not None}
    # Only AUDSEC has registrations (the imported history): its grade is set, the other teams have none.
    assert set(teams) == {"AUDSEC"}
    query = 'metas_scoring_team_grade{plan="ipsm-2014-acordo"}'
    scraped = wait_for("team grades", lambda: len(observed.query(query)) == len(teams) and observed.query(query))
    # Prometheus holds exactly the grades the evaluation returned, one series per team.
    assert {r["metric"]["unit"]: float(r["value"][1]) for r in scraped} == teams
    runs = wait_for(
        "evaluation counted", lambda: observed.query('metas_scoring_evaluations_total{plan="ipsm-2014-acordo"}')
    )
    assert float(runs[0]["value"][1]) == 1.0


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

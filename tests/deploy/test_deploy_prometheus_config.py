"""Prometheus scrape configs and rule files pass promtool; the rule unit tests pass; configs agree."""

from __future__ import annotations

from pathlib import Path

import yaml
from deploy_support import DEPLOY, PORTS, REPO, SERVICES, require_tool, run

PROM = DEPLOY / "prometheus"


def _jobs(config: Path) -> dict[str, list[str]]:
    data = yaml.safe_load(config.read_text())
    return {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]] for job in data["scrape_configs"]
    }


def test_scrape_configs_pass_promtool_check_config() -> None:
    promtool = require_tool("promtool")
    for name in ("prometheus.yml", "prometheus.compose.yml"):
        out = run([promtool, "check", "config", name], cwd=PROM)
        assert "SUCCESS" in out


def test_every_rule_file_passes_promtool_check_rules() -> None:
    promtool = require_tool("promtool")
    files = sorted(str(p) for p in (PROM / "rules").glob("*.yml"))
    assert any(f.endswith("availability.yml") for f in files)
    out = run([promtool, "check", "rules", *files])
    assert out.count("SUCCESS") == len(files)


def test_every_rule_unit_test_file_passes() -> None:
    promtool = require_tool("promtool")
    tests = sorted(str(p) for p in (PROM / "tests").glob("*_test.yml"))
    assert any(t.endswith("availability_test.yml") for t in tests)
    out = run([promtool, "test", "rules", *tests])
    assert "FAILED" not in out


def test_local_config_scrapes_the_five_processes_on_loopback_ports() -> None:
    jobs = _jobs(PROM / "prometheus.yml")
    for svc in SERVICES:
        assert jobs[svc] == [f"127.0.0.1:{PORTS[svc]}"]


def test_compose_config_scrapes_the_compose_services_by_name() -> None:
    jobs = _jobs(PROM / "prometheus.compose.yml")
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    for svc in SERVICES:
        assert jobs[svc] == [f"{svc}:{PORTS[svc]}"]
        assert svc in compose["services"]
    # Same jobs and the same rule files in both variants.
    local = yaml.safe_load((PROM / "prometheus.yml").read_text())
    composed = yaml.safe_load((PROM / "prometheus.compose.yml").read_text())
    assert set(_jobs(PROM / "prometheus.yml")) == set(jobs)
    assert local["rule_files"] == composed["rule_files"] == ["rules/*.yml"]


def test_every_alert_has_a_severity_and_a_summary() -> None:
    for path in sorted((PROM / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    assert rule.get("labels", {}).get("severity") in {"critical", "warning", "info"}, (path, rule)
                    assert rule.get("annotations", {}).get("summary"), (path, rule["alert"])

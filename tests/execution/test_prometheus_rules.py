"""The execution alert rules pass promtool and their unit tests, and only use gauges we export.

promtool comes from Debian's `prometheus` package (installed by .ci/run). Without it these tests
FAIL on purpose: alert rules that were never evaluated are not tested.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY, generate_latest

from execution.metrics import COLLECTOR, Snapshot, UnitCounts

PROM = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = PROM / "rules" / "execution.yml"
RULE_TESTS = PROM / "tests" / "execution_test.yml"


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not installed (apt-get install prometheus); the alert rules cannot be tested")
    return path


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], capture_output=True, text=True, timeout=120, check=False)


def test_rules_pass_promtool_check() -> None:
    result = run("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 4 rules found" in result.stdout


def test_rule_unit_tests_pass() -> None:
    result = run("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_rule_unit_tests_cover_every_alert() -> None:
    alerts = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "alert" in r}
    tested = {
        case["alertname"]
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert (
        alerts
        == tested
        == {
            "MetasRegistrationDeadlineApproaching",
            "MetasRegistrationsOverdue",
            "MetasExecutionComplianceMetricsAbsent",
            "MetasExecutionComplianceStale",
        }
    )


def test_rules_only_use_metrics_the_service_exports() -> None:
    saved = COLLECTOR.snapshot
    COLLECTOR.snapshot = Snapshot(
        counts={("p", "u"): UnitCounts(due=2, on_time=1, late=1, missing=0, pending=1)},
        next_deadline={"p": 1.0},
        refreshed_at=1.0,
    )
    try:
        exported = set(re.findall(r"^(metas_execution_\w+)", generate_latest(REGISTRY).decode(), re.MULTILINE))
    finally:
        COLLECTOR.snapshot = saved
    used = set(re.findall(r"metas_execution_\w+", RULES.read_text()))
    assert used, "the rules reference no execution metric"
    assert used <= exported, used - exported
    # Labels stay bounded: plan and unit only.
    text = generate_latest(REGISTRY).decode()
    for line in text.splitlines():
        if line.startswith("metas_execution_") and "{" in line:
            labels = set(re.findall(r'(\w+)="', line))
            assert labels <= {"plan", "unit"}, line

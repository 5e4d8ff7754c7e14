"""The reminder alert rule passes promtool and its unit tests, and uses only counters execution exports.

promtool comes from Debian's `prometheus` package (installed by .ci/run); without it these tests FAIL on purpose."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY, generate_latest

import execution.application.reminders  # noqa: F401 - registers the counters

PROM = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULES = PROM / "rules" / "reminders.yml"
RULE_TESTS = PROM / "tests" / "reminders_test.yml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not installed (apt-get install prometheus); the alert rule cannot be tested")
    return subprocess.run([path, *args], capture_output=True, text=True, timeout=120, check=False)


def test_rule_passes_promtool_check() -> None:
    result = run("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rules found" in result.stdout


def test_rule_unit_tests_pass() -> None:
    result = run("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_rule_uses_counters_the_service_exports_for_every_kind() -> None:
    text = generate_latest(REGISTRY).decode()
    exprs = [r["expr"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    used = {name for expr in exprs for name in re.findall(r"metas_reminders_\w+", expr)}
    assert used == {"metas_reminders_digests_failed_total"}
    for name in (
        "metas_reminders_digests_sent_total",
        "metas_reminders_digests_failed_total",
        "metas_reminders_digests_skipped_total",
    ):
        kinds = set(re.findall(rf'^{name}{{kind="(\w+)"}}', text, re.MULTILINE))
        assert kinds == {"due_soon", "overdue", "to_certify"}, name

"""Contract tests: schemathesis generates requests from each live service's OpenAPI document (and from the
gateway's merged one) and checks every response: no 5xx, the documented status codes and content types, and
bodies that match the documented schemas.

Bounded and reproducible: a fixed number of derandomised examples per operation, so the run is the same each
time and stays within the suite's time budget on two cores. Every failing operation is reported (method, path,
the generated request and what was wrong), not only the first one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import hypothesis
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from metas_dev.cluster import SERVICES, Cluster, ClusterConfig, free_port

pytestmark = pytest.mark.integration

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Examples per operation: direct services get more; the gateway re-runs the same operations through the proxy.
# METAS_CONTRACT_EXAMPLES=<n> runs n per operation everywhere, for a deeper exploratory run outside the suite.
_DEEP = int(os.environ.get("METAS_CONTRACT_EXAMPLES", "0"))
EXAMPLES = {"gateway": _DEEP or 3, **dict.fromkeys(SERVICES, _DEEP or 6)}
PLAN_FILE = Path(__file__).resolve().parents[2] / "data" / "plans" / "ipsm-2014-acordo.yaml"
CONTRACT_PLAN = "contract-2014-acordo"


@dataclass
class Finding:
    target: str
    operation: str
    request: str
    problem: str

    def __str__(self) -> str:
        return f"[{self.target}] {self.operation}\n    request: {self.request}\n    problem: {self.problem}"


def describe(case: schemathesis.Case) -> str:
    parts = [f"{case.method} {case.formatted_path}"]
    if case.query:
        parts.append(f"query={case.query}")
    if case.body is not None and not isinstance(case.body, NotSet):
        parts.append(f"body={str(case.body)[:300]}")
    return " ".join(parts)


def check_operation(
    target: str,
    base_url: str,
    headers: dict[str, str],
    operation: schemathesis.APIOperation,
    max_examples: int,
    path_parameters: dict[str, str] | None = None,
    mode: GenerationMode = GenerationMode.POSITIVE,
) -> Finding | None:
    """Up to ``max_examples`` generated requests; the first failure of the operation is kept (no shrinking).
    Positive requests fit the schema and get every check; negative ones (schemathesis breaks the schema on
    purpose) must be refused as a problem+json 4xx or accepted — never a 5xx."""
    found: list[Finding] = []

    @hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
    def check(case: schemathesis.Case) -> None:
        if found:
            return
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        if mode is GenerationMode.NEGATIVE:
            content_type = (response.headers.get("content-type") or [""])[0]  # schemathesis keeps header lists
            problem = negative_problem(response.status_code, content_type)
            if problem:
                found.append(Finding(target, operation.label, describe(case), f"{problem}: {response.text[:300]}"))
            return
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as exc:  # one failure, or a group of them
            failures = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
            text = " | ".join(f"{type(f).__name__}: {str(f).strip()}" for f in failures)
            problem = f"{response.status_code} {text}"[:900]
            found.append(Finding(target, operation.label, describe(case), problem))

    try:
        check()
    except hypothesis.errors.Unsatisfiable:
        # Nothing of this operation can break its schema (e.g. a GET without parameters): nothing to try.
        if mode is GenerationMode.POSITIVE:
            raise
    return found[0] if found else None


def negative_problem(status: int, content_type: str) -> str | None:
    """What is wrong with the answer to a request that breaks the schema: a 5xx, or a 4xx that is not a problem."""
    if status >= 500:
        return f"{status} server error"
    if status >= 400 and not content_type.startswith("application/problem+json"):
        return f"{status} answered as {content_type or 'no content type'}, not problem+json"
    return None


def run_contract(
    target: str,
    base_url: str,
    token: str,
    max_examples: int,
    mode: GenerationMode = GenerationMode.POSITIVE,
) -> tuple[int, list[Finding]]:
    """Every operation with generated data; operations on a plan once more with a plan that exists, so the
    requests get past the 404 into the code that reads and writes it."""
    headers = {"authorization": token}
    # The gateway's merged document is for authenticated callers only.
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", timeout=30, headers=headers)
    findings: list[Finding] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        finding = check_operation(target, base_url, headers, operation, max_examples, mode=mode)
        if finding is None and "plan_id" in {p.name for p in operation.path_parameters}:
            real = {"plan_id": CONTRACT_PLAN}
            finding = check_operation(target, base_url, headers, operation, max_examples, real, mode=mode)
        if finding is not None:
            findings.append(finding)
    return operations, findings


def import_contract_plan(cluster: Cluster, token: str) -> str:
    """The seed acordo plan under an id of its own (other suites may use the seed ids on the same cluster)."""
    document = yaml.safe_load(PLAN_FILE.read_text())
    document["plan"]["id"] = CONTRACT_PLAN
    resp = httpx.post(
        f"{cluster.config.url('gateway')}/api/planning/v1/plans:import",
        headers={"authorization": token},
        json=document,
        timeout=60,
    )
    assert resp.status_code in (200, 201), resp.text
    return CONTRACT_PLAN


@pytest.fixture(scope="module")
def contract_plan(cluster: Cluster, token_for: Callable[..., str]) -> str:
    return import_contract_plan(cluster, token_for("planner"))


@pytest.fixture(scope="module")
def sqlite_cluster(
    tmp_path_factory: pytest.TempPathFactory, jwt_secret: str, token_for: Callable[..., str]
) -> Iterator[Cluster]:
    """The embedded default, as `make run` starts it: every service on its own SQLite file."""
    tmp = tmp_path_factory.mktemp("contract-sqlite")
    config = ClusterConfig(
        ports={name: free_port() for name in (*SERVICES, "gateway")},
        database_urls={s: f"sqlite+aiosqlite:///{tmp}/{s}.db" for s in SERVICES},
        jwt_secret=jwt_secret,
        log_dir=tmp / "logs",
        upstream_timeout_seconds=10.0,
    )
    running = Cluster(config)
    running.start()
    try:
        running.wait_ready(timeout=90)
        import_contract_plan(running, token_for("planner"))
        yield running
    finally:
        running.stop()


@pytest.mark.parametrize("target", ["gateway", *SERVICES])
def test_openapi_contract(cluster: Cluster, token_for: Callable[..., str], contract_plan: str, target: str) -> None:
    base = cluster.config.url(target)
    operations, findings = run_contract(target, base, token_for("admin"), EXAMPLES[target])
    # Every service documents more than its health endpoints (the gateway: every service's operations).
    assert operations > (20 if target == "gateway" else 3), operations
    assert not findings, "\n" + "\n".join(map(str, findings))


def test_openapi_contract_through_the_gateway_on_sqlite(sqlite_cluster: Cluster, token_for: Callable[..., str]) -> None:
    """The same checks through the gateway of a SQLite cluster (timestamps, numbers and paging differ by
    backend, so the embedded default is checked too)."""
    operations, findings = run_contract(
        "gateway/sqlite", sqlite_cluster.config.url("gateway"), token_for("admin"), EXAMPLES["gateway"]
    )
    assert operations > 20, operations
    assert not findings, "\n" + "\n".join(map(str, findings))


# Negative fuzzing: a few schema-breaking requests per operation of every service (wrong types, missing fields,
# out-of-range numbers, malformed paths and queries). Bounded by the example count, derandomised like the rest.
NEGATIVE_EXAMPLES = _DEEP or 3


@pytest.mark.parametrize("target", SERVICES)
def test_schema_breaking_requests_are_refused_as_problems(
    cluster: Cluster, token_for: Callable[..., str], contract_plan: str, target: str
) -> None:
    base = cluster.config.url(target)
    operations, findings = run_contract(
        target, base, token_for("admin"), NEGATIVE_EXAMPLES, mode=GenerationMode.NEGATIVE
    )
    assert operations > 3, operations
    assert not findings, "\n" + "\n".join(map(str, findings))

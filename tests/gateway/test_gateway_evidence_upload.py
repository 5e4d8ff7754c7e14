"""Through the gateway, real processes (the session's cluster): an evidence upload may be as large as execution
accepts (20 MiB by default, METAS_GATEWAY_EVIDENCE_MAX_BODY_BYTES) while every other route keeps the gateway's
8 MiB cap. A 15 MiB PDF goes through and comes back byte for byte."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from metas_dev.cluster import Cluster

pytestmark = pytest.mark.integration

PLANS = Path(__file__).resolve().parents[2] / "data" / "plans"
IPSM = "ipsm-2014-acordo"
MiB = 1024 * 1024


def _answered(send: Callable[[], httpx.Response]) -> httpx.Response:
    """The cluster's gateway gives an upstream 3 s; on a loaded machine a cold first call may take longer (504).
    Writes carry an Idempotency-Key, so a retry replays a write that did complete instead of repeating it."""
    for _ in range(5):
        response = send()
        if response.status_code not in (502, 503, 504):
            return response
    return response


def _plan_ready(gw: str, admin: dict[str, str]) -> None:
    if httpx.get(f"{gw}/api/planning/v1/plans/{IPSM}", headers=admin, timeout=30).status_code == 200:
        return
    imported = httpx.post(
        f"{gw}/api/planning/v1/plans:import",
        content=(PLANS / f"{IPSM}.yaml").read_bytes(),
        headers={**admin, "content-type": "application/yaml"},
        timeout=60,
    )
    assert imported.status_code in (200, 201), imported.text
    data = imported.json()
    if data["status"] == "draft":
        approved = httpx.post(
            f"{gw}/api/planning/v1/plans/{IPSM}/versions/{data['version']}:approve",
            headers={**admin, "if-match": data["etag"]},
            timeout=30,
        )
        assert approved.status_code == 200, approved.text


def test_a_15_mib_evidence_file_passes_the_gateway_and_other_routes_keep_8_mib(
    cluster: Cluster, token_for: Callable[..., str]
) -> None:
    gw = cluster.config.url("gateway")
    admin = {"authorization": token_for("admin")}
    registrar = {"authorization": token_for("registrar", units=["DS"], sub="ana-gw")}
    _plan_ready(gw, admin)
    regs = f"{gw}/api/execution/v1/plans/{IPSM}/registrations"
    item, period = "DS-I4", "2014-02"
    # 2014's write window closed long ago: a lock exception reopens this one item for a day.
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    planner = {"authorization": token_for("planner"), "idempotency-key": f"gw-evidence-{until}"}
    opened = _answered(
        lambda: httpx.post(
            f"{gw}/api/execution/v1/plans/{IPSM}/locks/{period}/exceptions",
            json={"item_code": item, "until": until, "reason": "gateway evidence test"},
            headers=planner,
            timeout=30,
        )
    )
    assert opened.status_code == 201, opened.text
    current = _answered(lambda: httpx.get(f"{regs}/{item}/{period}", headers=registrar, timeout=30))
    if current.status_code == 404:
        made = _answered(
            lambda: httpx.put(
                f"{regs}/{item}/{period}",
                json={"payload": {"value": "21"}},
                headers={**registrar, "idempotency-key": f"gw-evidence-reg-{until}"},
                timeout=30,
            )
        )
        assert made.status_code == 201, made.text

    pdf = b"%PDF-1.7\n" + (b"0123456789abcdef" * (MiB // 16)) * 15  # 15 MiB + 9 bytes
    done = _answered(
        lambda: httpx.post(
            f"{regs}/{item}/{period}/evidence",
            params={"name": "relatório-anual.pdf"},
            content=pdf,
            headers={**registrar, "content-type": "application/pdf", "idempotency-key": f"gw-evidence-file-{until}"},
            timeout=120,
        )
    )
    assert done.status_code == 201, done.text[:500]
    body = done.json()
    assert (body["size"], body["sha256"]) == (len(pdf), hashlib.sha256(pdf).hexdigest())
    back = _answered(
        lambda: httpx.get(f"{regs}/{item}/{period}/evidence/{body['id']}/content", headers=registrar, timeout=120)
    )
    assert back.status_code == 200
    assert hashlib.sha256(back.content).hexdigest() == body["sha256"]

    # Beyond the evidence limit (20 MiB) the gateway answers 413 itself, from Content-Length.
    too_big = httpx.post(
        f"{regs}/{item}/{period}/evidence",
        params={"name": "grande.pdf"},
        content=b"%PDF-1.7\n" + bytes(20 * MiB),
        headers={**registrar, "content-type": "application/pdf"},
        timeout=120,
    )
    assert too_big.status_code == 413, too_big.text[:300]
    assert "20971520 bytes" in too_big.json()["detail"]
    # Every other route keeps the 8 MiB cap: a 9 MiB registration body is a 413 at the gateway.
    nine = httpx.put(
        f"{regs}/{item}/{period}",
        content=b'{"payload": {"note": "' + b"x" * (9 * MiB) + b'"}}',
        headers={**registrar, "content-type": "application/json"},
        timeout=120,
    )
    assert nine.status_code == 413, nine.text[:300]
    assert "8388608 bytes" in nine.json()["detail"]

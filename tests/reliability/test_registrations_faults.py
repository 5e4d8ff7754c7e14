"""Registrations under real faults, with real processes on PostgreSQL: planning, two replicas of the execution
service on ONE database, and the gateway.

- PostgreSQL restarted mid-load: writers retrying with their Idempotency-Key end with every registration stored
  exactly once (one version each): nothing lost, nothing duplicated; the services recover by themselves.
- The execution process the gateway talks to killed (SIGKILL) and restarted mid-load: same guarantee.
- Two replicas, many concurrent read-modify-write updates of one registration with If-Match: every accepted
  update is its own version (no lost update), and concurrent creates give exactly one winner.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest
from harness.databases import PG_ADMIN_DSN, create_pg_database, drop_pg_database
from rel_support import FaultCluster, ensure_pg_running, pg_ctl, start_fault_cluster

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PLAN = "ipsm-2014-acordo"
PLAN_FILE = ROOT / "data" / "plans" / f"{PLAN}.yaml"
# Monthly indicators of the seed plan (data/plans/ipsm-2014-acordo.yaml), by unit.
DS_ITEMS = ["DS-I1", "DS-I2", "DS-I3", "DS-I4"]
DP_ITEMS = ["DP-I1", "DP-I2", "DP-I3", "DP-I4"]
# The first half of the cycle: 4 items × 6 months = 24 registrations per fault scenario.
PERIODS = [f"2014-{m:02d}" for m in range(1, 7)]
RETRYABLE = {502, 503, 504}


@pytest.fixture(scope="module")
def fc(
    jwt_secret: str, token_for: Callable[..., str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultCluster]:
    ensure_pg_running()
    # Named per process, so two runs at once do not share (or drop) each other's databases.
    names = {svc: f"metas_rel_{os.getpid()}_{svc}" for svc in ("planning", "execution")}
    urls = {svc: create_pg_database(name) for svc, name in names.items()}
    cluster = start_fault_cluster(jwt_secret, tmp_path_factory.mktemp("faults") / "logs", urls)
    try:
        gw = cluster.url("gateway")
        imported = httpx.post(
            f"{gw}/api/planning/v1/plans:import",
            headers={"authorization": token_for("planner"), "content-type": "application/yaml"},
            content=PLAN_FILE.read_bytes(),
            timeout=60,
        )
        assert imported.status_code in (200, 201), imported.text
        # 2014's write window closed long ago: an exception per period re-opens it for the test's writes.
        until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
        for period in PERIODS:
            opened = httpx.post(
                f"{gw}/api/execution/v1/plans/{PLAN}/locks/{period}/exceptions",
                headers={"authorization": token_for("planner")},
                json={"until": until, "reason": "reliability tests write into 2014"},
                timeout=30,
            )
            assert opened.status_code == 201, opened.text
        yield cluster
    finally:
        cluster.stop()
        ensure_pg_running()
        for name in names.values():
            drop_pg_database(name)


def reg_url(base: str, item: str, period: str) -> str:
    return f"{base}/v1/plans/{PLAN}/registrations/{item}/{period}"


def pg_started_at() -> datetime:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        row = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
    assert row is not None
    started: datetime = row[0]
    return started


@dataclass
class WriteLog:
    statuses: list[int | str] = field(default_factory=list)
    done: int = 0
    unexpected: list[str] = field(default_factory=list)


async def create_with_retries(
    client: httpx.AsyncClient, url: str, token: str, key: str, value: str, log: WriteLog, deadline: float
) -> None:
    """What a careful client does: the same Idempotency-Key on every attempt, retry on 5xx/transport errors."""
    body = {"payload": {"value": value}, "justification": "Desvio explicado.", "reason": "load during a fault"}
    headers = {"authorization": token, "idempotency-key": key, "if-none-match": "*"}
    while time.monotonic() < deadline:
        try:
            resp = await client.put(url, json=body, headers=headers)
        except httpx.TransportError as exc:
            log.statuses.append(type(exc).__name__)
            await asyncio.sleep(0.2)
            continue
        log.statuses.append(resp.status_code)
        if resp.status_code == 201:
            log.done += 1
            return
        if resp.status_code in RETRYABLE:
            assert resp.headers["content-type"] == "application/problem+json"
            await asyncio.sleep(0.2)
            continue
        log.unexpected.append(f"{url}: {resp.status_code} {resp.text[:300]}")
        return
    log.unexpected.append(f"{url}: not stored before the deadline")


def run_load_with_fault(
    fc: FaultCluster, token: str, items: list[str], tag: str, fault: Callable[[], None], fault_after: int
) -> tuple[WriteLog, int]:
    """Writers create every (item, period) registration (half through the gateway, half on the second replica);
    ``fault`` runs in a thread once ``fault_after`` are stored. Returns the log and how many were stored then."""
    work = [(item, period) for item in items for period in PERIODS]
    log = WriteLog()
    at_fault: list[int] = []

    def fire() -> None:
        while log.done < fault_after:
            time.sleep(0.01)
        at_fault.append(log.done)
        fault()

    async def scenario() -> None:
        deadline = time.monotonic() + 60
        limits = httpx.Limits(max_connections=8)
        async with httpx.AsyncClient(timeout=15, limits=limits) as client:

            async def writer(lane: int) -> None:
                base = fc.url("gateway") + "/api/execution" if lane % 2 == 0 else fc.replica_url
                for n, (item, period) in enumerate(work):
                    if n % 4 == lane:
                        value = f"{len(period) + n}.5"
                        key = f"{tag}-{item}-{period}"
                        await create_with_retries(client, reg_url(base, item, period), token, key, value, log, deadline)

            await asyncio.gather(*(writer(lane) for lane in range(4)))

    thread = threading.Thread(target=fire, daemon=True)
    thread.start()
    asyncio.run(scenario())
    thread.join(60)
    assert at_fault, "the fault never fired"
    return log, at_fault[0]


def assert_each_stored_once(fc: FaultCluster, token: str, items: list[str]) -> None:
    listing = httpx.get(
        f"{fc.url('gateway')}/api/execution/v1/plans/{PLAN}/registrations",
        params={"period_from": PERIODS[0], "period_to": PERIODS[-1], "limit": 500},
        headers={"authorization": token},
        timeout=15,
    )
    assert listing.status_code == 200, listing.text
    stored = [(r["item_code"], r["period"], r["version"]) for r in listing.json()["items"] if r["item_code"] in items]
    # Each (item, period) once, at version 1: a retried create was replayed, never applied twice.
    assert sorted(stored) == [(item, period, 1) for item in sorted(items) for period in PERIODS]


def wait_ready(url: str, timeout: float = 30.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not become ready within {timeout} s")


def test_postgresql_restart_mid_load_loses_and_duplicates_nothing(
    fc: FaultCluster, token_for: Callable[..., str]
) -> None:
    token = token_for("registrar", units=["DS"], sub="rel-pg")
    before = pg_started_at()
    total = len(DS_ITEMS) * len(PERIODS)

    def restart() -> None:
        try:
            pg_ctl("restart")
        finally:
            ensure_pg_running()

    try:
        log, stored_at_fault = run_load_with_fault(fc, token, DS_ITEMS, "pg", restart, fault_after=total // 4)
    finally:
        ensure_pg_running()
    assert pg_started_at() > before, "PostgreSQL was not restarted"
    assert 0 < stored_at_fault < total
    assert log.unexpected == []
    assert log.done == total
    assert not [s for s in log.statuses if s == 500]
    # The writers felt the outage (503s or refused connections) and got through it by retrying.
    assert [s for s in log.statuses if s != 201], "no write was in flight during the restart"
    # Every process recovers on its own (closed pooled connections replaced at checkout; no restart of the services).
    for url in (fc.url("planning"), fc.url("execution"), fc.replica_url):
        wait_ready(url)
    assert_each_stored_once(fc, token, DS_ITEMS)


def test_execution_killed_and_restarted_mid_load_loses_and_duplicates_nothing(
    fc: FaultCluster, token_for: Callable[..., str]
) -> None:
    token = token_for("registrar", units=["DP"], sub="rel-kill")
    total = len(DP_ITEMS) * len(PERIODS)
    outage: list[float] = []

    def kill_and_restart() -> None:
        fc.main.kill_one("execution")
        time.sleep(0.5)
        started = time.monotonic()
        fc.main.start_one("execution")
        fc.main.wait_ready(("execution",), timeout=60)
        outage.append(time.monotonic() - started)

    log, stored_at_fault = run_load_with_fault(fc, token, DP_ITEMS, "kill", kill_and_restart, fault_after=total // 4)
    assert outage, "execution did not come back"
    assert 0 < stored_at_fault < total
    assert log.unexpected == []
    assert log.done == total
    # While it was down the gateway answered problem+json 502/503/504 (asserted per response), never 500.
    assert not [s for s in log.statuses if s == 500]
    assert {s for s in log.statuses if s != 201} <= RETRYABLE
    assert {s for s in log.statuses if s != 201}, "no write went through the gateway during the outage"
    assert_each_stored_once(fc, token, DP_ITEMS)


def test_two_replicas_concurrent_updates_lose_nothing(fc: FaultCluster, token_for: Callable[..., str]) -> None:
    token = token_for("registrar", units=["AUDSEC"], sub="rel-race")
    item, period = "AUDSEC-I1", "2014-05"
    bases = [fc.url("execution"), fc.replica_url]
    created = httpx.put(
        reg_url(bases[0], item, period),
        json={"payload": {"value": "0"}, "justification": "Desvio explicado.", "reason": "start"},
        headers={"authorization": token},
        timeout=15,
    )
    assert created.status_code == 201, created.text
    writers, per_writer = 6, 4

    async def updater(w: int, client: httpx.AsyncClient) -> tuple[list[tuple[int, Decimal]], int]:
        base = bases[w % 2]
        accepted: list[tuple[int, Decimal]] = []
        refused = 0
        while len(accepted) < per_writer:
            current = await client.get(reg_url(base, item, period), headers={"authorization": token})
            assert current.status_code == 200, current.text
            value = Decimal(w * 100 + len(accepted) + 1)
            resp = await client.put(
                reg_url(base, item, period),
                json={"payload": {"value": str(value)}, "justification": "Desvio explicado.", "reason": f"writer {w}"},
                headers={"authorization": token, "if-match": current.headers["etag"]},
            )
            if resp.status_code == 200:
                accepted.append((resp.json()["version"], value))
            elif resp.status_code in (409, 412):
                refused += 1
            else:
                raise AssertionError(f"{resp.status_code} {resp.text[:300]}")
        return accepted, refused

    async def scenario() -> list[tuple[list[tuple[int, Decimal]], int]]:
        async with httpx.AsyncClient(timeout=15, limits=httpx.Limits(max_connections=writers * 2)) as client:
            return await asyncio.gather(*(updater(w, client) for w in range(writers)))

    results = asyncio.run(scenario())
    accepted = [a for acc, _ in results for a in acc]
    refused = sum(r for _, r in results)
    versions = [v for v, _ in accepted]
    # 6 writers × 4 accepted updates = 24 new versions after the create: numbers 2..25, each given out once.
    assert sorted(versions) == list(range(2, 2 + writers * per_writer))
    # Two replicas racing on one row: some writes must have been refused (otherwise there was no race).
    assert refused > 0
    history = httpx.get(reg_url(bases[1], item, period) + "/versions", headers={"authorization": token}, timeout=15)
    by_number = {v["number"]: Decimal(v["payload"]["value"]) for v in history.json()["versions"]}
    assert len(by_number) == 1 + writers * per_writer
    # The history holds exactly the value each accepted write carried, under the version it was told.
    for number, value in accepted:
        assert by_number[number] == value
    final = httpx.get(reg_url(bases[0], item, period), headers={"authorization": token}, timeout=15).json()
    assert final["version"] == 1 + writers * per_writer
    assert Decimal(final["payload"]["value"]) == by_number[final["version"]]


def test_two_replicas_concurrent_creates_have_one_winner(fc: FaultCluster, token_for: Callable[..., str]) -> None:
    token = token_for("registrar", units=["AUDSEC"], sub="rel-create")
    item, period = "AUDSEC-I2", "2014-06"
    bases = [fc.url("execution"), fc.replica_url]
    n = 10

    async def create(i: int, client: httpx.AsyncClient) -> tuple[int, str]:
        resp = await client.put(
            reg_url(bases[i % 2], item, period),
            json={"payload": {"value": str(i + 1)}, "justification": "Desvio explicado.", "reason": f"creator {i}"},
            headers={"authorization": token, "if-none-match": "*"},
        )
        return resp.status_code, str(i + 1)

    async def scenario() -> list[tuple[int, str]]:
        async with httpx.AsyncClient(timeout=15, limits=httpx.Limits(max_connections=n)) as client:
            return await asyncio.gather(*(create(i, client) for i in range(n)))

    results = asyncio.run(scenario())
    winners = [value for status, value in results if status == 201]
    assert len(winners) == 1, results
    assert all(status in (409, 412) for status, _ in results if status != 201), results
    history = httpx.get(reg_url(bases[0], item, period) + "/versions", headers={"authorization": token}, timeout=15)
    versions = history.json()["versions"]
    assert [v["number"] for v in versions] == [1]
    assert Decimal(versions[0]["payload"]["value"]) == Decimal(winners[0])


def test_same_idempotency_key_on_both_replicas_at_once_applies_once(
    fc: FaultCluster, token_for: Callable[..., str]
) -> None:
    # A client whose first attempt timed out retries on another replica while the first is still running.
    token = token_for("registrar", units=["AUDSEC"], sub="rel-idem")
    item, period = "AUDSEC-I1", "2014-03"
    bases = [fc.url("execution"), fc.replica_url]
    body = {"payload": {"value": "42.5"}, "justification": "Desvio explicado.", "reason": "retried write"}
    headers = {"authorization": token, "idempotency-key": "rel-same-key-1"}
    n = 8

    async def attempt(i: int, client: httpx.AsyncClient) -> int:
        resp = await client.put(reg_url(bases[i % 2], item, period), json=body, headers=headers)
        return resp.status_code

    async def scenario() -> list[int]:
        async with httpx.AsyncClient(timeout=15, limits=httpx.Limits(max_connections=n)) as client:
            return await asyncio.gather(*(attempt(i, client) for i in range(n)))

    statuses = asyncio.run(scenario())
    # One attempt did the write; the others replayed its answer (201) or, still racing it, were refused without a
    # write: 409 (the key or row was being inserted), or 412/428 (they saw the new row but not yet the stored
    # answer, and a create must not overwrite it). None failed with a server error, none wrote twice.
    assert set(statuses) <= {201, 409, 412, 428}, statuses
    assert 201 in statuses
    history = httpx.get(reg_url(bases[0], item, period) + "/versions", headers={"authorization": token}, timeout=15)
    assert [v["number"] for v in history.json()["versions"]] == [1]
    # A later retry with the same key gets the stored answer, from either replica.
    for base in bases:
        replay = httpx.put(reg_url(base, item, period), json=body, headers=headers, timeout=15)
        assert replay.status_code == 201
        assert replay.headers.get("idempotent-replayed") == "true"
        assert replay.json()["version"] == 1

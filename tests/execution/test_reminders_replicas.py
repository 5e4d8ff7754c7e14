"""Two replicas of the execution service — two real uvicorn processes on one database (PostgreSQL, then a SQLite
file) — both running the reminder job every 0.3 s: each digest reaches the REAL SMTP server exactly once.

Upstreams are real processes too: planning (the seed plans) and accounts (people created through its admin API).
The digests are worked out as of Thu 13 March 2014 12:00Z (METAS_EXECUTION_REMINDERS_AS_OF), three business days
before 2014-02's due day in the IPSM plan (see test_reminders.py): ana, joao and emma (DS) and pedro (PROC) owe
everything of February, so four due-soon digests are owed; carla (certifier) and rui (organisation ii) get none.
The people are created only once both replicas are running, so both meet the same digests in the same instant.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from execution_support import PLANS, SECRET
from harness.databases import fresh_database
from reminder_support import PEOPLE, Mailbox, free_port, start_smtp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from execution.db.reminders import ReminderDigest
from metas_kit.auth import Grant, Principal, issue_token
from metas_kit.db import make_engine

ADMIN = {"authorization": "Bearer " + issue_token(Principal("root", grants=[Grant("admin", "*")]), SECRET)}
AS_OF = "2014-03-13T12:00:00Z"


@contextmanager
def serving(name: str, app: str, env: dict[str, str], logs: Path) -> Iterator[str]:
    """One uvicorn process of ``app`` on a free loopback port; yields its base URL once /healthz answers."""
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("METAS_")}
    log = (logs / f"{name}.log").open("ab")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        env={**base, "METAS_JWT_SECRET": SECRET, "PYTHONUNBUFFERED": "1", **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {proc.returncode}: {(logs / f'{name}.log').read_text()[-2000:]}"
                )
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} did not start")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = start_smtp(box)
    box.port = controller.port  # type: ignore[attr-defined]
    yield box
    controller.stop()


@pytest.fixture(scope="module")
def planning(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from planning.app import ALEMBIC_INI as PLANNING_INI
    from planning.seed import load

    tmp = tmp_path_factory.mktemp("replicas-planning")
    url = fresh_database("sqlite", "planning", tmp, PLANNING_INI)
    asyncio.run(load(PLANS, url))
    with serving("planning", "planning.app:create_app", {"METAS_PLANNING_DATABASE_URL": url}, tmp) as base:
        yield base


def read_digests(db_url: str) -> list[ReminderDigest]:
    async def read() -> list[ReminderDigest]:
        engine = make_engine(db_url)
        try:
            async with async_sessionmaker(engine)() as session:
                return list((await session.scalars(select(ReminderDigest))).all())
        finally:
            await engine.dispose()

    return asyncio.run(read())


def counter(base: str, name: str) -> float:
    lines = httpx.get(base + "/metrics", timeout=5).text.splitlines()
    return sum(float(x.split()[-1]) for x in lines if x.startswith(f'{name}{{kind="due_soon"}}'))


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_two_replicas_send_each_digest_once(backend: str, planning: str, mailbox: Mailbox, tmp_path: Path) -> None:
    from accounts.app import ALEMBIC_INI as ACCOUNTS_INI
    from execution.app import ALEMBIC_INI as EXECUTION_INI

    mailbox.clear()
    db_url = fresh_database(backend, "execution_replicas", tmp_path, EXECUTION_INI)
    accounts_env = {
        "METAS_ACCOUNTS_DATABASE_URL": fresh_database("sqlite", "accounts", tmp_path, ACCOUNTS_INI),
        "METAS_ACCOUNTS_ARGON2_TIME_COST": "1",
        "METAS_ACCOUNTS_ARGON2_MEMORY_KIB": "1024",
        "METAS_ACCOUNTS_ARGON2_PARALLELISM": "1",
        "METAS_ACCOUNTS_LOG_LEVEL": "WARNING",
    }
    with serving("accounts", "accounts.app:create_app", accounts_env, tmp_path) as accounts:
        env = {
            "METAS_EXECUTION_DATABASE_URL": db_url,
            "METAS_EXECUTION_PLANNING_URL": planning,
            "METAS_EXECUTION_ACCOUNTS_URL": accounts,
            "METAS_EXECUTION_SMTP_HOST": "127.0.0.1",
            "METAS_EXECUTION_SMTP_PORT": str(mailbox.port),  # type: ignore[attr-defined]
            "METAS_EXECUTION_SMTP_SECURITY": "none",
            "METAS_EXECUTION_REMINDERS_INTERVAL_SECONDS": "0.3",
            "METAS_EXECUTION_REMINDERS_AS_OF": AS_OF,
            "METAS_EXECUTION_METRICS_REFRESH_SECONDS": "0",
            "METAS_EXECUTION_LOG_LEVEL": "WARNING",
        }
        with (
            serving("execution-a", "execution.app:create_app", env, tmp_path) as replica_a,
            serving("execution-b", "execution.app:create_app", env, tmp_path) as replica_b,
        ):
            time.sleep(1)  # both jobs running, finding nobody to remind yet
            assert mailbox.messages == []
            for body in PEOPLE:
                created = httpx.post(f"{accounts}/v1/accounts", json=body, headers=ADMIN, timeout=30)
                assert created.status_code == 201, created.text
            deadline = time.monotonic() + 60
            while len(mailbox.messages) < 4 and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(3)  # about ten more passes of each replica's job: nothing may be sent again
            sent = [counter(r, "metas_reminders_digests_sent_total") for r in (replica_a, replica_b)]
            skipped = [counter(r, "metas_reminders_digests_skipped_total") for r in (replica_a, replica_b)]
    recipients = sorted(m["To"] for m in mailbox.messages)
    assert recipients == ["ana@example.org", "emma@example.org", "joao@example.org", "pedro@example.org"]
    assert sum(sent) == 4, sent  # both replicas' counters together: four sends, no more
    assert min(skipped) > 0, skipped  # each replica met digests already claimed and left them
    rows = read_digests(db_url)
    assert sorted((r.username, r.kind, r.status, r.attempts) for r in rows) == [
        (u, "due_soon", "sent", 1) for u in ("ana", "emma", "joao", "pedro")
    ]
    # Figures: which replica sent which digest (either may win any; shown with -o log_cli=true).
    logging.getLogger("tests.reminders").info(
        "sent per replica %s, skipped per replica %s, claimed by %s",
        sent,
        skipped,
        {r.username: r.claimed_by for r in rows},
    )

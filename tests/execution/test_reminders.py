"""Reminder digests on PostgreSQL and SQLite, sent to a REAL SMTP server (aiosmtpd) and read back: the people come
from the REAL accounts service's directory (over ASGI, created through its admin API), the plan from the real
planning service with the seed plans; the clock is fixed.

Seed 004 (ipsm-2014-acordo, BR-MG business days): period 2014-02 is due on Tue 18 March 2014 (10th business day
of March; Carnival, 3-4 March, is not a business day). Three business days before it is Thu 13 March (17 Mon,
14 Fri, 13 Thu), so the due-soon digests go out from 13 March; the first business day after the due day is Wed
19 March (overdue digests to registrars, the certifiers' queue). Unit DS owes, each month, DS-I1..DS-I6, DS-P01
and the three stages DS-P02-E1..E3 (10 items).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
import yaml
from execution_support import PLANS, SECRET, WHY, Clock, planning_client_for
from fastapi import FastAPI
from harness.databases import fresh_database_async
from prometheus_client import REGISTRY
from reminder_support import PEOPLE, Mailbox, start_smtp
from sqlalchemy import delete, select

from execution.app import create_app
from execution.application.reminders import run_reminders
from execution.clients.accounts import AccountsClient
from execution.db.base import AuditEvent
from execution.db.models import Registration, RegistrationVersion
from execution.db.reminders import ReminderDigest, ReminderMute
from execution.settings import Settings
from metas_kit.auth import Grant, Principal, issue_token
from metas_kit.http import make_client

IPSM = "ipsm-2014-acordo"
REGS = f"/v1/plans/{IPSM}/registrations"
ADMIN = {"authorization": "Bearer " + issue_token(Principal("root", grants=[Grant("admin", "*")]), SECRET)}


def bearer(sub: str, *grants: Grant) -> dict[str, str]:
    return {"authorization": "Bearer " + issue_token(Principal(sub, grants=grants), SECRET)}


ANA = bearer("ana", Grant("registrar", "ipsm", frozenset({"DS"})))
PEDRO = bearer("pedro", Grant("registrar", "ipsm", frozenset({"PROC"})))
CARLA = bearer("carla", Grant("certifier", "ipsm"))
NAMES = {
    e["code"]: e["name"]
    for k in ("indicators", "products")
    for e in yaml.safe_load((PLANS / f"{IPSM}.yaml").read_text())[k]
} | {
    s["code"]: s["name"]
    for p in yaml.safe_load((PLANS / f"{IPSM}.yaml").read_text())["products"]
    for s in p.get("stages") or ()
}
TITLE = "Acordo de Resultados – 2ª etapa – 2014 – IPSM"


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = start_smtp(box)
    box.port = controller.port  # type: ignore[attr-defined]
    yield box
    controller.stop()


@pytest.fixture(scope="module")
async def accounts_app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    from accounts.app import ALEMBIC_INI as ACCOUNTS_INI
    from accounts.app import create_app as create_accounts
    from accounts.settings import Settings as AccountsSettings

    url = await fresh_database_async("sqlite", "accounts", tmp_path_factory.mktemp("accounts"), ACCOUNTS_INI)
    settings = AccountsSettings(
        database_url=url,
        jwt_secret=SECRET,
        log_json=False,
        log_level="WARNING",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
    )
    app = create_accounts(settings)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://accounts.test") as http:
            for body in PEOPLE:
                created = await http.post("/v1/accounts", json=body, headers=ADMIN)
                assert created.status_code == 201, created.text
        yield app


@dataclass
class Stack:
    app: FastAPI
    http: httpx.AsyncClient
    clock: Clock
    mailbox: Mailbox


@pytest.fixture(scope="module")
async def stack(db_url: str, planning_app: FastAPI, accounts_app: FastAPI, mailbox: Mailbox) -> AsyncIterator[Stack]:
    settings = Settings(
        database_url=db_url,
        jwt_secret=SECRET,
        metrics_refresh_seconds=0,
        log_json=False,
        log_level="WARNING",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,  # type: ignore[attr-defined]
        smtp_security="none",
        smtp_from="metas <metas@example.org>",
        reminders_retry_after_seconds=0,
        reminders_max_attempts=2,
        reminders_interval_seconds=0,  # the tests run the job themselves
    )
    accounts = AccountsClient(
        make_client(
            "http://accounts.test",
            transport=httpx.ASGITransport(app=accounts_app),
            jwt_secret=SECRET,
            service_name="execution",
        )
    )
    app = create_app(settings, planning=planning_client_for(planning_app), accounts=accounts)
    clock = Clock(datetime(2014, 3, 13, 12, tzinfo=UTC))
    app.state.clock = clock
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://execution.test") as http:
            yield Stack(app, http, clock, mailbox)
    await accounts.aclose()


@pytest.fixture
async def st(stack: Stack) -> Stack:
    async with stack.app.state.db.sessionmaker() as session, session.begin():
        for model in (ReminderDigest, ReminderMute, RegistrationVersion, Registration, AuditEvent):
            await session.execute(delete(model))
    stack.mailbox.clear()
    stack.mailbox.refuse.clear()
    stack.clock.set(2014, 3, 10, 12)
    return stack


async def register(st: Stack, item: str, period: str = "2014-02") -> str:
    r = await st.http.put(f"{REGS}/{item}/{period}", json={"payload": {"value": 1}, "justification": WHY}, headers=ANA)
    assert r.status_code == 201, r.text
    return r.headers["etag"]


def counter(name: str, kind: str) -> float:
    return REGISTRY.get_sample_value(name, {"kind": kind}) or 0.0


def line(item: str, period: str, status: str) -> str:
    return f"- DS · {period} · {item} {NAMES[item]}: {status}"


OWED_DS = ["DS-I1", "DS-I2", "DS-I3", "DS-I5", "DS-I6", "DS-P01", "DS-P02-E1", "DS-P02-E2", "DS-P02-E3"]


async def test_due_soon_digest_one_per_person_in_their_language(st: Stack) -> None:
    await register(st, "DS-I4")  # registered: not owed any more
    etag = await register(st, "DS-I5")
    rejected = await st.http.post(
        f"{REGS}/DS-I5/2014-02:reject", json={"reason": "valor errado"}, headers={**CARLA, "if-match": etag}
    )
    assert rejected.status_code == 200, rejected.text
    assert (await st.http.put(f"/v1/plans/{IPSM}/reminder-mute", headers=PEDRO)).status_code == 200
    # Wed 12 March: four business days before the due day; nothing to send yet.
    st.clock.set(2014, 3, 12, 12)
    assert (await run_reminders(st.app)).sent == 0
    st.clock.set(2014, 3, 13, 12)
    sent_before = counter("metas_reminders_digests_sent_total", "due_soon")
    report = await run_reminders(st.app)
    assert (report.sent, report.failed) == (3, 0), (report, [m["To"] for m in st.mailbox.messages])
    assert counter("metas_reminders_digests_sent_total", "due_soon") - sent_before == 3
    # One mail each for the three registrars of DS; none for pedro (muted), carla (certifier), rui (ii).
    assert sorted(m["To"] for m in st.mailbox.messages) == ["ana@example.org", "emma@example.org", "joao@example.org"]

    pt_br = st.mailbox.to("ana@example.org")[0]
    assert pt_br["Subject"] == f"9 registros a fazer até 18 de março de 2014 — {TITLE}"
    assert pt_br["From"] == "metas <metas@example.org>"
    assert pt_br["Auto-Submitted"] == "auto-generated"
    assert pt_br["X-Metas-Digest"] == f"due_soon:{IPSM}:2014-03-18:ana"
    statuses = {"DS-I5": "rejeitado: registre novamente"}
    expected = [
        "Olá, Ana Souza.",
        "",
        f"Estes registros de {TITLE} devem ser feitos até o fim do dia 18 de março de 2014 e ainda não foram feitos:",
        "",
        *(line(i, "fevereiro de 2014", statuses.get(i, "ainda não registrado")) for i in OWED_DS),
        "",
        "Este é um resumo de todos; você não receberá uma mensagem por item.",
        f"Para deixar de receber os resumos deste plano, silencie-o: PUT /api/execution/v1/plans/{IPSM}/reminder-mute",
        "",
        "metas",
    ]
    assert pt_br.get_content().splitlines() == expected

    pt_pt = st.mailbox.to("joao@example.org")[0]
    assert pt_pt["Subject"] == f"9 registos a fazer até 18 de março de 2014 — {TITLE}"
    body = pt_pt.get_content().splitlines()
    assert body[0] == "Olá, João Silva."
    assert body[2] == (
        f"Estes registos de {TITLE} têm de ser feitos até ao fim do dia 18 de março de 2014 e ainda não foram feitos:"
    )
    assert body[4:13] == [
        line(i, "fevereiro de 2014", "rejeitado: registe novamente" if i == "DS-I5" else "ainda não registado")
        for i in OWED_DS
    ]
    assert body[14] == "Esta é uma síntese de todos; não receberá uma mensagem por item."

    en = st.mailbox.to("emma@example.org")[0]
    assert en["Subject"] == f"9 registrations due by March 18, 2014 — {TITLE}"
    body = en.get_content().splitlines()
    assert body[0] == "Hello Emma Jones,"
    assert body[2] == f"These registrations of {TITLE} are due by the end of March 18, 2014 and are not registered yet:"
    assert body[4:13] == [
        line(i, "February 2014", "rejected: register again" if i == "DS-I5" else "not registered yet") for i in OWED_DS
    ]
    assert body[14] == "This is one digest for all of them; you will not get a message per item."

    # Recorded: who, which items, kind and due date. Later runs that day, and on the next days up to the due day,
    # send nothing again.
    log = await st.http.get(f"/v1/plans/{IPSM}/reminder-digests", headers=ADMIN)
    rows = log.json()["items"]
    assert sorted((r["username"], r["kind"], r["due_date"], r["status"], r["attempts"]) for r in rows) == [
        (u, "due_soon", "2014-03-18", "sent", 1) for u in ("ana", "emma", "joao")
    ]
    ana_row = next(r for r in rows if r["username"] == "ana")
    assert [(x["item_code"], x["status"]) for x in ana_row["items"]] == [
        (i, "rejected" if i == "DS-I5" else "owed") for i in OWED_DS
    ]
    st.clock.set(2014, 3, 17, 12)
    assert (await run_reminders(st.app)).sent == 0
    assert len(st.mailbox.messages) == 3


async def test_due_soon_digest_of_the_quar_seed_plan(st: Stack) -> None:
    # QUAR 2024, period 2024-05: due Mon 17 June 2024 (10th business day of June: 10 June is Portugal Day).
    # Three business days before: Fri 14, Thu 13, Wed 12 June (13 June is Lisbon's holiday, not a national one).
    ines = bearer("ines", Grant("registrar", "ii", frozenset({"EPD"})))
    st.clock.set(2024, 6, 5, 12)
    done = await st.http.put(
        "/v1/plans/ii-2024-quar/registrations/EPD-02/2024-05",
        json={"payload": {"cumulative_percent": "40"}},
        headers=ines,
    )
    assert done.status_code == 201, done.text
    st.clock.set(2024, 6, 11, 12)  # four business days before: nothing yet
    assert (await run_reminders(st.app)).sent == 0
    st.clock.set(2024, 6, 12, 9)
    report = await run_reminders(st.app)
    assert (report.sent, report.failed) == (1, 0), [m["To"] for m in st.mailbox.messages]
    mail = st.mailbox.to("ines@example.org")[0]
    quar = "QUAR 2024 – Instituto de Informática, I.P."
    assert mail["Subject"] == f"2 registos a fazer até 17 de junho de 2024 — {quar}"
    assert mail["X-Metas-Digest"] == "due_soon:ii-2024-quar:2024-06-17:ines"
    body = mail.get_content().splitlines()
    assert body[:7] == [
        "Olá, Inês Moura.",
        "",
        f"Estes registos de {quar} têm de ser feitos até ao fim do dia 17 de junho de 2024 e ainda não foram feitos:",
        "",
        "- EPD · maio de 2024 · EPD-01 Registo de Atividades de Tratamento de Dados: ainda não registado",
        "- EPD · maio de 2024 · EPD-03 Operacionalizar medidas de reforço da conformidade com o RGPD: "
        "ainda não registado",
        "",
    ]


async def test_overdue_and_certifier_digests_on_the_first_business_day_after(st: Stack) -> None:
    for item in OWED_DS[:-1]:  # on time (10 March); DS-P02-E3 never registered
        await register(st, item)
    # The deadline ends the due day in Belo Horizonte: 19 March 00:00 -03:00 = 03:00Z. DS-I4 comes an hour after.
    st.clock.set(2014, 3, 19, 4, 0)
    await register(st, "DS-I4")
    st.clock.set(2014, 3, 19, 12)
    report = await run_reminders(st.app)
    # ana, joao and emma (DS) and pedro (PROC, owes all five of his): overdue; carla: the 9 of the 10 DS items
    # registered (all submitted, none certified).
    assert (report.sent, report.failed) == (5, 0), report
    to_ana = st.mailbox.to("ana@example.org")
    assert [m["Subject"] for m in to_ana] == [f"2 registros atrasados ou faltando — {TITLE}"]
    assert to_ana[0]["X-Metas-Digest"] == f"overdue:{IPSM}:2014-03-18:ana"
    body = to_ana[0].get_content().splitlines()
    assert (
        body[2] == f"O prazo de 18 de março de 2014 terminou. Estes registros de {TITLE} estão atrasados ou faltando:"
    )
    assert body[4:7] == [
        line("DS-I4", "fevereiro de 2014", "registrado fora do prazo"),
        line("DS-P02-E3", "fevereiro de 2014", "faltando"),
        "",
    ]
    to_emma = st.mailbox.to("emma@example.org")
    assert to_emma[0]["Subject"] == f"2 registrations late or missing — {TITLE}"
    assert to_emma[0].get_content().splitlines()[2] == (
        f"The deadline of March 18, 2014 has passed. These registrations of {TITLE} are late or missing:"
    )
    to_joao = st.mailbox.to("joao@example.org")
    assert to_joao[0]["Subject"] == f"2 registos em atraso ou em falta — {TITLE}"
    to_carla = st.mailbox.to("carla@example.org")
    assert [m["Subject"] for m in to_carla] == [f"9 registros aguardando certificação — {TITLE}"]
    carla_lines = [x for x in to_carla[0].get_content().splitlines() if x.startswith("- ")]
    assert carla_lines == [
        line(i, "fevereiro de 2014", "aguardando certificação") for i in sorted([*OWED_DS[:-1], "DS-I4"])
    ]
    assert to_carla[0].get_content().splitlines()[2] == f"Estes registros de {TITLE} aguardam a sua certificação:"
    pedro = st.mailbox.to("pedro@example.org")
    assert [m["Subject"] for m in pedro] == [f"5 registros atrasados ou faltando — {TITLE}"]
    assert (await run_reminders(st.app)).sent == 0  # a second pass the same day sends nothing again


async def test_a_refused_mail_is_counted_retried_and_recorded(st: Stack) -> None:
    st.clock.set(2014, 3, 13, 12)
    st.mailbox.refuse.add("joao@example.org")
    failed_before = counter("metas_reminders_digests_failed_total", "due_soon")
    report = await run_reminders(st.app)
    assert (report.sent, report.failed) == (3, 1)  # ana, emma and pedro sent; joao refused
    assert counter("metas_reminders_digests_failed_total", "due_soon") - failed_before == 1
    async with st.app.state.db.sessionmaker() as session:
        row = (await session.scalars(select(ReminderDigest).where(ReminderDigest.username == "joao"))).one()
    assert (row.status, row.attempts) == ("failed", 1)
    assert "554" in (row.error or "")
    # The server takes it now: the next run (retry_after = 0 here) sends it, once.
    st.mailbox.refuse.clear()
    report = await run_reminders(st.app)
    assert (report.sent, report.failed) == (1, 0)
    assert len(st.mailbox.to("joao@example.org")) == 1
    # Refused twice (max_attempts = 2): given up, never sent twice.
    st.mailbox.clear()
    st.clock.set(2014, 4, 9, 12)  # 3 business days before 2014-03's due day (14 April)
    st.mailbox.refuse.add("emma@example.org")
    await run_reminders(st.app)
    await run_reminders(st.app)
    assert (await run_reminders(st.app)).failed == 0
    assert st.mailbox.to("emma@example.org") == []


async def test_mutes(st: Stack) -> None:
    assert (await st.http.put(f"/v1/plans/{IPSM}/reminder-mute", headers=ANA)).status_code == 200
    again = await st.http.put(f"/v1/plans/{IPSM}/reminder-mute", headers=ANA)
    assert again.status_code == 200
    mine = (await st.http.get("/v1/reminder-mutes", headers=ANA)).json()
    assert [m["plan_id"] for m in mine] == [IPSM]
    assert (await st.http.get("/v1/reminder-mutes", headers=PEDRO)).json() == []
    other_org = bearer("rui", Grant("registrar", "ii", frozenset({"DS"})))
    assert (await st.http.put(f"/v1/plans/{IPSM}/reminder-mute", headers=other_org)).status_code == 404
    assert (await st.http.get(f"/v1/plans/{IPSM}/reminder-digests", headers=ANA)).status_code == 403
    st.clock.set(2014, 3, 13, 12)
    await run_reminders(st.app)
    assert st.mailbox.to("ana@example.org") == []
    assert (await st.http.delete(f"/v1/plans/{IPSM}/reminder-mute", headers=ANA)).status_code == 204
    assert (await st.http.delete(f"/v1/plans/{IPSM}/reminder-mute", headers=ANA)).status_code == 404
    await run_reminders(st.app)
    assert len(st.mailbox.to("ana@example.org")) == 1
    events = (await st.http.get("/v1/audit", params={"entity_type": "reminder_mute"}, headers=ADMIN)).json()
    assert [e["action"] for e in events["items"]] == ["reminder_mute.delete", "reminder_mute.create"]

"""The reminder job (run by a metas_kit.background.Periodic in every replica) and the mutes people set.

Per plan: the digest kinds it owes today (domain/reminders.py), the people of its organisation from the accounts
directory, and for each person with something to read, one digest: claimed in the database first (so a second
replica skips it), then sent over SMTP, then marked sent or failed (a failed one is retried later).
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from execution.application.access import organisation_of, visible_plan
from execution.application.plans import LoadedPlan, clock, load_plan_for_app, planning_client
from execution.application.reminder_mail import body, message, subject
from execution.clients.accounts import AccountsClient, Person
from execution.clients.smtp import SmtpSender
from execution.db.reminders import (
    CLAIMED,
    ReminderDigest,
    ReminderMute,
    claim,
    digest_key,
    digests_of,
    finish,
    get_mute,
    muted_usernames,
    mutes_of,
)
from execution.db.repositories import all_registrations
from execution.domain.reminders import (
    REGISTRAR_KINDS,
    DigestKind,
    Line,
    RegistrationState,
    Trigger,
    certifier_lines,
    item_names,
    registrar_lines,
    triggers,
)
from execution.settings import Settings
from metas_kit.auth import ANY_ORG, Principal
from metas_kit.errors import AppError, Forbidden, NotFound
from metas_kit.pagination import PageParams, PageResult
from metas_kit.writes import WriteContext

log = logging.getLogger("metas.execution.reminders")

DIGESTS_SENT = Counter("metas_reminders_digests_sent_total", "Reminder digests sent, by kind.", ["kind"])
DIGESTS_FAILED = Counter(
    "metas_reminders_digests_failed_total", "Reminder digests the SMTP server did not take, by kind.", ["kind"]
)
DIGESTS_SKIPPED = Counter(
    "metas_reminders_digests_skipped_total",
    "Digests found already sent or claimed (by this replica or another), so not sent again, by kind.",
    ["kind"],
)
for _kind in DigestKind:  # every series exists from the start, so rate() and increase() see the first event
    DIGESTS_SENT.labels(_kind.value)
    DIGESTS_FAILED.labels(_kind.value)
    DIGESTS_SKIPPED.labels(_kind.value)

REPLICA = f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class RunReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0


def _settings(app: FastAPI) -> Settings:
    settings: Settings = app.state.settings
    return settings


def sender_of(settings: Settings) -> SmtpSender | None:
    if not settings.smtp_host:
        return None
    return SmtpSender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        timeout=settings.smtp_timeout_seconds,
    )


def _units(person: Person, role: str, org: str) -> frozenset[str] | None:
    """Units of ``org`` the person holds ``role`` for: None = every unit; empty = none. Admin grants are not
    counted: an administrator is not anyone's registrar or certifier."""
    units: set[str] = set()
    for grant in person.grants:
        if grant.role != role or grant.org not in (org, ANY_ORG):
            continue
        if not grant.units:
            return None
        units |= grant.units
    return frozenset(units)


async def run_reminders(app: FastAPI) -> RunReport:
    """One pass over every plan planning knows. A plan that cannot be read is logged and skipped."""
    settings = _settings(app)
    report = RunReport()
    sender = sender_of(settings)
    if sender is None:
        return report
    as_of = settings.reminders_as_of or clock(app)
    for plan_id in await planning_client(app).plan_ids():
        try:
            await _plan_digests(app, sender, plan_id, as_of, report)
        except AppError as exc:
            log.warning("reminders for plan %s skipped: %s", plan_id, exc)
    return report


async def _plan_digests(app: FastAPI, sender: SmtpSender, plan_id: str, as_of: datetime, report: RunReport) -> None:
    settings = _settings(app)
    async with app.state.db.read_sessionmaker() as session:
        plan = await load_plan_for_app(app, session, plan_id)
        today = as_of.astimezone(plan.schedule.calendar.timezone).date()
        due = triggers(plan.schedule, today, settings.reminder_lead_business_days)
        if not due or plan.organisation_code is None:
            return
        registrations = await all_registrations(session, plan_id)
        muted = await muted_usernames(session, plan_id)
    states = {(r.item_code, r.period): RegistrationState(r.certification, r.first_registered_at) for r in registrations}
    submitted = [(r.item_code, r.unit_code, r.period) for r in registrations if r.certification == "submitted"]
    org = plan.organisation_code
    accounts: AccountsClient = app.state.accounts
    people = await accounts.people(org, {"registrar", "certifier"})
    names = item_names(plan.tree.document)
    for trigger in due:
        role = "registrar" if trigger.kind in REGISTRAR_KINDS else "certifier"
        for person in people:
            units = _units(person, role, org)
            if person.username in muted or (units is not None and not units):
                continue
            if role == "registrar":
                lines = registrar_lines(plan.schedule, trigger, units, states)
            else:
                lines = certifier_lines(plan.schedule, units, submitted)
            if lines:
                await _send(app, sender, plan, trigger, person, lines, names, report)


def _plan_name(plan: LoadedPlan) -> str:
    meta: Any = plan.tree.document.get("plan") or {}
    return str(meta.get("title") or plan.facts.plan_id)


async def _send(
    app: FastAPI,
    sender: SmtpSender,
    plan: LoadedPlan,
    trigger: Trigger,
    person: Person,
    lines: list[Line],
    names: dict[str, str],
    report: RunReport,
) -> None:
    settings = _settings(app)
    now = datetime.now(UTC)  # claims age in real time, whatever day the digests are worked out for
    key = digest_key(trigger.kind.value, plan.facts.plan_id, trigger.due_date, person.username)
    row = ReminderDigest(
        digest_key=key,
        kind=trigger.kind.value,
        plan_id=plan.facts.plan_id,
        due_date=trigger.due_date,
        username=person.username,
        email=person.email,
        locale=person.locale,
        items=[
            {"item_code": x.item_code, "unit_code": x.unit_code, "period": x.period, "status": x.status.value}
            for x in lines
        ],
        status=CLAIMED,
        attempts=0,
        claimed_by=REPLICA,
        claimed_at=now,
    )
    claimed = await claim(
        app.state.db.sessionmaker,
        row,
        now=now,
        retry_after=timedelta(seconds=settings.reminders_retry_after_seconds),
        max_attempts=settings.reminders_max_attempts,
    )
    if claimed is None:
        DIGESTS_SKIPPED.labels(trigger.kind.value).inc()
        report.skipped += 1
        return
    plan_name = _plan_name(plan)
    text = body(
        trigger.kind,
        person=person.display_name,
        plan_id=plan.facts.plan_id,
        plan_name=plan_name,
        due=trigger.due_date,
        lines=lines,
        names=names,
        locale=person.locale,
    )
    mail = message(
        sender=settings.smtp_from,
        to=person.email,
        subject_text=subject(trigger.kind, len(lines), plan_name, trigger.due_date, person.locale),
        text=text,
        key=key,
    )
    error: str | None = None
    try:
        await sender.send(mail)
    except (OSError, TimeoutError) as exc:  # smtplib.SMTPException is an OSError
        error = f"{type(exc).__name__}: {exc}"
    await finish(app.state.db.sessionmaker, claimed.id, at=datetime.now(UTC), error=error)
    if error is None:
        DIGESTS_SENT.labels(trigger.kind.value).inc()
        report.sent += 1
    else:
        DIGESTS_FAILED.labels(trigger.kind.value).inc()
        report.failed += 1
        log.warning("digest %s not sent: %s", key, error)


# ---- mutes and the digest log ----------------------------------------------------------------------------------


async def my_mutes(session: AsyncSession, who: Principal) -> list[ReminderMute]:
    return await mutes_of(session, who.sub)


async def mute(ctx: WriteContext, plan_id: str) -> ReminderMute:
    app, session, who = ctx.request.app, ctx.session, ctx.principal
    plan = await visible_plan(app, session, who, plan_id)
    row = await get_mute(session, who.sub, plan_id)
    if row is not None:
        ctx.unchanged()  # already muted: no write, no audit event
        return row
    row = ReminderMute(username=who.sub, plan_id=plan_id, created_at=clock(app))
    session.add(row)
    await session.flush()
    await ctx.audit(
        "reminder_mute",
        f"{plan_id}/{who.sub}",
        "create",
        after={"plan_id": plan_id},
        organisation=plan.organisation_code,
    )
    return row


async def unmute(ctx: WriteContext, plan_id: str) -> None:
    session, who = ctx.session, ctx.principal
    row = await get_mute(session, who.sub, plan_id)
    if row is None:
        raise NotFound(f"You have not muted the digests of plan {plan_id!r}.")
    await session.delete(row)
    await ctx.audit("reminder_mute", f"{plan_id}/{who.sub}", "delete", before={"plan_id": plan_id})


async def digest_log(
    app: FastAPI, session: AsyncSession, who: Principal, plan_id: str, *, page: PageParams
) -> PageResult[ReminderDigest]:
    plan = await visible_plan(app, session, who, plan_id)
    if not who.can({"planner", "auditor"}, organisation_of(plan)):
        raise Forbidden("The digest log of a plan needs the role 'planner' or 'auditor' in its organisation.")
    return await digests_of(session, plan_id, page=page)

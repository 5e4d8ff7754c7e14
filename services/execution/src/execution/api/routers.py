"""All routers of the execution service, in the order they are mounted."""

from __future__ import annotations

from fastapi import APIRouter

from execution.api import (
    evidence,
    locks,
    obligations,
    registration_template,
    registrations,
    reminders,
    reports,
    settings,
    unlock_requests,
    value_bounds,
)
from metas_kit.audit import audit_router


def all_routers() -> list[APIRouter]:
    return [
        registrations.router,
        obligations.router,
        registration_template.router,
        reports.router,
        locks.router,
        settings.router,
        unlock_requests.router,
        evidence.router,
        value_bounds.router,
        reminders.router,
        audit_router(),  # the audit table given to configure_writes,
    ]

"""Who may see and evaluate what: a plan's organisation against the caller's grants (docs/architecture.md).

Another organisation's plan or evaluation is a 404, as if it did not exist, so its existence does not leak.
Upstream reads go out with the service identity, so every check on what a user asked happens here first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metas_kit.auth import ALL, READ_ROLES, Principal
from metas_kit.errors import Forbidden, NotFound

EVALUATORS = frozenset({"planner", "certifier"})


def organisation_of(document: Mapping[str, Any]) -> str | None:
    code = (document.get("organisation") or {}).get("code")
    return code if isinstance(code, str) else None


def _holds(who: Principal, roles: frozenset[str], organisation: str | None) -> bool:
    # A run stored before organisations were recorded (or a plan without one) belongs to no organisation in
    # particular: installation-wide grants only.
    if organisation is None:
        return who.orgs_for(roles) is ALL
    return who.can(roles, organisation)


def may_read(who: Principal, organisation: str | None) -> bool:
    return _holds(who, READ_ROLES, organisation)


def readable_organisations(who: Principal) -> frozenset[str] | None:
    """None: every organisation; otherwise the organisations the caller may read."""
    scope = who.orgs_for(READ_ROLES)
    return None if scope is ALL else scope


def require_plan_visible(who: Principal, plan_id: str, document: Mapping[str, Any]) -> None:
    if not may_read(who, organisation_of(document)):
        raise NotFound(f"Plan {plan_id!r} does not exist in planning.")


def require_evaluator(who: Principal, plan_id: str, document: Mapping[str, Any]) -> None:
    require_plan_visible(who, plan_id, document)
    if not _holds(who, EVALUATORS, organisation_of(document)):
        raise Forbidden(f"Evaluating plan {plan_id!r} needs the planner or certifier role in its organisation.")

"""What every budget use case checks first: the caller may act on this installation's budget."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from budget.application.context import BudgetCache
from metas_kit.auth import Principal
from metas_kit.errors import Forbidden, PreconditionFailed, PreconditionRequired


@dataclass
class BudgetState:
    """Per app (app.state.budget): the budget's owning organisation and the cache of parsed documents."""

    organisation: str
    cache: BudgetCache = field(default_factory=BudgetCache)


def require_budget(who: Principal, state: BudgetState, roles: Iterable[str] | None = None) -> None:
    """Reads need any role, writes one of ``roles``."""
    if roles is not None and not who.has_any(roles):
        raise Forbidden(f"This action needs one of the roles {sorted(roles)}.")


def check_if_match(header: str | None, current: str) -> None:
    """428 without If-Match, 412 unless it names the current ETag."""
    if header is None:
        raise PreconditionRequired(
            "Send If-Match with the ETag you read, so concurrent edits cannot overwrite each other."
        )
    tags = [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]
    if "*" not in tags and current not in tags:
        raise PreconditionFailed(
            "The resource changed since you read it; read it again and reapply your change.",
            extra={"current_etag": current},
        )

"""What every budget use case checks first: the caller holds a grant for the budget's owning organisation.

The budget (the PRR investment, its amounts, links and reports) belongs to one organisation (setting
METAS_BUDGET_ORGANISATION, `ii` for the seed). A caller without a grant for it (or an installation-wide one) is
told there is no budget (404), as for any other organisation's resource; one who can read it but lacks the
role a write needs gets 403."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from budget.application.context import BudgetCache
from metas_kit.auth import READ_ROLES, Principal
from metas_kit.errors import Forbidden, NotFound


@dataclass
class BudgetState:
    """Per app (app.state.budget): the budget's owning organisation and the cache of parsed documents."""

    organisation: str
    cache: BudgetCache = field(default_factory=BudgetCache)


def require_budget(who: Principal, state: BudgetState, roles: Iterable[str] | None = None) -> None:
    """Reads need any role for the owning organisation, writes one of ``roles`` for it."""
    if not who.can(READ_ROLES, state.organisation):
        raise NotFound("There is no budget here for your organisations.")
    if roles is not None and not who.can(roles, state.organisation):
        raise Forbidden(f"This action needs one of the roles {sorted(roles)} for {state.organisation!r}.")

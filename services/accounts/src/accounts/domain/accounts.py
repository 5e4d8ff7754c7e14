"""Account names, locales and grants as accounts stores them."""

from __future__ import annotations

import re
from collections.abc import Iterable

from metas_kit.grants import ANY_ORG, INSTALLATION_ONLY_ROLES, ROLES, Grant

LOCALES = ("pt-PT", "pt-BR", "en")
# Lower-case so that 'Ana' and 'ana' are one account; dots, dashes and underscores as in e-mail local parts.
USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
MAX_GRANTS = 64
MAX_UNITS_PER_GRANT = 256
_CODE = re.compile(CODE_PATTERN)


def normalise_username(username: str) -> str:
    return username.strip().lower()


def grant_problems(grants: Iterable[Grant]) -> list[str]:
    """What makes a set of grants unusable in a token (the same rules metas_kit.auth applies when reading one)."""
    problems: list[str] = []
    items = list(grants)
    if len(items) > MAX_GRANTS:
        problems.append(f"at most {MAX_GRANTS} grants")
    for i, g in enumerate(items):
        where = f"grants[{i}]"
        if g.role not in ROLES:
            problems.append(f"{where}: unknown role {g.role!r}")
        if g.org != ANY_ORG and not _CODE.match(g.org):
            problems.append(f"{where}: org must be an organisation code or '*'")
        if g.role in INSTALLATION_ONLY_ROLES and g.org != ANY_ORG:
            problems.append(f"{where}: the role {g.role!r} is installation-wide (org '*')")
        if g.units and (g.role == "admin" or g.role in INSTALLATION_ONLY_ROLES):
            problems.append(f"{where}: a {g.role!r} grant covers the whole organisation and names no units")
        if len(g.units) > MAX_UNITS_PER_GRANT:
            problems.append(f"{where}: at most {MAX_UNITS_PER_GRANT} units")
        if any(not _CODE.match(u) for u in g.units):
            problems.append(f"{where}: units must be unit codes")
    return problems


def covers(grants: Iterable[Grant], *, roles: frozenset[str] | None, org: str | None, unit: str | None) -> bool:
    """Whether one of the grants matches a directory query (any filter left out matches anything)."""
    for g in grants:
        if roles is not None and g.role not in roles:
            continue
        if org is not None and g.org not in (ANY_ORG, org):
            continue
        if unit is not None and g.units and unit not in g.units:
            continue
        return True
    return False

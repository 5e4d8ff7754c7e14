"""Grants and principals: who may do what, as plain values (standard library only, so domain code may use them).

A permission is a *grant*: (role, organisation, units of that organisation). The organisation is an
organisation code or ``"*"`` (installation-wide); empty units mean every unit of the organisation. Tokens
carry them (``metas_kit.auth`` reads and writes the claim); principals answer ``has_any``/``can``/``orgs_for``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Literal

ROLES = frozenset({"admin", "planner", "registrar", "certifier", "budget", "viewer", "auditor", "service"})
READ_ROLES = frozenset(ROLES)
AUDIT_READERS = frozenset({"admin", "auditor"})
# Roles that only make sense installation-wide: a service identity is not a member of an organisation.
INSTALLATION_ONLY_ROLES = frozenset({"service"})
ANY_ORG: Final = "*"


class Everywhere(enum.Enum):
    """Sentinel type of ``ALL``: the answer of ``orgs_for``/``units_for`` when nothing narrows the scope."""

    ALL = "*"


ALL: Final = Everywhere.ALL
Scope = frozenset[str] | Literal[Everywhere.ALL]


@dataclass(frozen=True)
class Grant:
    role: str
    org: str = ANY_ORG
    # Empty: every unit of ``org``. Units on an installation-wide grant (``org="*"``) are what a pre-grant token
    # meant: that unit code in any organisation; new grants name their organisation.
    units: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        # Accept any iterable of unit codes from callers; keep the frozen value hashable.
        if not isinstance(self.units, frozenset):
            object.__setattr__(self, "units", frozenset(self.units))

    def covers(self, org: str, unit: str | None = None) -> bool:
        if self.org != ANY_ORG and self.org != org:
            return False
        return unit is None or not self.units or unit in self.units

    def claim(self) -> dict[str, Any]:
        return {"role": self.role, "org": self.org, "units": sorted(self.units)}


def legacy_grants(roles: Iterable[str], units: Iterable[str] = ()) -> tuple[Grant, ...]:
    """The grants a token of an earlier release (claims ``roles`` + ``units``) stands for.

    Units restricted only what a registrar could register, so they go to the registrar grant alone. A registrar
    with no units could read everything and register nothing: that is exactly an installation-wide viewer (an
    empty unit list now means *every* unit, which would widen it).
    """
    unit_set = frozenset(units)
    grants: list[Grant] = []
    for role in sorted(set(roles)):
        if role == "registrar":
            grants.append(Grant("registrar", ANY_ORG, unit_set) if unit_set else Grant("viewer", ANY_ORG))
        else:
            grants.append(Grant(role, ANY_ORG))
    return tuple(dict.fromkeys(grants))


class Principal:
    """Who is calling and what they may do.

    ``Principal(sub, grants=[...])`` is the normal form. ``Principal(sub, roles, units)`` still builds the
    installation-wide principal an earlier release meant (``legacy_grants``) so callers migrate at their pace.
    """

    __slots__ = ("grants", "name", "sub")

    sub: str
    grants: tuple[Grant, ...]
    name: str | None

    def __init__(
        self,
        sub: str,
        roles: Iterable[str] = (),
        units: Iterable[str] = (),
        name: str | None = None,
        *,
        grants: Iterable[Grant] | None = None,
    ) -> None:
        if grants is not None and (roles or units):
            raise ValueError("Give either grants or the legacy roles/units, not both.")
        resolved = tuple(dict.fromkeys(grants)) if grants is not None else legacy_grants(roles, units)
        object.__setattr__(self, "sub", sub)
        object.__setattr__(self, "grants", resolved)
        object.__setattr__(self, "name", name)

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError("Principal is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Principal):
            return NotImplemented
        return (self.sub, frozenset(self.grants), self.name) == (other.sub, frozenset(other.grants), other.name)

    def __hash__(self) -> int:
        return hash((self.sub, frozenset(self.grants), self.name))

    def __repr__(self) -> str:
        return f"Principal(sub={self.sub!r}, grants={list(self.grants)!r}, name={self.name!r})"

    # ---- derived view ------------------------------------------------------------------------------------------
    @property
    def roles(self) -> frozenset[str]:
        """Every role held somewhere (audit rows record these)."""
        return frozenset(g.role for g in self.grants)

    # ---- the checks services make ---------------------------------------------------------------------------
    def _matching(self, roles: Iterable[str]) -> list[Grant]:
        wanted = frozenset(roles) | {"admin"}
        return [g for g in self.grants if g.role in wanted]

    def has_any(self, roles: Iterable[str]) -> bool:
        """Holds one of ``roles`` (or admin) for some organisation: the route-level gate."""
        return bool(self._matching(roles))

    def can(self, roles: Iterable[str], org: str, unit: str | None = None) -> bool:
        """Holds one of ``roles`` for ``org`` (and ``unit`` when given). An admin grant for the organisation or
        the installation passes, whatever its units."""
        for g in self._matching(roles):
            if g.role == "admin":
                if g.org in (ANY_ORG, org):
                    return True
            elif g.covers(org, unit):
                return True
        return False

    def orgs_for(self, roles: Iterable[str]) -> Scope:
        """Organisations where one of ``roles`` (or admin) is held: ``ALL`` for an installation-wide grant."""
        matching = self._matching(roles)
        if any(g.org == ANY_ORG for g in matching):
            return ALL
        return frozenset(g.org for g in matching)

    def units_for(self, roles: Iterable[str], org: str) -> Scope:
        """Units of ``org`` where one of ``roles`` is held: ``ALL`` when a grant covers every unit of it."""
        found: set[str] = set()
        for g in self._matching(roles):
            if g.org not in (ANY_ORG, org):
                continue
            if g.role == "admin" or not g.units:
                return ALL
            found |= g.units
        return frozenset(found)

    def claims(self) -> dict[str, Any]:
        return {"sub": self.sub, "name": self.name, "grants": [g.claim() for g in self.grants]}

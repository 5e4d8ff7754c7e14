"""Unlock requests: a registrar asks a planner to reopen a closed period for one item or one unit.

Pure rules: the scope a request names and the only transitions it has (pending → granted | refused, once).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class UnlockStatus(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    REFUSED = "refused"


class UnlockDecision(StrEnum):
    GRANT = "grant"
    REFUSE = "refuse"


class AlreadyDecided(Exception):
    """A granted or refused request is final: a new request must be made."""


@dataclass(frozen=True, slots=True)
class UnlockScope:
    """An item (of its unit) or a whole unit. ``key`` is what makes two pending requests the same request."""

    unit_code: str
    item_code: str | None = None

    @property
    def key(self) -> str:
        return f"item:{self.item_code}" if self.item_code is not None else f"unit:{self.unit_code}"


def decide(status: UnlockStatus, decision: UnlockDecision) -> UnlockStatus:
    if status is not UnlockStatus.PENDING:
        raise AlreadyDecided(f"the request is already {status.value}")
    return UnlockStatus.GRANTED if decision is UnlockDecision.GRANT else UnlockStatus.REFUSED

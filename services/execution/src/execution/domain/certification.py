"""Certification workflow of a registration (SISGAR: the planning office certifies).

    (none) --submit--> submitted --certify--> certified
                      submitted --reject(reason)--> rejected --submit--> submitted
                      certified --reject(reason)--> rejected      (certifier reopens it)
                      certified --submit--> submitted             (changed since certified)

A new value (a new version) is a ``submit``. A new value of a certified registration sends it back for
certification: the registration keeps the number of its last certify version and is flagged as changed since
certified until a certifier certifies it again (docs/domain.md §2.4). The schedule's rules (write window, locks,
lock exceptions) apply to it as to any other value.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from execution.domain.errors import IllegalTransition


class CertificationState(StrEnum):
    SUBMITTED = "submitted"
    CERTIFIED = "certified"
    REJECTED = "rejected"


class CertificationAction(StrEnum):
    SUBMIT = "submit"
    CERTIFY = "certify"
    REJECT = "reject"


_TRANSITIONS: dict[tuple[CertificationState | None, CertificationAction], CertificationState] = {
    (None, CertificationAction.SUBMIT): CertificationState.SUBMITTED,
    (CertificationState.SUBMITTED, CertificationAction.SUBMIT): CertificationState.SUBMITTED,
    (CertificationState.REJECTED, CertificationAction.SUBMIT): CertificationState.SUBMITTED,
    (CertificationState.SUBMITTED, CertificationAction.CERTIFY): CertificationState.CERTIFIED,
    (CertificationState.SUBMITTED, CertificationAction.REJECT): CertificationState.REJECTED,
    (CertificationState.CERTIFIED, CertificationAction.REJECT): CertificationState.REJECTED,
    (CertificationState.CERTIFIED, CertificationAction.SUBMIT): CertificationState.SUBMITTED,
}


@dataclass(frozen=True, slots=True)
class Transition:
    action: CertificationAction
    before: CertificationState | None
    after: CertificationState
    reason: str | None


def transition(state: CertificationState | None, action: CertificationAction, reason: str | None = None) -> Transition:
    """Apply ``action`` to ``state``; raises IllegalTransition when not allowed."""
    if action is CertificationAction.REJECT and not (reason and reason.strip()):
        raise IllegalTransition(action.value, state, "a rejection needs a reason")
    target = _TRANSITIONS.get((state, action))
    if target is None:
        raise IllegalTransition(action.value, state)
    return Transition(
        action=action,
        before=state,
        after=target,
        reason=reason.strip() if reason else None,
    )


class CertifierIndependence(StrEnum):
    """Who may not certify or reject a registration (segregation of duties, docs/domain.md §2.4).

    ``version``: the author of the current value (the default); ``registration``: anyone who submitted any version
    of it. A plan may only move towards the stricter rule."""

    VERSION = "version"
    REGISTRATION = "registration"

    @property
    def strictness(self) -> int:
        return 0 if self is CertifierIndependence.VERSION else 1


def independence_of(value: str | None) -> CertifierIndependence:
    return CertifierIndependence(value) if value else CertifierIndependence.VERSION


def certifier_conflict(who: str, submitters: list[str], rule: CertifierIndependence) -> bool:
    """Whether ``who`` may not decide on a registration whose submitters are ``submitters`` (oldest first)."""
    if not submitters:
        return False
    if rule is CertifierIndependence.REGISTRATION:
        return who in submitters
    return who == submitters[-1]

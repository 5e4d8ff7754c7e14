"""Domain errors; the API layer maps them to problem+json responses."""

from __future__ import annotations


class ExecutionDomainError(Exception):
    """Base class of every rule violation raised by the execution domain."""


class InvalidPeriod(ExecutionDomainError):
    """A period string is not YYYY-MM or is out of range."""


class CalendarError(ExecutionDomainError):
    """A calendar specification cannot be honoured (unknown country, bad closure, ...)."""


class DeadlineError(ExecutionDomainError):
    """A deadline cannot be computed (e.g. a month has fewer business days than asked)."""


class IllegalTransition(ExecutionDomainError):
    """A certification action is not allowed from the registration's current state."""

    def __init__(self, action: str, state: str | None, detail: str | None = None) -> None:
        self.action = action
        self.state = state
        super().__init__(detail or f"cannot {action} a registration in state {state or 'none'}")


class InvalidRegistration(ExecutionDomainError):
    """A registration payload breaks a rule (bad percentage, partial without evidence, ...); ``field`` names the
    payload member at fault (``payload.numerator``), or ``payload`` for the whole."""

    def __init__(self, message: str, field: str = "payload") -> None:
        super().__init__(message)
        self.field = field

"""Circuit breaker per upstream: after N consecutive failures calls fail fast until a reset period passes,
then one trial call decides whether to close again. Pure; the clock is injected for tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import IntEnum


class State(IntEnum):
    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


class CircuitBreaker:
    def __init__(
        self, failure_threshold: int, reset_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        # When the half-open trial was let through; a trial that never reports back (its caller went away)
        # expires after another reset period, so the circuit cannot stay shut for good.
        self.trial_started_at: float | None = None

    @property
    def state(self) -> State:
        if self.opened_at is None:
            return State.CLOSED
        if self.clock() - self.opened_at >= self.reset_seconds:
            return State.HALF_OPEN
        return State.OPEN

    def allow(self) -> bool:
        state = self.state
        if state is State.CLOSED:
            return True
        if state is State.HALF_OPEN:
            now = self.clock()
            if self.trial_started_at is None or now - self.trial_started_at >= self.reset_seconds:
                self.trial_started_at = now
                return True
        return False

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self.trial_started_at = None

    def record_failure(self) -> None:
        self.trial_started_at = None
        self.failures += 1
        if self.failures >= self.failure_threshold or self.opened_at is not None:
            self.opened_at = self.clock()

    def retry_after(self) -> float:
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.reset_seconds - (self.clock() - self.opened_at))

"""Circuit breaker of the gateway with an injected clock: opens after N consecutive failures, fails fast while
open, lets exactly one trial through once the reset period has passed, and closes or re-opens on its outcome."""

from __future__ import annotations

from gateway.breaker import CircuitBreaker, State


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_threshold_consecutive_failures_only() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_seconds=5.0, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    # A success in between resets the count: failures must be consecutive.
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is State.CLOSED
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is State.OPEN
    assert not breaker.allow()


def test_open_circuit_fails_fast_and_reports_time_left() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=5.0, clock=clock)
    breaker.record_failure()
    clock.now += 2.0
    assert not breaker.allow()
    # opened at t=1000, now t=1002, reset 5 s → 3 s left.
    assert breaker.retry_after() == 3.0
    clock.now += 2.999
    assert breaker.state is State.OPEN
    assert not breaker.allow()


def test_half_open_lets_exactly_one_trial_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_seconds=5.0, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.now += 5.0
    assert breaker.state is State.HALF_OPEN
    assert breaker.allow()
    # Concurrent callers while the trial is in flight still fail fast.
    assert not breaker.allow()
    assert not breaker.allow()


def test_successful_trial_closes_the_circuit() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_seconds=5.0, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.now += 6.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is State.CLOSED
    assert breaker.retry_after() == 0.0
    assert all(breaker.allow() for _ in range(10))
    # Closed again with a fresh count: one failure does not re-open a threshold-2 breaker.
    breaker.record_failure()
    assert breaker.state is State.CLOSED


def test_failed_trial_reopens_for_a_full_period() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_seconds=5.0, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.now += 5.0
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is State.OPEN
    assert breaker.retry_after() == 5.0
    clock.now += 4.0
    assert not breaker.allow()
    clock.now += 1.0
    assert breaker.allow()


def test_a_trial_that_never_reports_back_does_not_block_the_circuit_forever() -> None:
    # A trial call may be abandoned (client gone, task cancelled) without recording success or failure;
    # after another reset period a new trial must be allowed, or the upstream stays cut off for good.
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=5.0, clock=clock)
    breaker.record_failure()
    clock.now += 5.0
    assert breaker.allow()
    clock.now += 1.0
    assert not breaker.allow()
    clock.now += 5.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is State.CLOSED

"""Per-client token bucket of the gateway with an injected clock: burst, steady rate, the wait it reports,
independence of clients, and bounded memory."""

from __future__ import annotations

import pytest

from gateway.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refused_with_the_wait_for_one_token() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate_per_second=2.0, burst=3, clock=clock)
    assert [limiter.take("ana") for _ in range(3)] == [0.0, 0.0, 0.0]
    # Bucket empty; 2 tokens/s → the next token comes in 1/2 = 0.5 s.
    assert limiter.take("ana") == pytest.approx(0.5)
    clock.now += 0.25
    # Half a token accrued (0.25 s × 2/s): 0.5 token missing → 0.25 s.
    assert limiter.take("ana") == pytest.approx(0.25)
    clock.now += 0.25
    assert limiter.take("ana") == 0.0


def test_steady_rate_is_the_configured_one() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate_per_second=8.0, burst=1, clock=clock)
    allowed = []
    # Calls every 1/64 s (binary-exact steps) at k = 0..127, i.e. for 2 s: 8 tokens/s is one token every
    # 8 steps → allowed at k = 0 (the burst), 8, 16, …, 120: 1 + 15 = 16 calls.
    for k in range(128):
        if limiter.take("bot") == 0.0:
            allowed.append(k)
        clock.now += 1 / 64
    assert allowed == list(range(0, 128, 8))


def test_refused_calls_do_not_consume_tokens() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate_per_second=1.0, burst=1, clock=clock)
    assert limiter.take("c") == 0.0
    for _ in range(50):
        assert limiter.take("c") > 0.0
    clock.now += 1.0
    # Hammering while empty did not push the next token further away.
    assert limiter.take("c") == 0.0


def test_bucket_never_exceeds_burst_after_idle() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate_per_second=5.0, burst=2, clock=clock)
    limiter.take("x")
    clock.now += 3600.0
    assert [limiter.take("x") for _ in range(3)][:2] == [0.0, 0.0]
    assert limiter.take("x") > 0.0


def test_clients_are_limited_independently() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate_per_second=1.0, burst=1, clock=clock)
    assert limiter.take("ana") == 0.0
    assert limiter.take("ana") > 0.0
    assert limiter.take("rui") == 0.0


def test_memory_is_bounded_and_evicts_the_least_recent_client() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate_per_second=1.0, burst=1, max_clients=3, clock=clock)
    for name in ("a", "b", "c"):
        limiter.take(name)
    limiter.take("a")  # refreshes a: b is now the least recent
    limiter.take("d")
    assert len(limiter.buckets) == 3
    assert set(limiter.buckets) == {"a", "c", "d"}

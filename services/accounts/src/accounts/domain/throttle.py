"""Sign-in throttling over a sliding window: at most ``limit`` failures per key (an account name, a client
address) within ``window``; past it, refused until the oldest counted failure leaves the window."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta


def retry_after(failures: Sequence[datetime], now: datetime, *, limit: int, window: timedelta) -> int:
    """Whole seconds to wait before another try (0: go ahead). ``failures``: the key's failure instants."""
    recent = sorted(f for f in failures if now - f < window)
    if len(recent) < limit:
        return 0
    # The try is allowed again once only limit-1 failures remain in the window.
    frees_at = recent[len(recent) - limit] + window
    return max(1, math.ceil((frees_at - now).total_seconds()))

"""A token bucket: the one rate limiter of the daemon's endpoints and of its notifications.

Neither tenacity nor stamina (the retry libraries weighed in issue 21, docs/libraries.md) limits
rates; for 15 lines of code, no rate-limiting library was taken either.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` requests per second on average, ``burst`` at once; the clock is injectable."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

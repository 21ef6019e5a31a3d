"""Retrying with exponential backoff, with the clock injected so that tests take no time.

A git server that restarts, a load balancer that drops one connection: most network failures
last seconds. Retrying a few times with growing pauses rides them out without hammering a server
that is down; what is still failing after that is reported and retried at the next poll. The delay
itself is computed in reconciler/backoff.py, shared with the HTTP retries (which add jitter).
tenacity's `Retrying` could express this loop in about 10 lines instead of 20, but not the HTTP one
(reconciler/apim/retry.py says why, with numbers): two retry mechanisms for ten lines is the worse
trade (issue 21, docs/libraries.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from reconciler.backoff import capped_delay

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Backoff:
    """``attempts`` tries in all; pauses of ``initial``, ``initial*factor``, ... capped at ``maximum``."""

    attempts: int = 3
    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.initial < 0 or self.factor < 1 or self.maximum < 0:
            raise ValueError("initial and maximum must be >= 0, factor >= 1")

    def delays(self) -> Iterator[float]:
        """The pauses between tries: ``attempts - 1`` of them."""
        for retry_number in range(self.attempts - 1):
            yield capped_delay(retry_number, initial=self.initial, factor=self.factor, maximum=self.maximum)


def retry(
    operation: Callable[[], T],
    *,
    backoff: Backoff,
    should_retry: Callable[[BaseException], bool],
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[BaseException, int, float], None] | None = None,
) -> T:
    """Run ``operation`` until it succeeds, fails with an error ``should_retry`` rejects, or tries run out.

    ``on_retry(error, attempt, delay)`` is called before each pause (attempt counts from 1), so the
    caller can log it. The last error is raised as it is.
    """
    delays = backoff.delays()
    attempt = 1
    while True:
        try:
            return operation()
        except Exception as error:
            if not should_retry(error):
                raise
            delay = next(delays, None)
            if delay is None:
                raise
            if on_retry is not None:
                on_retry(error, attempt, delay)
            sleep(delay)
            attempt += 1

"""Exponential backoff, the one computation of how long to wait before the n-th retry.

Two retry loops need it and differ only in what surrounds it: git fetches (reconciler/source/backoff.py)
wait the capped delay itself, one fetch at a time; HTTP requests to APIM (reconciler/apim/retry.py)
draw a full jitter under it, because many requests fail at once and must not come back together.
A leaf: it imports nothing of ours, so that both `source` and `apim` may use it (tests/test_layers.py).
"""

from __future__ import annotations

import random

# Past 2**30 times the first delay every cap is reached; the bound keeps `factor ** n` a finite float.
_MAX_EXPONENT = 30


def capped_delay(retry_number: int, *, initial: float, factor: float, maximum: float) -> float:
    """`initial * factor**n`, capped at `maximum`, for the n-th retry (from 0)."""
    return min(maximum, initial * factor ** min(retry_number, _MAX_EXPONENT))


def full_jitter(ceiling: float, rng: random.Random) -> float:
    """A pause drawn uniformly in [0, ceiling] (AWS's "full jitter")."""
    return rng.uniform(0.0, ceiling)

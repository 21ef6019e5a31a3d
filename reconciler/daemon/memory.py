"""Giving the memory that a sync freed back to the operating system.

A sync builds and drops a whole estate's worth of objects. Python returns the memory to the C
allocator, but glibc keeps freed heap pages for reuse, so without a trim the daemon's resident size
between syncs tracks the busiest sync so far instead of what is alive: +10 % over the first ten syncs
of the benchmark's daemon (bench/README.md), which a Kubernetes memory limit counts all the same.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable


def _find_malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, or None on a C library without it (musl, macOS)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_malloc_trim = _find_malloc_trim()


def release_freed_memory() -> bool:
    """Collect the cycles a sync left behind, then trim the C heap; True when the trim ran."""
    gc.collect()
    if _malloc_trim is None:
        return False
    _malloc_trim(0)
    return True

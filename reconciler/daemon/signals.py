"""Signals, the Unix way: SIGHUP syncs now; SIGTERM and SIGINT stop gracefully, twice stops at once.

A Kubernetes pod is sent SIGTERM and given a grace period; the first signal stops new work and
lets the sync in flight finish (bounded by ``--shutdown-timeout``), a second one cancels it.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable


def install(
    loop: asyncio.AbstractEventLoop, *, on_hup: Callable[[], None], on_stop: Callable[[], None]
) -> Callable[[], None]:
    """Install the handlers; the returned function removes them."""
    loop.add_signal_handler(signal.SIGHUP, on_hup)
    loop.add_signal_handler(signal.SIGTERM, on_stop)
    loop.add_signal_handler(signal.SIGINT, on_stop)

    def remove() -> None:
        for number in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(number)

    return remove

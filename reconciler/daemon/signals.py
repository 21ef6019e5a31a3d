"""Signals, the Unix way: SIGHUP syncs now; SIGTERM and SIGINT stop gracefully, twice stops at once;
SIGUSR1 suspends the daemon (no writes) and SIGUSR2 resumes it (see suspend.py).

A Kubernetes pod is sent SIGTERM and given a grace period; the first signal stops new work and
lets the sync in flight finish (bounded by ``--shutdown-timeout``), a second one cancels it.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Any


def install(
    loop: asyncio.AbstractEventLoop,
    *,
    on_hup: Callable[[], None],
    on_stop: Callable[[], None],
    on_suspend: Callable[[], Any],
    on_resume: Callable[[], Any],
) -> Callable[[], None]:
    """Install the handlers; the returned function removes them."""
    handlers = {
        signal.SIGHUP: on_hup,
        signal.SIGTERM: on_stop,
        signal.SIGINT: on_stop,
        signal.SIGUSR1: on_suspend,
        signal.SIGUSR2: on_resume,
    }
    for number, handler in handlers.items():
        loop.add_signal_handler(number, handler)

    def remove() -> None:
        for number in handlers:
            loop.remove_signal_handler(number)

    return remove

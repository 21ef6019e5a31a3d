"""``apim-reconciler run``: the long-lived reconciler (poll, webhook, SIGHUP, watch) and its endpoints.

The daemon is the CLI's ``sync`` in a loop, plus what a container platform needs around it: health,
readiness, Prometheus metrics, a Flux-like status document, an authenticated webhook, one process
per cache directory, and a graceful shutdown. See docs/daemon.md.
"""

from typing import TYPE_CHECKING

from reconciler.lazy import lazy_exports

if TYPE_CHECKING:  # imported on first use (reconciler/lazy.py)
    from reconciler.daemon.config import DaemonConfig, parse_listen
    from reconciler.daemon.lock import AlreadyRunningError, ProcessLock
    from reconciler.daemon.main import run_daemon, run_once
else:
    __getattr__ = lazy_exports(__name__, __file__)

__all__ = [
    "AlreadyRunningError",
    "DaemonConfig",
    "ProcessLock",
    "parse_listen",
    "run_daemon",
    "run_once",
]

"""``apim-reconciler run``: the long-lived reconciler (poll, webhook, SIGHUP, watch) and its endpoints.

The daemon is the CLI's ``sync`` in a loop, plus what a container platform needs around it: health,
readiness, Prometheus metrics, a Flux-like status document, an authenticated webhook, one process
per cache directory, and a graceful shutdown. See docs/daemon.md.
"""

from reconciler.daemon.config import DaemonConfig, parse_listen
from reconciler.daemon.lock import AlreadyRunningError, ProcessLock
from reconciler.daemon.main import run_daemon, run_once

__all__ = [
    "AlreadyRunningError",
    "DaemonConfig",
    "ProcessLock",
    "parse_listen",
    "run_daemon",
    "run_once",
]

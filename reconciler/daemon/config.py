"""How the daemon runs: one frozen value built by the CLI from flags and RECONCILER_* variables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.notify import Target

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Listen:
    """The address of the HTTP endpoints (port 0: any free port, for tests)."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_listen(text: str) -> Listen:
    """``HOST:PORT``, ``[IPV6]:PORT`` or ``:PORT`` (all interfaces); ValueError when malformed."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not port_text.isdigit():
        raise ValueError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8080 or 0.0.0.0:8080")
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise ValueError(f"--listen {text!r}: port out of range")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return Listen(host or "0.0.0.0", port)  # ":8080" asks for every interface, as the user wrote it  # nosec B104


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    """Timing, endpoints and limits of the daemon (seconds for every duration).

    ``interval`` is the poll period, jittered by ``±jitter`` (a share) so that many replicas do not
    poll a git server in step. A sync runs when the commit changed, when the previous attempt failed,
    on a trigger, and at least every ``resync_interval`` (drift correction). Every
    ``full_read_interval`` (and at start) that sync reads every managed object in full, which also
    catches console edits that the cheap listing cannot see (0 turns the periodic deep read off).
    ``/readyz`` fails when no tick has succeeded for ``ready_after_intervals * interval``.
    """

    lock_dir: Path
    interval: float = 60.0
    jitter: float = 0.1
    resync_interval: float = 600.0
    full_read_interval: float = 3600.0
    listen: Listen | None = Listen("127.0.0.1", 8080)
    webhook_secret_file: Path | None = None
    shutdown_timeout: float = 30.0
    ready_after_intervals: float = 3.0
    webhook_max_body: int = MIB
    webhook_rate: float = 1.0
    webhook_burst: int = 5
    watch: Path | None = None
    identity_check_interval: float = 86_400.0
    """How often each context's identity is checked (token expiry, roles); 0: never."""
    token_warn_days: float = 30.0
    suspend: bool = False
    """Start suspended (``--suspend``): poll and plan, write nothing, until resumed."""
    suspend_file: Path | None = None
    """Suspended while this file exists (``--suspend-file``)."""
    control_secret_file: Path | None = None
    """The secret of ``POST /suspend`` and ``/resume`` (disabled without it)."""
    notify_targets: tuple[Target, ...] = ()
    """Where sync events are sent (reconciler/notify); none: no notification."""
    notify_rate_per_minute: float = 6.0

    def __post_init__(self) -> None:
        if self.interval <= 0:
            raise ValueError("--interval must be more than 0 seconds")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be a share between 0 and 1")
        if self.resync_interval <= 0:
            raise ValueError("--resync-interval must be more than 0 seconds")
        if self.full_read_interval < 0:
            raise ValueError("--full-read-interval must be 0 (never) or more")
        if self.shutdown_timeout < 0:
            raise ValueError("--shutdown-timeout must be 0 or more seconds")
        if self.webhook_max_body < 1 or self.webhook_rate <= 0 or self.webhook_burst < 1:
            raise ValueError("webhook limits must be positive")

    @property
    def ready_within(self) -> float:
        """Seconds after the last good tick during which the daemon still counts as ready."""
        return self.ready_after_intervals * self.interval

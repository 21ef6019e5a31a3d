"""Suspending the daemon without restarting it: while suspended, no sync writes anything to APIM.

Four ways in, one state (Flux's ``suspend``, Argo CD's disabled auto-sync):

- ``--suspend`` at start;
- ``POST /suspend`` and ``POST /resume`` on the daemon's listener, authenticated with the secret of
  ``--control-secret-file`` exactly as ``/trigger`` is with the webhook's (HMAC-SHA256 signature or
  ``Authorization: Bearer``), and disabled (404) without it: a write endpoint is never open to
  whoever reaches the port. It is a secret of its own, so that the git host that may trigger syncs
  cannot also stop them;
- ``SIGUSR1`` suspends, ``SIGUSR2`` resumes (SIGHUP syncs, SIGTERM/SIGINT stop: see signals.py);
- ``--suspend-file PATH``: the daemon is suspended while that file exists (checked at every poll),
  so a ConfigMap, a deployment tool or an operator with a shell can hold it without any API.

The daemon is suspended when it was asked to be (flag, endpoint, signal) or the file exists;
resuming clears the request, not the file. A suspended daemon still polls its source and plans in
``diff`` mode (reads only), so ``/status`` shows what a sync would change; it sends no write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class SuspendState:
    """Whether the daemon is suspended, by what, and since when (None when it is not)."""

    suspended: bool
    by: str | None = None
    since: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        since = self.since.isoformat().replace("+00:00", "Z") if self.since else None
        return {"suspended": self.suspended, "by": self.by, "since": since}


class Suspension:
    """The daemon's suspend switch; used from the event loop's thread only (signals, endpoints, ticks)."""

    def __init__(
        self,
        *,
        at_start: bool = False,
        file: Path | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self.file = file
        self._requested: SuspendState | None = None
        self._file_since: datetime | None = None
        if at_start:
            self.suspend("--suspend")

    def suspend(self, by: str) -> SuspendState:
        if self._requested is None:
            self._requested = SuspendState(True, by, self._clock())
        return self.state()

    def resume(self) -> SuspendState:
        self._requested = None
        return self.state()

    def state(self) -> SuspendState:
        if self._requested is not None:
            return self._requested
        if self.file is not None and self.file.exists():
            self._file_since = self._file_since or self._clock()
            return SuspendState(True, f"--suspend-file {self.file}", self._file_since)
        self._file_since = None
        return SuspendState(False)

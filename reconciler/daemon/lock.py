"""One daemon per cache directory: two would fetch into the same clones and fight over APIM.

An ``fcntl.flock`` on ``<cache-dir>/reconciler.lock`` is held for the life of the process. The
kernel drops it when the process dies, however it dies, so a crash never leaves a stale lock that a
human has to remove (unlike a pid file).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

LOCK_NAME = "reconciler.lock"


class AlreadyRunningError(Exception):
    """Another process holds the lock; the message says which file and, when known, which pid."""


class ProcessLock:
    """An exclusive, non-blocking lock file; a context manager."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise AlreadyRunningError(
                f"another apim-reconciler{who} is already running on the cache directory "
                f"{self.path.parent} (lock file {self.path}); stop it, or give this one another --cache-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock; the file stays (removing it would race)
            self._fd = None

    def __enter__(self) -> ProcessLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()

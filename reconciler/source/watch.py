"""Watching a folder for ``run --watch PATH``: one batch of changes per burst of saves.

An editor saving a file, or ``git checkout`` rewriting a hundred, produces a burst of file system
events; re-syncing per event would be wasteful and would sync half-written states. watchfiles
(inotify on Linux, a Rust core) groups the events of a burst and waits ``debounce_ms`` of quiet
before yielding them as one batch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

ChangeKind = Literal["added", "modified", "deleted"]  # the names of watchfiles.Change's members


@dataclass(frozen=True, slots=True, order=True)
class FileChange:
    """One file that was added, modified or deleted."""

    path: Path
    kind: ChangeKind


def watch(
    path: Path | str,
    stop_event: threading.Event,
    *,
    debounce_ms: int = 500,
    step_ms: int = 50,
    force_polling: bool | None = None,
) -> Iterator[frozenset[FileChange]]:
    """Yield one batch of changes per burst, until ``stop_event`` is set (checked every ``step_ms``).

    ``.git``, editor swap files and the like are ignored (watchfiles' default filter). Ctrl-C ends
    the iteration quietly rather than raising, so the caller's loop can just stop.
    """
    import watchfiles  # here: `reconciler.source` imports this module, and only `run --watch` watches

    for changes in watchfiles.watch(
        Path(path),
        stop_event=stop_event,
        debounce=debounce_ms,
        step=step_ms,
        force_polling=force_polling,
        raise_interrupt=False,
    ):
        yield frozenset(FileChange(Path(raw_path), cast(ChangeKind, kind.name)) for kind, raw_path in changes)

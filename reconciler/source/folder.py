"""A plain folder as a source: for a laptop, a CI job that already checked the repository out, tests.

A folder has no commit, so its snapshot's ``commit`` is a fingerprint of what is in it: a sha256 of
every file's relative path, size and modification time (``folder:<hex>``). Reading sizes and
mtimes is cheap even for thousands of files, and any save changes the fingerprint, which is all a
daemon needs to tell "nothing changed" from "sync again".
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog

from reconciler.source.errors import SourceError
from reconciler.source.snapshot import Snapshot

_log = structlog.get_logger(__name__)

#: Folders that never hold manifests and change on their own (a git checkout's own data).
IGNORED_FOLDERS = frozenset({".git", ".hg", ".svn"})


def folder_fingerprint(root: Path) -> str:
    """``folder:<sha256>`` of the paths, sizes and mtimes of every file under ``root`` (links not followed)."""
    entries: list[str] = []
    for folder, subfolders, files in os.walk(root, followlinks=False):
        subfolders[:] = [name for name in subfolders if name not in IGNORED_FOLDERS]
        for name in files + [d for d in subfolders if os.path.islink(os.path.join(folder, d))]:
            full = os.path.join(folder, name)
            try:
                info = os.lstat(full)
            except FileNotFoundError:
                continue  # removed while we walked: the next fingerprint will tell
            relative = os.path.relpath(full, root)
            entries.append(f"{relative}\0{info.st_size}\0{info.st_mtime_ns}")
    digest = hashlib.sha256()
    for entry in sorted(entries):
        digest.update(entry.encode("utf-8", "surrogateescape"))
        digest.update(b"\n")
    return f"folder:{digest.hexdigest()}"


class FolderSource:
    """The manifests of a local folder, read where they are (nothing is copied)."""

    def __init__(self, path: Path | str, *, clock: Callable[[], datetime] | None = None) -> None:
        self.root = Path(path).expanduser().resolve()
        self.source_url = str(self.root)
        self.ref: str | None = None
        self._clock = clock or (lambda: datetime.now(UTC))
        #: The last snapshot returned, as for `GitSource`.
        self.last_good: Snapshot | None = None

    def snapshot(self) -> Snapshot:
        """The folder as it is now; the previous snapshot object when its fingerprint is unchanged."""
        if not self.root.is_dir():
            raise SourceError(f"{self.source_url} is not a folder", source_url=self.source_url)
        commit = folder_fingerprint(self.root)
        if self.last_good is not None and self.last_good.commit == commit:
            return self.last_good
        snap = Snapshot(
            commit=commit, root=self.root, ref=None, source_url=self.source_url, fetched_at=self._clock()
        )
        _log.info("source.folder_changed", source=self.source_url, commit=commit)
        self.last_good = snap
        return snap

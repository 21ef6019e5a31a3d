"""A plain folder as a source: for a laptop, a CI job that already checked the repository out, tests.

A folder has no commit, so its snapshot's ``commit`` is a fingerprint of what is in it: a sha256 of
every file's relative path, size and modification time (``folder:<hex>``). Reading sizes and
mtimes is cheap even for thousands of files, and any save changes the fingerprint, which is all a
daemon needs to tell "nothing changed" from "sync again".
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog

from reconciler.source.errors import SourceError
from reconciler.source.snapshot import Snapshot
from reconciler.source.subpath import VCS_FOLDERS, check_sub_path, sub_folder

_log = structlog.get_logger(__name__)


def folder_fingerprint(root: Path) -> str:
    """``folder:<sha256>`` of the paths, sizes and mtimes of every file under ``root`` (links not followed).

    The walk keeps its own stack, not the call stack: a tree thousands of folders deep (which the
    loader reports) must not end the daemon with a RecursionError.
    """
    entries: list[str] = []
    pending = [str(root)]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                found = list(listing)
        except OSError:
            continue  # unreadable or removed while we walked: the loader reports the first
        for entry in found:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # removed while we walked: the next fingerprint will tell
            if stat.S_ISDIR(info.st_mode):
                if entry.name not in VCS_FOLDERS:  # change on their own, never hold manifests
                    pending.append(entry.path)
                continue
            relative = os.path.relpath(entry.path, root)
            entries.append(f"{relative}\0{info.st_size}\0{info.st_mtime_ns}")
    digest = hashlib.sha256()
    for entry_text in sorted(entries):
        digest.update(entry_text.encode("utf-8", "surrogateescape"))
        digest.update(b"\n")
    return f"folder:{digest.hexdigest()}"


class FolderSource:
    """The manifests of a local folder, read where they are (nothing is copied).

    With ``sub_path`` (``--path``), the manifests are in that sub-folder, checked at every snapshot
    as for a git checkout (`reconciler.source.subpath`): the folder's content may change.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        sub_path: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.base = Path(path).expanduser().resolve()
        self.sub_path = check_sub_path(sub_path)
        self.root = self.base / self.sub_path if self.sub_path else self.base
        self.source_url = str(self.root)
        self.ref: str | None = None
        self._clock = clock or (lambda: datetime.now(UTC))
        #: The last snapshot returned, as for `GitSource`.
        self.last_good: Snapshot | None = None

    def snapshot(self) -> Snapshot:
        """The folder as it is now; the previous snapshot object when its fingerprint is unchanged."""
        if self.sub_path is not None and self.base.is_dir():
            sub_folder(self.base, self.sub_path, where="the folder", source_url=str(self.base))
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

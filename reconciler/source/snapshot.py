"""The value every sync starts from: one commit, one folder of manifests.

A sync is tied to exactly one `Snapshot`, so a report can say which commit it applied and a daemon
can tell "nothing changed" by comparing `commit` with the previous snapshot's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One readable state of the manifests.

    ``commit`` is the full 40-hex commit sha for a git source, and ``folder:<sha256>`` (a hash of
    the paths, sizes and mtimes) for a plain folder. ``root`` is the folder that holds the manifests
    (checkout plus ``--path``); for a git source it stays valid until the next snapshot that moves
    to another commit, since the checkout is updated in place. ``ref`` is what was asked (None: the
    remote's default branch, or a folder). ``source_url`` never contains credentials.
    """

    commit: str
    root: Path
    ref: str | None
    source_url: str
    fetched_at: datetime
    committed_at: datetime | None = None
    """When the commit was committed (its committer date), for a git source: what tells a sync of
    an older commit (a rollback) from one of a newer."""

    @property
    def short_commit(self) -> str:
        """The first 12 characters of the sha (or of the folder hash), for humans."""
        if self.commit.startswith("folder:"):
            return self.commit[: len("folder:") + 12]
        return self.commit[:12]

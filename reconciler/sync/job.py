"""What one sync needs besides its timing: where the manifests come from, and how to plan them."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.manifests import LoadOptions
from reconciler.manifests.loader import LoadCache
from reconciler.source import FolderSource, GitSource
from reconciler.sync.settings import SyncSettings


@dataclass(frozen=True)
class SyncJob:
    """The source (stateful: it remembers its last good snapshot), plan settings and load options.

    ``folder_display`` is the folder as the user typed it, for a folder source (messages show the
    user's paths); None for git, whose file names are shown relative to the checkout, prefixed
    with ``sub_path`` (the ``--path`` sub-folder) so that they read like paths in the repository.
    ``load_cache`` (the daemon's) keeps each file's parse between syncs: only changed files are read anew.
    """

    source: GitSource | FolderSource
    settings: SyncSettings
    load_options: LoadOptions
    folder_display: str | None = None
    sub_path: str | None = None
    load_cache: LoadCache | None = None

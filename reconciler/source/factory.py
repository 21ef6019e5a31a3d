"""One entry point for the CLI and the daemon: a URL becomes a `GitSource`, a folder a `FolderSource`."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from reconciler.source.backoff import Backoff
from reconciler.source.errors import SourceError
from reconciler.source.folder import FolderSource
from reconciler.source.git import GitSource, looks_like_git_url
from reconciler.source.gitauth import GitAuth
from reconciler.source.snapshot import Snapshot
from reconciler.source.verify import CommitVerifier


class Source(Protocol):
    """What `diff`, `sync` and the daemon need from a source."""

    source_url: str
    last_good: Snapshot | None

    def snapshot(self) -> Snapshot: ...


def open_source(
    spec: str,
    *,
    ref: str | None = None,
    path: str | None = None,
    cache_dir: Path | None = None,
    auth: GitAuth | None = None,
    timeout: float = 120.0,
    backoff: Backoff | None = None,
    verifier: CommitVerifier | None = None,
) -> GitSource | FolderSource:
    """A source for ``spec``: a git URL (https, http, ssh, scp-like, git, file), or an existing folder.

    A folder with ``ref`` given is read as a git repository at that ref (through the cache, so the
    folder itself is never touched). With ``verifier``, a plain folder (no commit to verify) raises
    `ValueError`. Anything else raises `SourceError`.
    """

    def git_source(url: str) -> GitSource:
        return GitSource(
            url,
            ref,
            path,
            cache_dir=cache_dir,
            auth=auth,
            timeout=timeout,
            backoff=backoff,
            verifier=verifier,
        )

    if looks_like_git_url(spec):
        return git_source(spec)
    folder = Path(spec).expanduser()
    if folder.is_dir():
        if ref is not None:
            return git_source(str(folder))
        if verifier is not None:
            raise ValueError(
                f"--verify-commits needs a git source: {spec!r} is a plain folder, with no commit to "
                "verify (give a git URL, or the folder with --ref to read it as a repository)"
            )
        return FolderSource(folder, sub_path=path)
    raise SourceError(f"{spec!r} is neither a git URL nor an existing folder", source_url=spec)

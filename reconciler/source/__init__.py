"""The source stage: where the manifests of one sync come from, tied to one commit.

`open_source(spec)` gives a `GitSource` for a git URL and a `FolderSource` for a folder; both have
``snapshot() -> Snapshot`` and ``last_good``. `verify` refuses a commit not signed by an allowed key (``--verify-commits``). `watch` turns a folder's edits into change batches for
``run --watch``. Failures are `SourceError` subclasses whose messages never contain a credential.
"""

from typing import TYPE_CHECKING

from reconciler.lazy import lazy_exports

if TYPE_CHECKING:  # imported on first use (reconciler/lazy.py)
    from reconciler.defaults import default_cache_dir
    from reconciler.source.backoff import Backoff, retry
    from reconciler.source.errors import (
        HostKeyVerificationError,
        RefNotFoundError,
        RepositoryNotFoundError,
        SourceAuthError,
        SourceError,
        SourceTimeoutError,
        SourceUnreachableError,
        SubPathError,
    )
    from reconciler.source.factory import open_source
    from reconciler.source.folder import FolderSource, folder_fingerprint
    from reconciler.source.git import GitSource
    from reconciler.source.gitauth import GitAuth
    from reconciler.source.redact import redact_url
    from reconciler.source.snapshot import Snapshot
    from reconciler.source.verify import CommitVerifier, TrustedKeys, UnverifiedCommitError
else:
    __getattr__ = lazy_exports(__name__, __file__)

# Not lazy: `watch` is also a submodule's name, and importing the submodule sets the package's
# attribute to the module; importing it here, after the submodule, keeps the function (watch.py
# imports watchfiles only when it watches).
from reconciler.source.watch import FileChange, watch

__all__ = [
    "Backoff",
    "CommitVerifier",
    "FileChange",
    "FolderSource",
    "GitAuth",
    "GitSource",
    "HostKeyVerificationError",
    "RefNotFoundError",
    "RepositoryNotFoundError",
    "Snapshot",
    "SourceAuthError",
    "SourceError",
    "SourceTimeoutError",
    "SourceUnreachableError",
    "SubPathError",
    "TrustedKeys",
    "UnverifiedCommitError",
    "default_cache_dir",
    "folder_fingerprint",
    "open_source",
    "redact_url",
    "retry",
    "watch",
]

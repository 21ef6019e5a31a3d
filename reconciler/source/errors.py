"""Typed failures of the source stage.

The daemon decides what to do from the type alone: keep the last good snapshot and retry later
(`SourceUnreachableError`), or stop and tell a human (`SourceAuthError`, `HostKeyVerificationError`,
`RefNotFoundError`). Every message is built from redacted text only: the URL without its userinfo
and git's stderr with every credential value of the operation scrubbed out, so an error can be
logged, printed or put in a report as it is.
"""

from __future__ import annotations


class SourceError(Exception):
    """Anything that prevented a snapshot; the message is safe to show (no credential in it)."""

    #: Whether trying the same operation again later may succeed without a human changing anything.
    retryable: bool = False
    #: The daemon's condition reason for this failure (``/status``, ``/readyz``).
    reason: str = "SourceFailed"

    def __init__(self, message: str, *, source_url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source_url = source_url


class SourceAuthError(SourceError):
    """The server refused the credentials (or asked for some and none were configured)."""


class HostKeyVerificationError(SourceError):
    """The ssh host key is unknown or differs from the one in known_hosts: possibly an attack."""


class RefNotFoundError(SourceError):
    """The branch, tag or commit asked for does not exist on the remote."""


class RepositoryNotFoundError(SourceError):
    """The URL answers but names no repository (or one the credentials may not see)."""


class SourceUnreachableError(SourceError):
    """The server could not be reached or broke the connection: worth retrying later."""

    retryable = True


class SourceTimeoutError(SourceUnreachableError):
    """A git command took longer than its time limit and was killed (with its children)."""


class CorruptCacheError(SourceError):
    """The local clone is damaged (garbage HEAD, missing objects); it is removed and cloned again."""


class SubPathError(SourceError):
    """The sub-folder given with ``--path`` is missing from the commit or escapes the checkout."""

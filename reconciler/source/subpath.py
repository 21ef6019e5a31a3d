"""`--path`: the sub-folder of a repository (a checkout or a folder) that holds the manifests.

The operator types the sub-path; the repository decides what its components are. A component may be
a symlink committed to the repository, so the folder it finally names is checked: it must be inside
the repository, and must not be (or be inside) a hidden folder that the operator did not name, the
checkout's own `.git` above all: a link `apis -> .git` must not turn git's files into manifests.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from reconciler.source.errors import SubPathError

#: Folders that never hold manifests: a version control system's own data.
VCS_FOLDERS = frozenset({".git", ".hg", ".svn"})


def check_sub_path(path: str | None) -> str | None:
    """The sub-path as given, normalised; None for the repository itself. Raises ValueError when it
    is absolute, climbs out with `..`, or names a version control folder."""
    if path is None or path in ("", "."):
        return None
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        raise ValueError(f"the sub-folder must be relative and stay inside the repository: {path!r}")
    if any(part in VCS_FOLDERS for part in pure.parts):
        raise ValueError(f"the sub-folder cannot be inside {', '.join(sorted(VCS_FOLDERS))}: {path!r}")
    return str(pure)


def sub_folder(repository: Path, sub_path: str, *, where: str, source_url: str) -> Path:
    """`repository/sub_path` once it is known to be a folder that may be read; else SubPathError.

    `where` says which state of the repository was looked at (a commit, "the folder")."""
    root = repository / sub_path

    def refuse(reason: str) -> SubPathError:
        return SubPathError(f"path {sub_path!r} {reason} in {where} of {source_url}", source_url=source_url)

    try:
        real = Path(os.path.realpath(root, strict=True))
    except OSError:
        raise refuse("is not a folder") from None
    base = Path(os.path.realpath(repository))
    if not real.is_relative_to(base):
        raise refuse("leads outside the repository (through a symlink)")
    typed = PurePosixPath(sub_path).parts
    for index, part in enumerate(real.relative_to(base).parts):
        named = index < len(typed) and typed[index] == part
        if part in VCS_FOLDERS or (part.startswith(".") and not named):
            raise refuse(f"leads into the hidden folder {part!r} (through a symlink)")
    if not real.is_dir():
        raise refuse("is not a folder")
    return root

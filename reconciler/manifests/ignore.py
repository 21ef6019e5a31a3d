"""`.sourceignore`: paths of a repository that are not manifests, as Flux's source-controller reads them.

Flux excludes paths from a GitRepository's artifact by its default exclusion rules and by
`.sourceignore` files in gitignore syntax, in the repository root or in any folder (a file's
patterns are relative to its folder, a deeper file's patterns win, `!pattern` re-includes). A
repository that Flux deploys to a cluster (Helm values, a `Chart.yaml` beside GKO manifests) is read
here the same way, so that one `.sourceignore` serves both.

The defaults are Flux's documented list (docs/spec/v1/gitrepositories.md, "Default exclusions"),
of which only YAML names matter here: the walk reads nothing but `*.yaml`/`*.yml`, and never a
hidden file or folder, whatever a pattern says.

Matching is pathspec's `GitIgnoreSpec` (git's own rules, including its quirks).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pathspec import GitIgnoreSpec

IGNORE_FILE = ".sourceignore"
MAX_IGNORE_FILE_SIZE = 64 * 1024
"""Largest `.sourceignore` read; a longer one is an error of that file (so nothing it meant to keep
out is loaded instead)."""

FLUX_DEFAULT_EXCLUSIONS = (
    # Git files
    ".git/",
    ".gitignore",
    ".gitmodules",
    ".gitattributes",
    # File extensions
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.png",
    "*.wmv",
    "*.flv",
    "*.tar.gz",
    "*.zip",
    # CI configs
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
    # CLI configs
    "**/.goreleaser.yml",
    "**/.sops.yaml",
    # Flux v1 config
    "**/.flux.yaml",
)


class IgnoreFileError(ValueError):
    """A `.sourceignore` that cannot be read: loading goes on without it only as an error."""


@dataclass
class IgnoreRules:
    """The patterns in force under one root: Flux's defaults, then each `.sourceignore` from the top.

    Paths are given relative to the folder loaded, with `/` separators; `prefix` is where that
    folder sits in the repository whose patterns apply (a checkout read under `--path`).
    """

    specs: list[tuple[str, GitIgnoreSpec]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    """The `.sourceignore` files read, as shown to the user."""
    prefix: str = ""

    @classmethod
    def defaults(cls) -> IgnoreRules:
        return cls([("", GitIgnoreSpec.from_lines(FLUX_DEFAULT_EXCLUSIONS))])

    def read(self, folder: Path, relative: str, display: str) -> None:
        """Add the `.sourceignore` of `folder` (at `relative` below the top), if it has one.

        Raises IgnoreFileError for one that exists but cannot be used."""
        path = folder / IGNORE_FILE
        try:
            if not path.exists() and not path.is_symlink():
                return
            if path.is_symlink() or not path.is_file():
                raise IgnoreFileError(f"{IGNORE_FILE} is not a regular file; refused")
            if path.stat().st_size > MAX_IGNORE_FILE_SIZE:
                raise IgnoreFileError(f"{IGNORE_FILE} is over {MAX_IGNORE_FILE_SIZE:,} bytes; refused")
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise IgnoreFileError(f"{IGNORE_FILE} is not valid UTF-8") from None
        except OSError as exc:
            raise IgnoreFileError(f"cannot read {IGNORE_FILE}: {exc.strerror}") from None
        try:
            spec = GitIgnoreSpec.from_lines(text.splitlines())
        except ValueError as exc:  # pathspec refuses a few malformed patterns
            raise IgnoreFileError(f"{IGNORE_FILE}: {exc}") from None
        self.specs.append((_join(self.prefix, relative), spec))
        self.files.append(display)

    def ignored(self, relative: str, is_folder: bool) -> bool:
        """Whether the path (relative to the top) is excluded: the last pattern that matches decides,
        the deepest `.sourceignore` last."""
        relative = _join(self.prefix, relative)
        verdict = False
        for base, spec in self.specs:
            if base:
                if not relative.startswith(base + "/"):
                    continue
                inner = relative[len(base) + 1 :]
            else:
                inner = relative
            result = spec.check_file(inner + "/" if is_folder else inner)
            if result.include is not None:
                verdict = result.include
        return verdict


def relative_to(path: str, top: str) -> str:
    """`path` below `top`, with `/` separators (what gitignore patterns are written against)."""
    return os.path.relpath(path, top).replace(os.sep, "/")


def _join(prefix: str, relative: str) -> str:
    return f"{prefix}/{relative}".strip("/")

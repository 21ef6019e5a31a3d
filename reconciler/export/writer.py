"""Writing exported manifests: one file per resource, laid out and formatted to read well in git.

Layout: ``apis/<name>.yaml`` (v4 and v2 APIs), ``applications/<name>.yaml``, ``contexts/<name>.yaml``.
Format: block style, keys in the order the mapping built them (stable between runs, so a second
export of an unchanged environment is a no-op diff), two-space indentation with list dashes indented
like GKO's examples, multi-line strings as literal blocks, no line folding.

Existing files are never overwritten unless forced, and the check covers *every* file before the
first is written: a refused export leaves the folder exactly as it was. Nothing is ever written
through a symlink under the output folder (see `write_files`).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import secrets
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString, SingleQuotedScalarString

from reconciler import kinds
from reconciler.manifests.model import MANAGEMENT_CONTEXT

JSON = Any

FOLDERS = {**{k.name: k.folder for k in kinds.KINDS}, MANAGEMENT_CONTEXT: "contexts"}


# Plain scalars that YAML 1.1 readers (kubectl, GKO) would not read as strings, though YAML 1.2
# (ruamel, our loader) does: booleans such as `yes`/`on`/`y`, and base-60 numbers such as `1:20`.
_YAML11_NOT_STRING = re.compile(
    r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?)$"
)


class OverwriteRefused(Exception):
    """Some target files exist and overwriting was not asked for; nothing was written."""

    def __init__(self, existing: Sequence[Path]) -> None:
        self.existing = tuple(existing)
        shown = ", ".join(str(p) for p in self.existing[:5])
        more = f" and {len(self.existing) - 5} more" if len(self.existing) > 5 else ""
        super().__init__(f"refusing to overwrite {shown}{more} (use --force)")


@dataclass(frozen=True)
class OutputFile:
    relative: Path
    text: str


def relative_path(kind: str, name: str) -> Path:
    return Path(FOLDERS[kind]) / f"{name}.yaml"


def render_yaml(document: Mapping[str, JSON]) -> str:
    yaml = YAML(typ="rt", pure=True)
    yaml.default_flow_style = False
    yaml.width = 1 << 16  # never fold long strings: a folded line is a spurious diff
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(_for_yaml(document), out)
    return out.getvalue()


def _for_yaml(value: JSON) -> JSON:
    if isinstance(value, Mapping):
        return {str(k): _for_yaml(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_for_yaml(v) for v in value]
    if isinstance(value, str) and "\n" in value.rstrip("\n") and _literal_safe(value):
        return LiteralScalarString(value)
    if isinstance(value, str) and _YAML11_NOT_STRING.match(value):
        return SingleQuotedScalarString(value)
    return value


def _literal_safe(text: str) -> bool:
    """A literal block keeps a string exactly unless it has trailing spaces, tabs or CRs."""
    return (
        "\r" not in text and "\t" not in text and all(line == line.rstrip(" ") for line in text.split("\n"))
    )


def write_files(out_dir: Path, files: Sequence[OutputFile], *, force: bool) -> list[Path]:
    """Write every file under `out_dir` (atomically each); refuse before writing if any exists.

    `out_dir` may be (or lie inside) a folder that a repository brought, so no symlink below it is
    ever followed: every folder on the way is opened relative to its parent with O_NOFOLLOW, and a
    file is put in place by a rename, which replaces a link instead of writing through it. `out_dir`
    itself must not be a symlink either (see `UnsafeOutput`); the folders above it are the user's.
    """
    unsafe = [*_unsafe_out_dir(out_dir), *(p for f in files for p in _unsafe_target(out_dir, f.relative))]
    if unsafe:
        raise UnsafeOutput(unsafe)
    targets = [out_dir / f.relative for f in files]
    if not force:
        existing = [t for t in targets if t.exists() or t.is_symlink()]
        if existing:
            raise OverwriteRefused(existing)
    out_dir.mkdir(parents=True, exist_ok=True)
    top = _open_folder(str(out_dir))
    try:
        for file in files:
            _write_below(top, file)
    finally:
        os.close(top)
    return targets


class UnsafeOutput(Exception):
    """Writing would follow a symlink (or replace something that is not a file) under --out."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        shown = "; ".join(self.problems[:5])
        more = f" and {len(self.problems) - 5} more" if len(self.problems) > 5 else ""
        super().__init__(f"refusing to write: {shown}{more}; nothing was written")


_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def _unsafe_out_dir(out_dir: Path) -> list[str]:
    if out_dir.is_symlink():
        return [
            f"--out {out_dir} is a symlink (to {os.readlink(out_dir)}); give the folder itself "
            f"(--out {os.path.realpath(out_dir)})"
        ]
    if out_dir.exists() and not out_dir.is_dir():
        return [f"--out {out_dir} is not a folder"]
    return []


def _unsafe_target(out_dir: Path, relative: Path) -> list[str]:
    """Why writing `out_dir/relative` would leave `out_dir` or clobber a non-file; [] when it would not."""
    path = out_dir
    for index, part in enumerate(relative.parts):
        path = path / part
        last = index == len(relative.parts) - 1
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return []
        if stat.S_ISLNK(info.st_mode):
            return [f"{path} is a symlink (to {os.readlink(path)}), which would be written through"]
        if not last and not stat.S_ISDIR(info.st_mode):
            return [f"{path} is not a folder"]
        if last and not stat.S_ISREG(info.st_mode):
            return [f"{path} exists and is not a regular file"]
    return []


def _open_folder(name: str, parent: int | None = None) -> int:
    """A folder's descriptor, never through a symlink (ELOOP or ENOTDIR if it became one)."""
    try:
        return os.open(name, _FOLDER_FLAGS, dir_fd=parent)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeOutput([f"{name} was replaced by a symlink or a file while writing"]) from None
        raise


def _write_below(top: int, file: OutputFile) -> None:
    """`file` written under the folder `top`, each folder opened relative to the one before."""
    *folders, name = file.relative.parts
    fd = os.dup(top)
    try:
        for folder in folders:
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder, 0o777, dir_fd=fd)
            child = _open_folder(folder, fd)
            os.close(fd)
            fd = child
        temporary = f".{name}.{secrets.token_hex(6)}.tmp"
        out = os.open(temporary, _NEW_FILE_FLAGS, 0o666, dir_fd=fd)
        try:
            with os.fdopen(out, "w", encoding="utf-8") as handle:
                handle.write(file.text)
            os.replace(temporary, name, src_dir_fd=fd, dst_dir_fd=fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=fd)
            raise
    finally:
        os.close(fd)

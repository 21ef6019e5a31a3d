"""Finding and reading manifest files, refusing what could hurt us.

A repository is untrusted input: a symlink may point at /etc/passwd, a "file" may be a FIFO that
blocks a reader forever, a file may be huge. Each is reported as a problem of that file, never
raised, so that one bad file does not hide the others.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from reconciler.manifests.model import Position, Problem, Severity

YAML_SUFFIXES = (".yaml", ".yml")
DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class SourceFile:
    """A manifest file found under one of the given roots; `display` is how messages name it."""

    path: Path
    root: Path
    display: str


@dataclass(frozen=True)
class FileText:
    text: str
    data: bytes


def discover(paths: Iterable[str | Path]) -> tuple[list[SourceFile], list[Problem]]:
    """Every YAML file under the given paths, sorted, skipping hidden folders such as `.git`."""
    found: list[SourceFile] = []
    problems: list[Problem] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            problems.append(Problem(Severity.ERROR, f"{path}: no such file or directory"))
        elif path.is_dir():
            found.extend(_walk(path, problems))
        else:
            found.append(SourceFile(path, path.parent, str(path)))
    unique = {f.path.resolve(strict=False): f for f in found}
    return sorted(unique.values(), key=lambda f: f.display), problems


def _walk(root: Path, problems: list[Problem]) -> Iterator[SourceFile]:
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or not name.endswith(YAML_SUFFIXES):
                continue
            path = Path(folder, name)
            yield SourceFile(path, root, str(path))
        for name in dirs:
            if Path(folder, name).is_symlink():
                problems.append(
                    Problem(
                        Severity.WARNING,
                        "symlinked folder not followed: link the files themselves, inside the repository",
                        Position(str(Path(folder, name)), 1),
                    )
                )


def read_text(source: SourceFile, max_size: int = DEFAULT_MAX_FILE_SIZE) -> FileText | Problem:
    """The file's text, or the problem that stops us from reading it."""

    def refuse(message: str, line: int = 1, column: int = 1) -> Problem:
        return Problem(Severity.ERROR, message, Position(source.display, line, column))

    path = source.path
    if path.is_symlink():
        target = path.resolve(strict=False)
        if not target.is_relative_to(source.root.resolve()):
            return refuse(f"symlink points outside the repository (to {target}); refused")
    try:
        info = path.stat()
    except OSError as exc:
        return refuse(f"cannot read: {exc.strerror}")
    if not stat.S_ISREG(info.st_mode):
        return refuse("not a regular file (a FIFO, socket or device?); refused")
    if info.st_size > max_size:
        return refuse(f"file is {info.st_size:,} bytes, over the {max_size:,}-byte limit (--max-file-size)")
    try:
        with path.open("rb") as handle:
            data = handle.read(max_size + 1)
    except OSError as exc:
        return refuse(f"cannot read: {exc.strerror}")
    if len(data) > max_size:
        return refuse(f"file is over the {max_size:,}-byte limit (--max-file-size)")
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return refuse("file is UTF-16: save it as UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return refuse(f"not valid UTF-8 (byte 0x{data[exc.start]:02x}): save the file as UTF-8", line, column)
    return FileText(text, data)

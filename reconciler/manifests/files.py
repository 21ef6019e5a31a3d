"""Finding and reading manifest files, refusing what could hurt us.

A repository is untrusted input: a symlink may point at /etc/passwd or into the checkout's own
`.git/`, a "file" may be a FIFO that blocks a reader forever or a device, a file may be huge, a
tree may be thousands of folders deep or hold millions of files, a file name may carry terminal
escapes. Each is reported as a problem of that file (or folder), never raised, so that one bad file
does not hide the others; and since a problem is an error, nothing is applied.

Symlinks: a link to a file is followed only when its target is a regular file inside the root
being loaded and outside every hidden folder (those the walk skips, `.git` first of all), so that
a link can only show a file that the loader could read anyway. Links to folders are not followed,
and are an error: the manifests someone meant to be there must not count as deleted.
"""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.defaults import DEFAULT_MAX_FILE_SIZE
from reconciler.manifests.ignore import IGNORE_FILE, IgnoreFileError, IgnoreRules, relative_to
from reconciler.manifests.model import Position, Problem, Severity

YAML_SUFFIXES = (".yaml", ".yml")
MAX_MANIFEST_FILES = 100_000
"""Most manifest files one load reads; a repository of 10,000 APIs has about 10,000."""
MAX_FOLDER_ENTRIES = 1_000_000
"""Most folder entries (of any kind) one load looks at, so that a tree of junk cannot stall us."""
MAX_FOLDER_DEPTH = 64
"""Deepest folder below a root that is read; GKO repositories need three or four levels."""
_UTF8_BOM = b"\xef\xbb\xbf"
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Control and format characters (newlines, terminal escapes, bidi overrides), line separators and
the surrogates that stand for bytes that are not UTF-8: none belongs in a file name we print."""
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


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


@dataclass(frozen=True)
class _Refusal:
    """Why a file is not read."""

    message: str


def shown(text: str) -> str:
    """`text` with every character that could forge output (control, format, non-UTF-8) escaped."""
    if not any(unicodedata.category(c) in _UNSAFE_CATEGORIES for c in text):
        return text
    out = []
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as os.fsdecode keeps it
            out.append(f"\\x{code - 0xDC00:02x}")
        elif unicodedata.category(char) in _UNSAFE_CATEGORIES:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def _name_problem(name: str) -> str | None:
    for char in name:
        if 0xDC80 <= ord(char) <= 0xDCFF:
            return "is not valid UTF-8"
        if unicodedata.category(char) in _UNSAFE_CATEGORIES:
            return f"contains the control character U+{ord(char):04X}"
    return None


@dataclass
class _Budget:
    """What one load may still look at, across all of its roots."""

    entries: int
    files: int
    exhausted: bool = False
    found: list[SourceFile] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def discover(
    paths: Iterable[str | Path], *, repository: Path | None = None, ignored: list[str] | None = None
) -> tuple[list[SourceFile], list[Problem]]:
    """Every YAML file under the given paths, sorted, skipping hidden folders such as `.git` and
    what `.sourceignore` files exclude (appended to `ignored`, as shown, a folder with a `/`).

    `repository`: the top of the repository that a folder given is part of (a git checkout read
    under `--path`), whose `.sourceignore` files on the way down apply too, as Flux reads them."""
    budget = _Budget(entries=MAX_FOLDER_ENTRIES, files=MAX_MANIFEST_FILES)
    problems: list[Problem] = []
    for given in paths:
        path = Path(given)
        try:
            info = path.stat()  # the user named this path: a symlink here is theirs, and followed
        except FileNotFoundError:
            problems.append(Problem(Severity.ERROR, f"{shown(str(path))}: no such file or directory"))
            continue
        except OSError as exc:
            problems.append(_error(str(path), f"cannot read: {exc.strerror}"))
            continue
        if stat.S_ISDIR(info.st_mode):
            _walk(path, _rules_above(path, repository, problems), budget, problems)
        else:
            budget.found.append(SourceFile(path, path.parent, str(path)))
        if budget.exhausted:
            break
    if ignored is not None:
        ignored.extend(budget.ignored)
    unique = {os.path.realpath(f.path): f for f in budget.found}
    return sorted(unique.values(), key=lambda f: f.display), problems


def _error(display: str, message: str) -> Problem:
    return Problem(Severity.ERROR, message, Position(shown(display), 1))


@dataclass
class _Rules:
    """The ignore rules of one walk, and the top their paths are relative to."""

    rules: IgnoreRules
    top: str


def _rules_above(root: Path, repository: Path | None, problems: list[Problem]) -> _Rules:
    """Flux's defaults, plus the `.sourceignore` files from `repository` down to (not into) `root`."""
    rules = IgnoreRules.defaults()
    if repository is None:
        return _Rules(rules, str(root))
    top, here = os.path.realpath(repository), os.path.realpath(root)
    inner = relative_to(here, top)
    if inner == "." or inner.startswith("../"):
        return _Rules(rules, str(root))
    parts = inner.split("/")
    for depth in range(len(parts)):  # the top, and each folder above `root`
        relative = "/".join(parts[:depth])
        display = f"{relative}/{IGNORE_FILE}" if relative else IGNORE_FILE
        _read_ignore(rules, Path(top, *parts[:depth]), relative, display, problems)
    rules.prefix = inner  # paths below `root` are matched relative to the repository
    return _Rules(rules, str(root))


def _read_ignore(
    rules: IgnoreRules, folder: Path, relative: str, display: str, problems: list[Problem]
) -> None:
    try:
        rules.read(folder, relative, display)
    except IgnoreFileError as exc:
        # An error: the files it meant to keep out would be loaded, or those it kept would be missed.
        problems.append(_error(display, str(exc)))


def _walk(root: Path, rules: _Rules, budget: _Budget, problems: list[Problem]) -> None:
    """Breadth of the tree under `root`, without recursion (a deep tree must not exhaust the stack)."""
    pending: list[tuple[str, int]] = [(str(root), 0)]
    while pending:
        folder, depth = pending.pop()
        relative = relative_to(folder, rules.top)
        relative = "" if relative == "." else relative
        _read_ignore(rules.rules, Path(folder), relative, os.path.join(folder, IGNORE_FILE), problems)
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            problems.append(_error(folder, f"cannot read folder: {exc.strerror}; its manifests are missing"))
            continue
        for entry in entries:
            budget.entries -= 1
            if budget.entries < 0:
                problems.append(
                    _error(
                        str(root),
                        f"more than {MAX_FOLDER_ENTRIES:,} folder entries under this path: refused "
                        "(point at the folder of the manifests, e.g. with --path)",
                    )
                )
                budget.exhausted = True
                return
            _visit(entry, root, rules, depth, budget, pending, problems)
            if budget.exhausted:
                return


def _visit(
    entry: os.DirEntry[str],
    root: Path,
    rules: _Rules,
    depth: int,
    budget: _Budget,
    pending: list[tuple[str, int]],
    problems: list[Problem],
) -> None:
    name = entry.name
    if name.startswith("."):
        return
    path = str(Path(entry.path))  # "./a.yaml" is shown "a.yaml", as the user would write it
    try:
        is_link = entry.is_symlink()
        is_folder = not is_link and entry.is_dir(follow_symlinks=False)
    except OSError as exc:
        problems.append(_error(path, f"cannot read: {exc.strerror}"))
        return
    links_to_folder = is_link and os.path.isdir(path)
    is_manifest = not links_to_folder and name.endswith(YAML_SUFFIXES)
    if not (is_folder or is_manifest or links_to_folder):
        return
    if rules.rules.ignored(relative_to(path, rules.top), is_folder or links_to_folder):
        budget.ignored.append(shown(path) + ("/" if is_folder or links_to_folder else ""))
        return
    bad_name = _name_problem(name)
    if bad_name is not None:
        what = "file" if is_manifest else "folder"
        problems.append(_error(path, f"{what} name {bad_name}: not read; rename it"))
        return
    if links_to_folder:
        # An error, not a warning: the manifests the user meant to be there would count as deleted.
        problems.append(
            _error(path, "symlinked folder: not followed; link the files themselves, inside the repository")
        )
    elif is_folder:
        if depth + 1 > MAX_FOLDER_DEPTH:
            problems.append(_error(path, f"folders nested deeper than {MAX_FOLDER_DEPTH} levels: not read"))
        else:
            pending.append((path, depth + 1))
    elif is_manifest:
        budget.files -= 1
        if budget.files < 0:
            problems.append(
                _error(
                    str(root),
                    f"more than {MAX_MANIFEST_FILES:,} manifest files under this path: refused "
                    "(split the repository, or point at part of it with --path)",
                )
            )
            budget.exhausted = True
            return
        budget.found.append(SourceFile(Path(path), root, path))


def read_text(source: SourceFile, max_size: int = DEFAULT_MAX_FILE_SIZE) -> FileText | Problem:
    """The file's text, or the problem that stops us from reading it."""

    def refuse(message: str, line: int = 1, column: int = 1) -> Problem:
        return Problem(Severity.ERROR, message, Position(shown(source.display), line, column))

    target = _link_target(source)
    if isinstance(target, _Refusal):
        return refuse(target.message)
    data = _read_regular(target, max_size)
    if isinstance(data, _Refusal):
        return refuse(data.message)
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


def _link_target(source: SourceFile) -> str | _Refusal:
    """The path to open: the file itself, or the final target of a symlink that may be followed."""
    path = str(source.path)
    if not os.path.islink(path):
        return path
    try:
        target = os.path.realpath(path, strict=True)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _Refusal("symlink loop (the link leads back to itself); refused")
        if exc.errno == errno.ENOENT:
            return _Refusal(f"symlink points to nothing ({shown(_readlink(path))} does not exist); refused")
        return _Refusal(f"cannot follow the symlink: {exc.strerror}")
    root = os.path.realpath(source.root)
    relative = os.path.relpath(target, root)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep) or os.path.isabs(relative):
        # The link as written in the repository, not where it lands: that may be a cache folder.
        return _Refusal(f"symlink points outside the repository (to {shown(_readlink(path))}); refused")
    parts = Path(relative).parts
    hidden = next((i for i, part in enumerate(parts) if part.startswith(".")), None)
    if hidden is not None:
        where = shown(os.path.join(*parts[: hidden + 1]))
        what = "file" if hidden == len(parts) - 1 else "folder"
        return _Refusal(
            f"symlink points into {where}, a hidden {what} that is never read as manifests; refused"
        )
    return target


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "its target"


def _read_regular(path: str, max_size: int) -> bytes | _Refusal:
    """Up to `max_size` bytes of a regular file, or why not. Nothing but a regular file is ever
    opened (a device could act on open), and a file swapped for a link meanwhile is refused."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            return _Refusal("not a regular file (a FIFO, socket or device?); refused")
        if info.st_size > max_size:
            return _Refusal(
                f"file is {info.st_size:,} bytes, over the {max_size:,}-byte limit (--max-file-size)"
            )
        fd = os.open(path, _READ_FLAGS)
        with os.fdopen(fd, "rb") as handle:
            opened = os.fstat(fd)
            if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino) or not stat.S_ISREG(
                opened.st_mode
            ):
                return _Refusal("file was replaced while it was being read; refused")
            data = handle.read(max_size + 1)
    except FileNotFoundError:
        return _Refusal("file disappeared while it was being read")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _Refusal("file was replaced by a symlink while it was being read; refused")
        return _Refusal(f"cannot read: {exc.strerror}")
    if len(data) > max_size:
        return _Refusal(f"file is over the {max_size:,}-byte limit (--max-file-size)")
    return data

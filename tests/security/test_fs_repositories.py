"""Hostile file systems in a folder repository: each one is an error at the file, exit 1, APIM unchanged.

Issue 14: a file symlink loop crashed `validate` (and every command that loads) with a traceback; a
committed symlink into the checkout's own `.git/` was followed. Each case below is one such attack or
a sibling of it, run through `sync` against the emulator: the repository also holds a valid API (a
sync that ignored the error would apply it) and lacks `doomed`, which the baseline sync created (a
sync that ignored the error would delete it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator
from reconciler.manifests import files
from tests.apply.helpers import TOKEN_ENV, api_yaml
from tests.hostile.corpus import Case
from tests.hostile.runner import assert_refused, sync_baseline

SECRET_API = api_yaml("smuggled", path="/smuggled")
"""A valid manifest where the loader must never look: following a link to it would apply it."""


def self_loop(root: Path) -> None:
    (root / "loop.yaml").symlink_to("loop.yaml")


def two_link_loop(root: Path) -> None:
    (root / "a.yaml").symlink_to("b.yaml")
    (root / "b.yaml").symlink_to("a.yaml")


def loop_through_a_folder(root: Path) -> None:
    (root / "sub").mkdir()
    (root / "sub" / "x.yaml").symlink_to("../sub/x.yaml")


def folder_loop(root: Path) -> None:
    (root / "sub").mkdir()
    (root / "sub" / "loop").symlink_to("../sub")


def dangling(root: Path) -> None:
    (root / "gone.yaml").symlink_to("removed.yaml")


def into_git_config(root: Path) -> None:
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n\tbare = false\n")
    (root / "apis.yaml").symlink_to(".git/config")


def to_git_folder(root: Path) -> None:
    (root / ".git").mkdir()
    (root / "git.yaml").symlink_to(".git")


def into_hidden_folder(root: Path) -> None:
    (root / ".github").mkdir()
    (root / ".github" / "smuggled.yaml").write_text(SECRET_API)
    (root / "smuggled.yaml").symlink_to(".github/smuggled.yaml")


def to_hidden_file(root: Path) -> None:
    (root / ".smuggled.yaml").write_text(SECRET_API)
    (root / "smuggled.yaml").symlink_to(".smuggled.yaml")


def deep_link_into_git(root: Path) -> None:
    (root / ".git" / "refs").mkdir(parents=True)
    (root / ".git" / "refs" / "x.yaml").write_text(SECRET_API)
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "x.yaml").symlink_to("../../.git/refs/x.yaml")


def newline_in_name(root: Path) -> None:
    (root / "evil\n\x1b[2Jok.yaml").write_text(SECRET_API)


def non_utf8_name(root: Path) -> None:
    os.close(os.open(os.path.join(os.fsencode(root), b"caf\xe9.yaml"), os.O_CREAT | os.O_WRONLY, 0o644))


def escape_in_link_target(root: Path) -> None:
    (root / "esc.yaml").symlink_to("/nowhere/\x1b[2J\x1b[31mfake")


def device(root: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("creating a device node needs root")
    os.mknod(root / "null.yaml", 0o600 | 0o020000, os.makedev(1, 3))  # a character device, /dev/null's


CASES = [
    Case("symlink-self-loop", {}, "symlink loop", "loop.yaml", 1, setup=self_loop),
    Case("symlink-two-link-loop", {}, "symlink loop", "a.yaml", 1, setup=two_link_loop),
    Case("symlink-loop-via-folder", {}, "symlink loop", "sub/x.yaml", 1, setup=loop_through_a_folder),
    Case("symlinked-folder-loop", {}, "symlinked folder: not followed", "sub/loop", 1, setup=folder_loop),
    Case("dangling-symlink", {}, "symlink points to nothing (removed.yaml", "gone.yaml", 1, setup=dangling),
    Case(
        "symlink-into-git", {}, "symlink points into .git, a hidden folder", "apis.yaml", 1, into_git_config
    ),
    Case("symlink-to-git-folder", {}, "symlinked folder: not followed", "git.yaml", 1, setup=to_git_folder),
    Case("symlink-into-github", {}, "points into .github", "smuggled.yaml", 1, setup=into_hidden_folder),
    Case("symlink-to-hidden-file", {}, "a hidden file", "smuggled.yaml", 1, setup=to_hidden_file),
    Case("deep-symlink-into-git", {}, "points into .git", "a/b/x.yaml", 1, setup=deep_link_into_git),
    Case(
        "newline-in-file-name", {}, "control character U+000A", "evil\\x0a\\x1b[2Jok.yaml", 1, newline_in_name
    ),
    Case("non-utf8-file-name", {}, "file name is not valid UTF-8", "caf\\xe9.yaml", 1, setup=non_utf8_name),
    Case("escape-in-link-target", {}, "/nowhere/\\x1b[2J\\x1b[31mfake", "esc.yaml", 1, escape_in_link_target),
    Case("device-file", {}, "not a regular file", "null.yaml", 1, setup=device),
    Case(
        "too-many-documents",
        {"many.yaml": "---\n" * 10_001},
        "more than 10,000 YAML documents in one file",
        "many.yaml",
    ),
]


@pytest.fixture(scope="module")
def apim() -> Iterator[RunningEmulator]:
    with start_emulator(EmulatorConfig()) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def baseline(apim: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> str:
    return sync_baseline(apim, tmp_path_factory.mktemp("baseline") / "repo")


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "emulator-token")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_file_system_is_refused(
    case: Case, apim: RunningEmulator, baseline: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    errors = assert_refused(case, apim, baseline, tmp_path / "repo", capsys)
    for error in errors:
        message = str(error["message"]) + str(error["file"])
        assert not re.search(r"[\x00-\x08\x0a-\x1f\x7f]", message), f"raw control character in {error}"
        assert "smuggled" not in str(error["message"]) or "symlink" in str(error["message"])


def test_too_many_manifest_files_is_one_clear_error(
    apim: RunningEmulator,
    baseline: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The bound is lowered so that the test writes 40 files, not 100,001: the code path is the same.
    monkeypatch.setattr(files, "MAX_MANIFEST_FILES", 30)
    extra = {f"more/{i:03}.yaml": "# nothing\n" for i in range(40)}
    case = Case("too-many-files", extra, "more than 30 manifest files under this path: refused")
    assert_refused(case, apim, baseline, tmp_path / "repo", capsys)


def test_too_many_folder_entries_is_one_clear_error(
    apim: RunningEmulator,
    baseline: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Entries of any kind count (here README files that are no manifests); lowered as above.
    monkeypatch.setattr(files, "MAX_FOLDER_ENTRIES", 50)
    junk = {f"junk/{i:03}.md": "x\n" for i in range(60)}
    case = Case("too-many-entries", junk, "more than 50 folder entries under this path: refused")
    assert_refused(case, apim, baseline, tmp_path / "repo", capsys)


def test_a_tree_deeper_than_the_recursion_limit_is_one_clear_error(
    apim: RunningEmulator, baseline: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """1,100 nested folders: os.walk (Python 3.11) and Path.resolve recursed, and crashed every command."""
    repo = tmp_path / "repo"
    repo.mkdir()
    make_nested(repo, 1_100)
    try:
        case = Case("folder-tree-too-deep", {}, "folders nested deeper than 64 levels: not read")
        (error,) = [
            e for e in assert_refused(case, apim, baseline, repo, capsys) if "nested" in str(e["message"])
        ]
        assert str(error["file"]).endswith("/d" * 65)
    finally:
        remove_nested(repo)


def make_nested(root: Path, depth: int) -> None:
    folder = os.open(root, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=folder)
        child = os.open("d", os.O_RDONLY, dir_fd=folder)
        os.close(folder)
        folder = child
    os.close(folder)


def remove_nested(root: Path) -> None:
    """rmtree recurses too (pytest's clean-up of tmp_path would crash): remove from the bottom up."""
    chain = [os.open(root, os.O_RDONLY)]
    while True:
        try:
            chain.append(os.open("d", os.O_RDONLY, dir_fd=chain[-1]))
        except FileNotFoundError:
            break
    os.close(chain.pop())
    while chain:
        parent = chain.pop()
        os.rmdir("d", dir_fd=parent)
        os.close(parent)

"""FolderSource, the watch helper and the open_source factory."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from reconciler.source import (
    FileChange,
    FolderSource,
    GitSource,
    SourceError,
    folder_fingerprint,
    open_source,
    watch,
)
from tests.source.gitservers import Upstream

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "manifests"
    (root / "apis").mkdir(parents=True)
    (root / "apis" / "echo.yaml").write_text("kind: ApiV4Definition\n")
    return root


def test_folder_snapshot_is_stable_until_an_edit(folder: Path) -> None:
    src = FolderSource(folder)
    first = src.snapshot()
    assert first.commit.startswith("folder:") and len(first.commit) == len("folder:") + 64
    assert first.root == folder.resolve()
    assert first.ref is None
    assert src.snapshot() is first

    target = folder / "apis" / "echo.yaml"
    target.write_text("kind: ApiV4Definition\nchanged: true\n")
    edited = src.snapshot()
    assert edited.commit != first.commit
    assert src.last_good is edited


@pytest.mark.parametrize("change", ["add", "delete", "rename", "touch"])
def test_fingerprint_sees_every_kind_of_change(change: str, folder: Path) -> None:
    before = folder_fingerprint(folder)
    target = folder / "apis" / "echo.yaml"
    if change == "add":
        (folder / "new.yaml").write_text("x")
    elif change == "delete":
        target.unlink()
    elif change == "rename":
        target.rename(folder / "apis" / "echo2.yaml")
    else:
        stat = target.stat()
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert folder_fingerprint(folder) != before


def test_fingerprint_ignores_git_metadata(folder: Path) -> None:
    before = folder_fingerprint(folder)
    (folder / ".git").mkdir()
    (folder / ".git" / "index").write_text("x")
    assert folder_fingerprint(folder) == before


def test_missing_folder_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not a folder"):
        FolderSource(tmp_path / "nope").snapshot()


def test_watch_yields_a_batch_on_change(folder: Path) -> None:
    stop = threading.Event()
    batches: list[frozenset[FileChange]] = []
    ready = threading.Event()

    def consume() -> None:
        ready.set()
        for batch in watch(folder, stop, debounce_ms=100, step_ms=20):
            batches.append(batch)
            stop.set()

    thread = threading.Thread(target=consume)
    thread.start()
    ready.wait()
    time.sleep(0.3)  # let the watcher start
    deadline = time.monotonic() + 10
    while not batches and time.monotonic() < deadline:
        (folder / "apis" / "new.yaml").write_text(f"t: {time.monotonic()}\n")
        time.sleep(0.3)
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert batches, "no change batch within 10 s"
    changed = {(c.path.name, c.kind) for c in batches[0]}
    assert ("new.yaml", "added") in changed or ("new.yaml", "modified") in changed


def test_watch_stops_when_asked(folder: Path) -> None:
    stop = threading.Event()
    stop.set()
    assert list(watch(folder, stop, step_ms=10)) == []


def test_open_source_picks_the_kind(folder: Path, upstream: Upstream, tmp_path: Path) -> None:
    folder_source = open_source(str(folder))
    assert isinstance(folder_source, FolderSource)
    assert isinstance(open_source(str(folder), path="apis"), FolderSource)
    assert open_source(str(folder), path="apis").snapshot().root.name == "apis"

    git_source = open_source(f"file://{upstream.bare}", cache_dir=tmp_path / "cache")
    assert isinstance(git_source, GitSource)
    assert isinstance(open_source("git@github.com:org/repo.git", cache_dir=tmp_path / "cache"), GitSource)
    # a local repository with a ref is read through the cache at that ref
    pinned = open_source(str(upstream.bare), ref="main", cache_dir=tmp_path / "cache")
    assert isinstance(pinned, GitSource)
    assert pinned.snapshot().root.is_relative_to(tmp_path / "cache")

    with pytest.raises(SourceError, match="neither a git URL nor an existing folder"):
        open_source(str(tmp_path / "missing"))

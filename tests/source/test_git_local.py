"""GitSource against file:// and plain-path remotes: the behaviour that needs no network server."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from reconciler.source import (
    Backoff,
    GitSource,
    RefNotFoundError,
    SourceError,
    SubPathError,
)
from tests.source.gitservers import Upstream, git

pytestmark = pytest.mark.timeout(60)

FAST = Backoff(attempts=2, initial=0.0)


def source(upstream: Upstream, cache_dir: Path, **kwargs: object) -> GitSource:
    return GitSource(f"file://{upstream.bare}", cache_dir=cache_dir, backoff=FAST, **kwargs)  # type: ignore[arg-type]


def test_first_clone_checks_out_the_default_branch(upstream: Upstream, cache_dir: Path) -> None:
    head = git("rev-parse", "HEAD", cwd=upstream.work)
    src = source(upstream, cache_dir)

    snap = src.snapshot()

    assert snap.commit == head
    assert (snap.root / "apis" / "echo.yaml").read_text() == "kind: ApiV4Definition\n"
    assert snap.ref is None
    assert snap.source_url == f"file://{upstream.bare}"
    assert snap.root.is_relative_to(cache_dir)
    assert git("rev-parse", "HEAD", cwd=snap.root) == head
    # shallow: only the one commit was fetched
    assert (snap.root / ".git" / "shallow").exists()
    assert src.last_good == snap


def test_local_path_url_works_like_file_url(upstream: Upstream, cache_dir: Path) -> None:
    snap = GitSource(str(upstream.bare), cache_dir=cache_dir, backoff=FAST).snapshot()
    assert snap.commit == git("rev-parse", "HEAD", cwd=upstream.work)


def test_new_commit_is_picked_up_and_unchanged_remote_is_not_fetched(
    upstream: Upstream, cache_dir: Path
) -> None:
    src = source(upstream, cache_dir)
    first = src.snapshot()
    assert src.fetch_count == 1

    again = src.snapshot()
    assert again is first
    assert src.fetch_count == 1  # the cheap poll: ls-remote only

    second_sha = upstream.commit({"apis/echo.yaml": "kind: ApiV4Definition\nv: 2\n"})
    second = src.snapshot()
    assert second.commit == second_sha
    assert src.fetch_count == 2
    assert (second.root / "apis" / "echo.yaml").read_text().endswith("v: 2\n")


def test_deleted_files_disappear_from_the_checkout(upstream: Upstream, cache_dir: Path) -> None:
    src = source(upstream, cache_dir)
    src.snapshot()
    upstream.commit({"README.md": None})
    snap = src.snapshot()
    assert not (snap.root / "README.md").exists()


def test_force_push_is_followed_without_merge(upstream: Upstream, cache_dir: Path) -> None:
    upstream.commit({"apis/echo.yaml": "old\n"}, "to be rewritten")
    src = source(upstream, cache_dir)
    before = src.snapshot()

    rewritten = upstream.rewrite({"apis/echo.yaml": "rewritten\n"})
    after = src.snapshot()

    assert after.commit == rewritten != before.commit
    assert (after.root / "apis" / "echo.yaml").read_text() == "rewritten\n"
    assert git("status", "--porcelain", cwd=after.root) == ""


def test_sub_path_is_the_snapshot_root(upstream: Upstream, cache_dir: Path) -> None:
    snap = source(upstream, cache_dir, path="apis").snapshot()
    assert snap.root.name == "apis"
    assert (snap.root / "echo.yaml").exists()


def test_missing_sub_path_is_a_typed_error(upstream: Upstream, cache_dir: Path) -> None:
    with pytest.raises(SubPathError, match="nope"):
        source(upstream, cache_dir, path="nope").snapshot()


@pytest.mark.parametrize("bad", ["../etc", "/etc", "a/../../b"])
def test_sub_path_may_not_escape(bad: str, upstream: Upstream, cache_dir: Path) -> None:
    with pytest.raises(ValueError, match="inside the repository"):
        source(upstream, cache_dir, path=bad)


@pytest.mark.parametrize("annotated", [False, True])
def test_pinned_tag(annotated: bool, upstream: Upstream, cache_dir: Path) -> None:
    tagged = upstream.tag("v1.0.0", annotated=annotated)
    upstream.commit({"apis/echo.yaml": "after the tag\n"})
    src = source(upstream, cache_dir, ref="v1.0.0")

    snap = src.snapshot()
    assert snap.commit == tagged
    assert snap.ref == "v1.0.0"
    assert src.snapshot() is snap
    assert src.fetch_count == 1


def test_pinned_branch_other_than_default(upstream: Upstream, cache_dir: Path) -> None:
    feature = upstream.commit({"apis/feature.yaml": "x\n"}, branch="feature")
    snap = source(upstream, cache_dir, ref="feature").snapshot()
    assert snap.commit == feature
    assert (snap.root / "apis" / "feature.yaml").exists()


def test_pinned_commit_that_is_not_a_tip(upstream: Upstream, cache_dir: Path) -> None:
    old = git("rev-parse", "HEAD", cwd=upstream.work)
    upstream.commit({"apis/echo.yaml": "newer\n"})
    src = source(upstream, cache_dir, ref=old)

    snap = src.snapshot()
    assert snap.commit == old
    assert (snap.root / "apis" / "echo.yaml").read_text() == "kind: ApiV4Definition\n"
    # a pinned commit never moves: later polls do not even ask the remote
    calls: list[tuple[str, ...]] = []
    src2 = GitSource(
        f"file://{upstream.bare}",
        old,
        cache_dir=cache_dir,
        backoff=FAST,
        on_spawn=lambda argv, env: calls.append(argv),
    )
    assert src2.snapshot().commit == old
    assert not any("ls-remote" in argv or "fetch" in argv for argv in calls)


def test_unknown_ref_is_a_typed_error(upstream: Upstream, cache_dir: Path) -> None:
    with pytest.raises(RefNotFoundError, match="no-such-branch"):
        source(upstream, cache_dir, ref="no-such-branch").snapshot()


def test_unknown_pinned_commit_is_a_typed_error(upstream: Upstream, cache_dir: Path) -> None:
    with pytest.raises(RefNotFoundError):
        source(upstream, cache_dir, ref="0123456789abcdef0123456789abcdef01234567").snapshot()


def test_default_branch_is_asked_from_the_remote(upstream: Upstream, cache_dir: Path) -> None:
    trunk = upstream.commit({"apis/trunk.yaml": "t\n"}, branch="trunk")
    upstream.set_default_branch("trunk")
    calls: list[tuple[str, ...]] = []
    src = GitSource(
        f"file://{upstream.bare}", cache_dir=cache_dir, backoff=FAST, on_spawn=lambda a, e: calls.append(a)
    )
    assert src.snapshot().commit == trunk
    ls_remote = next(argv for argv in calls if "ls-remote" in argv)
    assert "--symref" in ls_remote and ls_remote[-1] == "HEAD"


def test_working_tree_edits_are_reverted(upstream: Upstream, cache_dir: Path) -> None:
    src = source(upstream, cache_dir)
    snap = src.snapshot()
    (snap.root / "apis" / "echo.yaml").write_text("edited by hand\n")
    (snap.root / "stray.yaml").write_text("x\n")
    (snap.root / "README.md").unlink()

    again = src.snapshot()

    assert again.commit == snap.commit
    assert (again.root / "apis" / "echo.yaml").read_text() == "kind: ApiV4Definition\n"
    assert not (again.root / "stray.yaml").exists()
    assert (again.root / "README.md").exists()
    assert src.fetch_count == 1


def test_garbage_head_in_cache_is_recloned(upstream: Upstream, cache_dir: Path) -> None:
    snap = source(upstream, cache_dir).snapshot()
    (snap.root / ".git" / "HEAD").write_text("garbage\n")

    fresh = source(upstream, cache_dir)
    again = fresh.snapshot()

    assert again.commit == snap.commit
    assert fresh.fetch_count == 1
    assert git("rev-parse", "HEAD", cwd=again.root) == snap.commit


def test_missing_objects_in_cache_are_detected_and_recloned(upstream: Upstream, cache_dir: Path) -> None:
    snap = source(upstream, cache_dir).snapshot()
    blob = git("rev-parse", "HEAD:apis/echo.yaml", cwd=snap.root)
    loose = snap.root / ".git" / "objects" / blob[:2] / blob[2:]
    if not loose.exists():  # packed: remove the packs instead
        for pack in (snap.root / ".git" / "objects" / "pack").glob("*"):
            pack.unlink()
    else:
        os.chmod(loose, 0o644)
        loose.unlink()

    fresh = source(upstream, cache_dir)  # a new process: the cache is checked with fsck
    again = fresh.snapshot()

    assert fresh.fetch_count == 1
    assert (
        subprocess.run(["git", "fsck", "--connectivity-only"], cwd=again.root, capture_output=True).returncode
        == 0
    )
    assert (again.root / "apis" / "echo.yaml").read_text() == "kind: ApiV4Definition\n"


def test_refs_and_urls_are_validated() -> None:
    with pytest.raises(ValueError, match="scheme"):
        GitSource("ext::sh -c touch% /tmp/pwned")
    with pytest.raises(ValueError, match="scheme"):
        GitSource("ftp://example.invalid/repo.git")
    with pytest.raises(ValueError, match="ref"):
        GitSource("file:///tmp/x", ref="--upload-pack=touch")


def test_cache_damaged_while_running_is_recloned_on_the_next_update(
    upstream: Upstream, cache_dir: Path
) -> None:
    src = source(upstream, cache_dir)
    snap = src.snapshot()
    objects = snap.root / ".git" / "objects"
    for entry in objects.iterdir():
        if entry.name not in ("info", "pack") and entry.is_dir():
            shutil.rmtree(entry)
    for pack in (objects / "pack").glob("*"):
        pack.unlink()

    new = upstream.commit({"apis/more.yaml": "m\n"})
    with capture_logs() as logs:
        again = src.snapshot()

    assert again.commit == new
    assert [e["action"] for e in logs if e["event"] == "source.cache_corrupt"] == ["re-clone"]
    assert (again.root / "apis" / "echo.yaml").read_text() == "kind: ApiV4Definition\n"
    assert (
        subprocess.run(["git", "fsck", "--connectivity-only"], cwd=again.root, capture_output=True).returncode
        == 0
    )


def test_failed_reclone_leaves_the_old_files_in_place(
    upstream: Upstream, cache_dir: Path, tmp_path: Path
) -> None:
    snap = source(upstream, cache_dir).snapshot()
    (snap.root / ".git" / "HEAD").write_text("garbage\n")
    moved = tmp_path / "elsewhere.git"
    upstream.bare.rename(moved)  # the remote is gone for now

    with pytest.raises(SourceError):
        source(upstream, cache_dir).snapshot()
    assert (snap.root / "apis" / "echo.yaml").exists()  # the files of the last good snapshot stay
    assert [p.name for p in cache_dir.iterdir() if ".new-" in p.name or ".old-" in p.name] == []

    moved.rename(upstream.bare)
    assert source(upstream, cache_dir).snapshot().commit == snap.commit


def test_unexplained_fetch_failure_checks_the_cache_and_reclones_when_damaged(
    upstream: Upstream, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = source(upstream, cache_dir)
    snap = src.snapshot()
    blob = git("rev-parse", "HEAD:apis/echo.yaml", cwd=snap.root)
    loose = snap.root / ".git" / "objects" / blob[:2] / blob[2:]
    assert loose.exists()
    loose.unlink()  # HEAD still reads: only fsck can tell
    new = upstream.commit({"apis/more.yaml": "m\n"})

    real_fetch = src._fetch
    failures = iter([SourceError("git fetch failed: fatal: unable to read tree")])

    def flaky_fetch(repo: Path, target: object) -> str:
        error = next(failures, None)
        if error is not None and repo == src.checkout_dir:
            raise error
        return real_fetch(repo, target)  # type: ignore[arg-type]

    monkeypatch.setattr(src, "_fetch", flaky_fetch)
    again = src.snapshot()
    assert again.commit == new
    assert (again.root / "apis" / "echo.yaml").read_text() == "kind: ApiV4Definition\n"
    assert (
        subprocess.run(["git", "fsck", "--connectivity-only"], cwd=again.root, capture_output=True).returncode
        == 0
    )


def test_unexplained_fetch_failure_with_a_sound_cache_keeps_it(
    upstream: Upstream, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = source(upstream, cache_dir)
    snap = src.snapshot()
    upstream.commit({"apis/more.yaml": "m\n"})

    def failing_fetch(repo: Path, target: object) -> str:
        raise SourceError("git fetch failed: remote: something odd")

    monkeypatch.setattr(src, "_fetch", failing_fetch)
    with pytest.raises(SourceError, match="something odd"):
        src.snapshot()
    assert git("rev-parse", "HEAD", cwd=snap.root) == snap.commit
    assert src.last_good is snap

"""The git cache's disk fills up: the fetch fails cleanly, the last good commit stays in use, and once
there is room again the source recovers. A real full disk: a 2 MiB tmpfs mounted over the cache
folder (root only; elsewhere the test says why it is skipped)."""

from __future__ import annotations

import os
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.source import GitSource, SourceError
from reconciler.source.backoff import Backoff
from tests.source.gitservers import Upstream

NO_WAIT = Backoff(attempts=1, initial=0.0, factor=1.0, maximum=0.0)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mountpoint = tmp_path / "cache"
    mountpoint.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; CI runs as root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mountpoint)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_a_full_cache_disk_keeps_the_last_good_commit_and_recovers(tmp_path: Path, small_disk: Path) -> None:
    upstream = Upstream(tmp_path / "srv")
    first = upstream.commit({"apis/a.yaml": "kind: x\n"}, "small")
    source = GitSource(f"file://{upstream.bare}", cache_dir=small_disk, backoff=NO_WAIT)
    assert source.snapshot().commit == first

    noise = random.Random(7).randbytes(3 * 1024 * 1024).hex()  # incompressible, bigger than the disk
    upstream.commit({"apis/big.yaml": f"# {noise}\n"}, "too big for the cache")
    with pytest.raises(SourceError) as failure:
        source.snapshot()
    assert "No space left on device" in failure.value.message, failure.value.message
    assert source.last_good is not None and source.last_good.commit == first
    assert (source.last_good.root / "apis" / "a.yaml").read_text() == "kind: x\n"

    fixed = upstream.commit({"apis/big.yaml": None}, "remove the big file")
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    assert source.snapshot().commit == fixed

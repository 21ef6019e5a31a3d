"""`reconcile` called as a library: what it leaves behind in the process (real HTTP to the emulator)."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest

from reconciler.emulator import RunningEmulator
from reconciler.manifests import load_manifests
from reconciler.sync.engine import reconcile
from reconciler.sync.settings import SyncMode, SyncSettings
from tests.apply.helpers import Repo, api_yaml, set_token_env


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator) -> None:
    set_token_env(monkeypatch, emulator.base_url)


def test_the_heap_is_unfrozen_after_a_sync_and_after_one_that_raises(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    # reconcile freezes what exists before it (the manifests) for the cyclic collector; a daemon
    # runs sync after sync, so every one must hand the heap back, whatever happens.
    repo = Repo(tmp_path / "repo", emulator.base_url)
    repo.write("a.yaml", api_yaml("alpha"))
    manifests = load_manifests([repo.root])
    settings = SyncSettings(secrets_dir=None)

    result = asyncio.run(reconcile(manifests, settings, commit="c1", mode=SyncMode.APPLY))
    assert result.ok and result.plan is not None and result.plan.counts()["create"] == 1
    assert gc.get_freeze_count() == 0

    repo.write("b.yaml", api_yaml("beta", path="/beta"))

    def broken_progress(done: int, total: int) -> None:
        raise RuntimeError("progress display failed")

    with pytest.raises(RuntimeError, match="progress display failed"):
        asyncio.run(
            reconcile(
                load_manifests([repo.root]),
                settings,
                commit="c2",
                mode=SyncMode.APPLY,
                progress=broken_progress,
            )
        )
    assert gc.get_freeze_count() == 0

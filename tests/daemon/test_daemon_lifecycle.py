"""The daemon's process life: graceful and bounded shutdown, one process per cache directory,
``--once`` for CI, ``--watch`` for a laptop, and usage errors."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator
from tests.apply.helpers import Repo, api_yaml
from tests.daemon.conftest import StartDaemon
from tests.daemon.support import apis, run_cli, wait_for

pytestmark = pytest.mark.timeout(60)

NAMES = [f"api{i}" for i in range(6)]


@pytest.fixture
def slow_emulator() -> Iterator[RunningEmulator]:
    """300 ms per APIM request: with --concurrency 1, a sync of six APIs takes two seconds or more."""
    with start_emulator(EmulatorConfig(latency_ms=300)) as emu:
        yield emu


def slow_repo(tmp_path: Path, emulator: RunningEmulator) -> Repo:
    repo = Repo(tmp_path / "manifests", emulator.base_url)
    for name in NAMES:
        repo.write(f"{name}.yaml", api_yaml(name))
    return repo


def test_sigterm_lets_the_sync_in_flight_finish_then_exits_0(
    start_daemon: StartDaemon, slow_emulator: RunningEmulator, tmp_path: Path, cache_dir: Path
) -> None:
    repo = slow_repo(tmp_path, slow_emulator)
    daemon = start_daemon(repo.root, "--concurrency", "1", "--cache-dir", cache_dir)
    wait_for(lambda: daemon.events("daemon.sync_started"), "the sync to start")
    assert apis(slow_emulator) != dict.fromkeys(NAMES, "An API")  # still in flight
    daemon.signal(signal.SIGTERM)
    wait_for(lambda: daemon.client.get("/readyz").status_code == 503, "readiness to drop while stopping")
    assert daemon.wait_exit(timeout=30) == 0
    assert apis(slow_emulator) == dict.fromkeys(NAMES, "An API")  # the sync finished
    (stopping,) = daemon.events("daemon.stopping")
    assert stopping["sync_in_flight"] is True
    assert daemon.events("daemon.sync_succeeded") and daemon.events("daemon.stopped")[0]["exit_code"] == 0


def test_a_sync_past_the_shutdown_timeout_is_cancelled_and_exits_1(
    start_daemon: StartDaemon, slow_emulator: RunningEmulator, tmp_path: Path, cache_dir: Path
) -> None:
    repo = slow_repo(tmp_path, slow_emulator)
    daemon = start_daemon(
        repo.root, "--concurrency", "1", "--shutdown-timeout", "0.2", "--cache-dir", cache_dir
    )
    wait_for(lambda: daemon.events("daemon.sync_started"), "the sync to start")
    daemon.signal(signal.SIGTERM)
    assert daemon.wait_exit(timeout=20) == 1
    assert daemon.events("daemon.shutdown_timeout")
    assert daemon.events("daemon.sync_cancelled")
    assert len(apis(slow_emulator)) < len(NAMES)


def test_a_second_process_on_the_same_cache_dir_is_refused(
    start_daemon: StartDaemon, folder: Repo, cache_dir: Path
) -> None:
    folder.write("alpha.yaml", api_yaml("alpha"))
    first = start_daemon(folder.root, "--cache-dir", cache_dir)
    second = run_cli("run", folder.root, "--cache-dir", cache_dir, "--listen", "127.0.0.1:0", timeout=30)
    assert second.returncode == 1
    last = second.stderr.strip().splitlines()[-1]
    assert last.startswith("apim-reconciler: error: another apim-reconciler")
    assert f"(pid {first.proc.pid})" in last and str(cache_dir / "reconciler.lock") in last
    assert first.client.get("/healthz").status_code == 200  # the first one is not disturbed
    # and --once, too, waits for no one: it is refused at once
    once = run_cli("run", folder.root, "--once", "--cache-dir", cache_dir, timeout=30)
    assert once.returncode == 1 and "already running" in once.stderr


def test_once_exits_like_sync(
    folder: Repo, emulator: RunningEmulator, tmp_path: Path, cache_dir: Path
) -> None:
    folder.write("alpha.yaml", api_yaml("alpha"))
    ok = run_cli("run", folder.root, "--once", "--output", "json", "--cache-dir", cache_dir)
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["ok"] is True and report["commit"].startswith("folder:")
    assert apis(emulator) == {"alpha": "An API"}

    folder.write("broken.yaml", api_yaml("broken").replace("type: PROXY", "type: SOAP"))
    invalid = run_cli("run", folder.root, "--once", "--cache-dir", cache_dir)
    assert invalid.returncode == 1
    assert f"{folder.root}/broken.yaml:11:" in invalid.stderr

    missing = run_cli("run", f"file://{tmp_path}/no-such.git", "--once", "--cache-dir", cache_dir)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1].startswith("apim-reconciler: error: ")


def test_watch_resyncs_on_each_saved_change(
    start_daemon: StartDaemon, folder: Repo, emulator: RunningEmulator, cache_dir: Path
) -> None:
    folder.write("alpha.yaml", api_yaml("alpha"))
    # a long interval: only the file watcher can explain a quick sync
    daemon = start_daemon("--watch", folder.root, "--interval", "300", "--cache-dir", cache_dir)
    wait_for(lambda: daemon.syncs() == 1, "the first sync")
    folder.write("alpha.yaml", api_yaml("alpha", description="Edited"))
    wait_for(lambda: apis(emulator).get("alpha") == "Edited", "the edit to be applied", timeout=15)
    assert daemon.events("daemon.files_changed")
    assert "watch" in daemon.events("daemon.sync_started")[-1]["reason"]


def test_usage_errors_exit_64(folder: Repo, cache_dir: Path) -> None:
    assert run_cli("run", "--cache-dir", cache_dir).returncode == 64  # no SOURCE
    bad_listen = run_cli("run", folder.root, "--listen", "8080", "--cache-dir", cache_dir)
    assert bad_listen.returncode == 64 and "HOST:PORT" in bad_listen.stderr
    assert run_cli("run", folder.root, "--interval", "0", "--cache-dir", cache_dir).returncode == 64
    no_secret = run_cli("run", folder.root, "--webhook-secret-file", "/nonexistent", "--cache-dir", cache_dir)
    assert no_secret.returncode == 64 and "cannot read the webhook secret file" in no_secret.stderr


def test_triggers_during_a_sync_queue_exactly_one_more(
    start_daemon: StartDaemon, slow_emulator: RunningEmulator, tmp_path: Path, cache_dir: Path
) -> None:
    repo = slow_repo(tmp_path, slow_emulator)
    daemon = start_daemon(repo.root, "--concurrency", "1", "--interval", "300", "--cache-dir", cache_dir)
    wait_for(lambda: daemon.events("daemon.sync_started"), "the first sync to start")
    for count in (1, 2, 3):  # one at a time: the kernel merges a signal sent while one is pending
        daemon.signal(signal.SIGHUP)
        wait_for(lambda n=count: len(daemon.events("daemon.triggered")) == n, "the trigger to be seen")
    assert all(t["queued"] for t in daemon.events("daemon.triggered"))
    wait_for(lambda: len(daemon.events("daemon.sync_succeeded")) == 2, "the queued sync", timeout=30)
    with pytest.raises(AssertionError):  # and no third one follows
        wait_for(lambda: len(daemon.events("daemon.sync_started")) > 2, "a third sync", timeout=1.0)
    assert [s["reason"] for s in daemon.events("daemon.sync_started")] == ["start", "sighup"]

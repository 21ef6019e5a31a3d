"""The daemon following a git repository: new commits, a broken commit, git and APIM outages."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator
from tests.apply.helpers import Repo, api_yaml, context_yaml, token_env
from tests.daemon.conftest import StartDaemon
from tests.daemon.support import apis, clean_env, wait_for
from tests.source.gitservers import GitDaemon, Upstream, free_port

pytestmark = pytest.mark.timeout(90)

BROKEN = api_yaml("broken").replace("type: PROXY", "type: SOAP")


def seed(upstream: Upstream, base_url: str) -> str:
    return upstream.commit({"context.yaml": context_yaml(base_url), "alpha.yaml": api_yaml("alpha")}, "first")


def test_new_commits_are_picked_up_and_every_sync_line_names_its_commit(
    start_daemon: StartDaemon,
    upstream: Upstream,
    git_daemon: GitDaemon,
    emulator: RunningEmulator,
    cache_dir: Path,
) -> None:
    first = seed(upstream, emulator.base_url)
    daemon = start_daemon(git_daemon.url(upstream.relative), "--interval", "0.3", "--cache-dir", cache_dir)
    wait_for(lambda: daemon.status()["lastAppliedRevision"] == first, "the first commit to be applied")
    assert daemon.status()["source"] == git_daemon.url(upstream.relative)

    second = upstream.commit({"beta.yaml": api_yaml("beta")}, "add beta")
    wait_for(lambda: daemon.status()["lastAppliedRevision"] == second, "the second commit to be applied")
    assert sorted(apis(emulator)) == ["alpha", "beta"]
    labels = [k[1] for k in daemon.metrics() if k[0] == "apim_reconciler_last_applied_commit_info"]
    assert labels == [(("commit", second),)]
    resources = {r["name"]: r for r in daemon.status()["resources"]}
    assert resources["beta"]["position"] == "beta.yaml:1:1"  # named as in the repository

    # the polls in between found nothing to do, and said so at debug level only
    started = daemon.events("daemon.sync_started")
    assert [s["commit"] for s in started] == [first, second]
    by_sync: dict[str, set[str]] = {}
    for line in daemon.logs():
        if "sync_id" in line:
            by_sync.setdefault(line["sync_id"], set()).add(line["event"])
            if line["event"].startswith("daemon.sync_"):
                assert line["commit"] in (first, second), line
    assert len([s for s in by_sync.values() if "daemon.sync_succeeded" in s]) == 2


def test_a_broken_commit_changes_nothing_and_is_reported_with_file_and_line(
    start_daemon: StartDaemon, upstream: Upstream, emulator: RunningEmulator, cache_dir: Path
) -> None:
    first = seed(upstream, emulator.base_url)
    daemon = start_daemon(f"file://{upstream.bare}", "--interval", "0.3", "--cache-dir", cache_dir)
    wait_for(lambda: daemon.client.get("/readyz").status_code == 200, "readiness")

    broken = upstream.commit({"alpha.yaml": api_yaml("alpha", description="Changed"), "broken.yaml": BROKEN})
    wait_for(lambda: daemon.status()["lastAttemptedRevision"] == broken, "the broken commit to be tried")
    status = daemon.status()
    assert status["lastAppliedRevision"] == first
    conditions = {c["type"]: c for c in status["conditions"]}
    assert (conditions["Ready"]["status"], conditions["Ready"]["reason"]) == ("False", "ValidationFailed")
    assert broken in conditions["Ready"]["message"] and "broken.yaml:11:" in conditions["Ready"]["message"]
    assert conditions["Stalled"]["status"] == "True"
    errors = [p for p in status["problems"] if p["severity"] == "error"]
    assert [(p["file"], p["line"]) for p in errors] == [("broken.yaml", 11)]
    ready = daemon.client.get("/readyz")
    assert ready.status_code == 503 and "ValidationFailed" in ready.json()["reason"]
    assert daemon.syncs("invalid") >= 1
    assert apis(emulator) == {"alpha": "An API"}  # APIM as it was: not even the valid change
    (failed, *_) = daemon.events("daemon.sync_failed")
    assert failed["commit"] == broken and failed["outcome"] == "invalid"

    fixed = upstream.commit({"broken.yaml": None}, "fix")
    wait_for(lambda: daemon.status()["lastAppliedRevision"] == fixed, "the fixed commit to be applied")
    assert apis(emulator) == {"alpha": "Changed"}
    assert daemon.client.get("/readyz").status_code == 200


def test_git_server_down_keeps_the_last_good_commit_and_recovers(
    start_daemon: StartDaemon,
    upstream: Upstream,
    git_daemon: GitDaemon,
    emulator: RunningEmulator,
    cache_dir: Path,
) -> None:
    first = seed(upstream, emulator.base_url)
    daemon = start_daemon(git_daemon.url(upstream.relative), "--interval", "0.3", "--cache-dir", cache_dir)
    wait_for(lambda: daemon.status()["lastAppliedRevision"] == first, "the first commit to be applied")

    git_daemon.stop()
    wait_for(lambda: daemon.status()["sourceError"], "the source error to be reported", timeout=30)
    status = daemon.status()
    assert status["sourceError"]["retryable"] is True
    assert status["lastAppliedRevision"] == first
    ready = {c["type"]: c for c in status["conditions"]}["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "SourceFailed")
    assert daemon.client.get("/readyz").status_code == 503
    assert daemon.metrics()[("apim_reconciler_source_errors_total", ())] >= 1
    assert apis(emulator) == {"alpha": "An API"}

    second = upstream.commit({"beta.yaml": api_yaml("beta")})
    git_daemon.start()
    wait_for(lambda: daemon.status()["lastAppliedRevision"] == second, "recovery", timeout=30)
    assert daemon.status()["sourceError"] is None
    assert sorted(apis(emulator)) == ["alpha", "beta"]
    assert daemon.client.get("/readyz").status_code == 200


def test_apim_down_then_back_is_retried_until_applied(
    start_daemon: StartDaemon, tmp_path: Path, cache_dir: Path
) -> None:
    port = free_port()
    config = EmulatorConfig(port=port, state_file=tmp_path / "apim-state.json")
    emulator = start_emulator(config)
    try:
        repo = Repo(tmp_path / "manifests", emulator.base_url)
        repo.write("alpha.yaml", api_yaml("alpha"))
        env = clean_env(**token_env(emulator.base_url))
        daemon = start_daemon(repo.root, "--interval", "0.3", "--cache-dir", cache_dir, env=env)
        wait_for(lambda: daemon.client.get("/readyz").status_code == 200, "readiness")

        emulator.close()
        repo.write("beta.yaml", api_yaml("beta"))
        wait_for(lambda: daemon.syncs("failure") >= 1, "a failed sync while APIM is down", timeout=30)
        status = daemon.status()
        ready = {c["type"]: c for c in status["conditions"]}["Ready"]
        assert (ready["status"], ready["reason"]) == ("False", "ReconciliationFailed")
        assert status["failures"] and status["failures"][0]["context"] == "ManagementContext/default/apim"
        assert status["lastAppliedRevision"] != status["lastAttemptedRevision"]
        failing = daemon.client.get("/readyz")
        assert failing.status_code == 503 and "ReconciliationFailed" in failing.json()["reason"]

        emulator = start_emulator(config)  # same port, same stored state
        wait_for(lambda: daemon.client.get("/readyz").status_code == 200, "recovery", timeout=30)
        assert sorted(apis(emulator)) == ["alpha", "beta"]
        assert daemon.status()["lastAppliedRevision"] == daemon.status()["lastAttemptedRevision"]
    finally:
        emulator.close()

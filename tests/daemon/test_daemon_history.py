"""``/status`` keeps the last five syncs, newest first, each with its revision, outcome, counts,
start time and duration; and a sync stopped before its plan is a failure, not a refused repository."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.daemon.status import HISTORY_SIZE, StatusBoard, sync_outcome
from reconciler.emulator import RunningEmulator
from reconciler.identity import IdentityStatus
from reconciler.manifests.model import ManifestSet, Position, Problem, ResourceId, Severity
from reconciler.sync.result import ContextFailure, SyncResult
from reconciler.sync.settings import SyncMode
from tests.apply.helpers import Repo, api_yaml
from tests.daemon.conftest import StartDaemon
from tests.daemon.support import REPO_ROOT, wait_for

pytestmark = pytest.mark.timeout(90)

NO_ACTIONS = {
    "create": 0,
    "update": 0,
    "delete": 0,
    "unchanged": 0,
    "drifted": 0,
    "conflict": 0,
    "blocked": 0,
    "skipped": 0,
    "failed": 0,
}


def counts(**changed: int) -> dict[str, int]:
    return NO_ACTIONS | changed


def test_the_history_holds_the_last_five_syncs_newest_first(
    start_daemon: StartDaemon, folder: Repo, emulator: RunningEmulator, cache_dir: Path
) -> None:
    folder.write("alpha.yaml", api_yaml("alpha"))
    daemon = start_daemon(folder.root, "--interval", "120", "--cache-dir", cache_dir)
    done = 0

    def synced() -> dict[str, Any]:
        nonlocal done
        done += 1
        return wait_for(lambda: (s := daemon.status())["syncs"] == done and s, f"sync {done}")

    first = synced()
    assert len(first["history"]) == 1 and first["history"][0]["counts"] == counts(create=1)
    steps = [  # (change to the repository, what the sync it triggers does)
        (lambda: folder.write("beta.yaml", api_yaml("beta")), counts(create=1, unchanged=1)),
        (
            lambda: folder.write("alpha.yaml", api_yaml("alpha", description="Changed")),
            counts(update=1, unchanged=1),
        ),
        (lambda: folder.write("gamma.yaml", "kind: [unclosed\n"), None),
        (lambda: folder.write("gamma.yaml", api_yaml("gamma")), counts(create=1, unchanged=2)),
        # one API of three is past the prune threshold (25 %): the deletion is blocked
        (lambda: folder.remove("beta.yaml"), counts(blocked=1, unchanged=2)),
        (lambda: None, counts(blocked=1, unchanged=2)),  # SIGHUP syncs even when nothing changed
    ]
    statuses = [first]
    for change, _ in steps:
        change()
        daemon.signal(signal.SIGHUP)
        statuses.append(synced())

    history = statuses[-1]["history"]
    assert len(history) == HISTORY_SIZE == 5
    # newest first: the last five syncs, each as /status described it when it had just ended
    assert [h["revision"] for h in history] == [s["lastAttemptedRevision"] for s in reversed(statuses[-5:])]
    assert [h["counts"] for h in history] == [c for _, c in reversed(steps[-5:])]
    assert history == [s["history"][0] for s in reversed(statuses[-5:])]  # entries do not change
    assert [h["outcome"] for h in history] == ["failure", "failure", "success", "invalid", "success"]
    assert [h["reason"] for h in history] == ["sighup", "sighup, new commit", *["sighup, new commit"] * 3]
    assert all(h["failedContexts"] == 0 for h in history)
    # per context (one here, so its line is the whole sync's); none for the commit that read nothing
    assert [h["contexts"] for h in history] == [
        None if c is None else {"default/apim": {"ok": h["ok"], "counts": c, "error": None}}
        for h, (_, c) in zip(history, reversed(steps[-5:]), strict=True)
    ]
    assert [h["ok"] for h in history] == [False, False, True, False, True]
    assert [h["manifestErrors"] for h in history] == [0, 0, 0, 1, 0]
    started = [datetime.fromisoformat(h["startedAt"]) for h in history]
    assert started == sorted(started, reverse=True)
    assert all(h["durationSeconds"] >= 0 for h in history)
    # the fields of the last sync are still there, and agree with the newest entry
    last = statuses[-1]["lastSync"]
    assert (last["revision"], last["outcome"], last["durationSeconds"]) == (
        history[0]["revision"],
        history[0]["outcome"],
        history[0]["durationSeconds"],
    )


def _result(commit: str, **fields: Any) -> SyncResult:
    return SyncResult(commit=commit, mode=SyncMode.APPLY, manifests=ManifestSet((), (), 0), **fields)


def test_a_crashed_sync_is_in_the_history_and_the_bound_holds() -> None:
    clock = [datetime(2026, 1, 1, tzinfo=UTC)]
    mono = [100.0]
    board = StatusBoard(
        "git://x/r.git", None, ready_within=60, clock=lambda: clock[0], monotonic=lambda: mono[0]
    )
    for number in range(7):
        board.sync_started("interval", f"c{number}")
        mono[0] += 2.5
        clock[0] += timedelta(seconds=2.5)
        if number == 6:
            board.record_crash("unexpected error: RuntimeError: a bug")
        else:
            board.record_result(_result(f"c{number}"), 2.5)
        board.sync_ended()
        clock[0] += timedelta(seconds=60)
    history = board.to_json()["history"]
    assert [h["revision"] for h in history] == ["c6", "c5", "c4", "c3", "c2"]
    crashed = history[0]
    assert crashed == {
        "revision": "c6",
        "reason": "interval",
        "startedAt": "2026-01-01T00:06:15Z",
        "durationSeconds": 2.5,
        "outcome": "error",
        "ok": False,
        "counts": None,
        "contexts": None,
        "failedContexts": None,
        "manifestErrors": None,
    }
    assert history[1]["startedAt"] == "2026-01-01T00:05:12.500000Z"
    # a crash outside a sync (taking the snapshot, say) is not a sync
    board.record_crash("unexpected error: RuntimeError: a bug in a source")
    assert board.to_json()["history"] == history


def test_a_sync_stopped_before_its_plan_is_a_failure_not_invalid() -> None:
    context = ResourceId("ManagementContext", "default", "apim")
    stopped = _result(
        "c1",
        failures=(ContextFailure(context, "interrupted", "stopped before it was planned"),),
        interrupted="interrupted by SIGTERM",
    )
    assert sync_outcome(stopped) == "failure"
    broken = SyncResult(
        commit="c2",
        mode=SyncMode.APPLY,
        manifests=ManifestSet((), (Problem(Severity.ERROR, "bad", Position("x.yaml", 3, 2)),), 1),
    )
    assert sync_outcome(broken) == "invalid"
    board = StatusBoard("git://x/r.git", None, ready_within=60)
    board.record_result(stopped, 1.0)
    stalled = {c["type"]: c for c in board.to_json()["conditions"]}["Stalled"]
    assert stalled["status"] == "False"  # retried at the next tick: there is nothing to fix by hand


def test_the_documented_status_document_has_the_fields_served() -> None:
    text = (REPO_ROOT / "docs" / "daemon.md").read_text()
    example = json.loads(text.split("```json\n", 1)[1].split("```", 1)[0])
    board = StatusBoard("git://x/r.git", None, ready_within=60)
    board.sync_started("start", "c1")
    board.record_result(_result("c1"), 0.5)
    board.record_identities([IdentityStatus("default/apim", ok=True)])
    served = board.to_json()
    assert set(example) == set(served)
    assert [set(entry) for entry in example["history"]] == [set(served["history"][0])] * 2
    assert set(example["identities"][0]) == set(served["identities"][0])
    section = text.split("### Status document", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(row.split("|")[1] for row in section.splitlines() if row.startswith("| `"))
    assert {key for key in served if f"`{key}`" not in table and f"`{key}[" not in table} == set()

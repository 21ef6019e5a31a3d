"""SIGTERM or Ctrl-C during a sync: the report still says what was applied, and APIM agrees with it.

A real `python -m reconciler sync` process against the emulator with latency, signalled while it
writes; then APIM is read back and compared with the report, action by action. A stopped sync
starts nothing new, lets the writes in flight finish (a short grace period), prints the whole report
in the chosen format and exits 128 + the signal's number, as shells report it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from reconciler.apply.interrupt import Stop
from reconciler.cli import main
from reconciler.emulator import Fault, RunningEmulator
from reconciler.manifests import load_manifests
from reconciler.report import sync as sync_report
from reconciler.sync.engine import reconcile
from reconciler.sync.settings import SyncMode, SyncSettings
from tests.apply.helpers import Repo, api_yaml, set_token_env, token_env

REPO_ROOT = Path(__file__).resolve().parents[2]
PUTS = "PUT /automation/organizations/{orgId}/environments/{envId}/apis"
APIS = 24


def names_in_apim(emulator: RunningEmulator) -> set[str]:
    listed = httpx.post(
        f"{emulator.base_url}/management/v2/organizations/DEFAULT/environments/DEFAULT/apis/_search",
        params={"perPage": 100},
        json={},
        headers={"Authorization": "Bearer emulator-token"},
    ).json()
    return {item["name"] for item in listed["data"]}


def repository(root: Path, emulator: RunningEmulator) -> Repo:
    repo = Repo(root, emulator.base_url)
    for i in range(APIS):
        repo.write(f"api{i:02d}.yaml", api_yaml(f"api{i:02d}"))
    return repo


def start_sync(repo: Repo, emulator: RunningEmulator, *flags: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APIM_", "RECONCILER_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sync", str(repo.root), "--concurrency", "2", *flags],
        cwd=REPO_ROOT,
        env={**env, **token_env(emulator.base_url)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_puts(emulator: RunningEmulator, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while emulator.stats()["requests"].get(PUTS, 0) < count:
        assert process.poll() is None, "the sync ended before it could be interrupted"
        assert time.monotonic() < deadline, "the sync never started writing"
        time.sleep(0.01)


def applied_in_text(report: str) -> set[str]:
    """The resources whose `=> applied` line follows their title in the text report."""
    applied, current = set(), None
    for line in report.splitlines():
        title = re.search(r"ApiV4Definition/default/(\w+)", line)
        if title:
            current = title.group(1)
        elif line.strip() == "=> applied" and current:
            applied.add(current)
    return applied


def applied_in_json(report: str) -> set[str]:
    data = json.loads(report)
    assert data["interrupted"] == "interrupted by SIGTERM"
    outcomes = [a for a in data["actions"] if "outcome" in a]
    assert len(outcomes) == APIS  # every write has its fate: applied, failed or interrupted
    assert any(a["outcome"].get("interrupted") for a in outcomes)
    assert data["applied"]["interrupted"] == sum(1 for a in outcomes if a["outcome"].get("interrupted"))
    return {a["resource"]["name"] for a in outcomes if a["outcome"]["ok"]}


def applied_in_markdown(report: str) -> set[str]:
    assert "⏹ not run: the sync was stopped before it" in report
    return {m.group(1) for m in re.finditer(r"`ApiV4Definition/default/(\w+)`.*✅", report)}


@pytest.mark.parametrize(
    ("signum", "output", "parse"),
    [
        (signal.SIGTERM, "json", applied_in_json),
        (signal.SIGINT, "text", applied_in_text),
        (signal.SIGTERM, "markdown", applied_in_markdown),
    ],
    ids=["sigterm-json", "sigint-text", "sigterm-markdown"],
)
def test_a_signal_mid_apply_reports_what_was_applied_and_apim_agrees(
    signum: int,
    output: str,
    parse: Callable[[str], set[str]],
    tmp_path: Path,
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    emulator = make_emulator(latency_ms=60)
    repo = repository(tmp_path / "repo", emulator)
    process = start_sync(repo, emulator, "--output", output)
    wait_for_puts(emulator, 4, process)
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 128 + signum, err
    assert f"{signal.Signals(signum).name}: starting nothing new" in err
    applied = parse(out)
    assert applied, "nothing was reported as applied, though writes were seen"
    assert len(applied) < APIS, "the signal did not land in the middle of the sync"
    assert names_in_apim(emulator) == applied  # the report is the truth about APIM
    if output != "json":
        assert f"Interrupted: interrupted by {signal.Signals(signum).name}" in out


def test_a_second_signal_exits_at_once_without_a_report(
    tmp_path: Path, make_emulator: Callable[..., RunningEmulator]
) -> None:
    """Every write hangs: the first SIGTERM waits for them (the grace period, 10 s); the second does not."""
    emulator = make_emulator()
    emulator.set_faults([Fault.parse("PUT */apis=hang")])
    repo = repository(tmp_path / "repo", emulator)
    process = start_sync(repo, emulator, "--output", "json")
    wait_for_puts(emulator, 2, process)
    process.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)  # only a guard against a hang: no clock is asserted
    # the second signal ended it, not the grace period (that would print a report): code, message, no output
    assert process.returncode == 143
    assert out == "" and "SIGTERM again: exiting at once" in err


def test_writes_cut_off_after_the_grace_period_are_reported_as_such(
    tmp_path: Path, make_emulator: Callable[..., RunningEmulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process, with a short grace period: writes that hang past it are cancelled and reported as
    interrupted in flight (APIM may or may not have them); the others as not run."""
    emulator = make_emulator()
    emulator.set_faults([Fault.parse("PUT */apis=hang")])
    set_token_env(monkeypatch, emulator.base_url)
    repo = repository(tmp_path / "repo", emulator)
    manifests = load_manifests([repo.root])
    settings = SyncSettings(concurrency=2, secrets_dir=None)

    async def go() -> str:
        stop = Stop(grace_period=0.3)
        sync = asyncio.ensure_future(
            reconcile(manifests, settings, commit="c1", mode=SyncMode.APPLY, stop=stop)
        )
        while emulator.stats()["requests"].get(PUTS, 0) < 2:
            await asyncio.sleep(0.01)
        stop.set("interrupted by SIGTERM", signal=signal.SIGTERM)
        result = await asyncio.wait_for(sync, 10)
        assert not result.ok and result.interrupted == "interrupted by SIGTERM"
        return sync_report.render_json(result)

    data = json.loads(asyncio.run(go()))
    errors = [a["outcome"]["error"] for a in data["actions"] if "outcome" in a]
    assert len(errors) == APIS
    assert sum("interrupted in flight" in e for e in errors) == 2
    assert sum(e == "not run: the sync was stopped before it" for e in errors) == APIS - 2
    assert data["applied"] == {
        "succeeded": 0,
        "failed": 0,
        "interrupted": APIS,
        "text": f"Applied: 0 succeeded, 0 failed, {APIS} not done (interrupted)",
    }


def test_the_sync_deadline_stops_it_and_the_report_matches_apim(
    tmp_path: Path,
    make_emulator: Callable[..., RunningEmulator],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = make_emulator(latency_ms=150)
    set_token_env(monkeypatch, emulator.base_url)
    repo = repository(tmp_path / "repo", emulator)
    started = time.monotonic()
    code = main(["sync", str(repo.root), "--concurrency", "1", "--sync-timeout", "1.5", "--output", "json"])
    elapsed = time.monotonic() - started
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert "--sync-timeout" in data["interrupted"]
    applied = {a["resource"]["name"] for a in data["actions"] if a.get("outcome", {}).get("ok")}
    assert names_in_apim(emulator) == applied
    assert len(applied) < APIS
    assert elapsed >= 1.5  # stopped by its deadline, not before it (no upper bound: the machine is shared)

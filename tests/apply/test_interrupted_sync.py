"""A sync killed with SIGKILL in the middle converges on the next run: nothing duplicated or lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reconciler.emulator import EmulatorConfig, start_emulator
from tests.apply.helpers import Repo, actions, api_yaml, app_yaml, run_json, set_token_env, token_env

REPO_ROOT = Path(__file__).resolve().parents[2]
PUTS = "PUT /automation/organizations/{orgId}/environments/{envId}/apis"


def test_kill_9_mid_sync_then_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with start_emulator(EmulatorConfig(latency_ms=40)) as emulator:
        set_token_env(monkeypatch, emulator.base_url)
        repo = Repo(tmp_path / "repo", emulator.base_url)
        for i in range(30):
            repo.write(f"api{i:02d}.yaml", api_yaml(f"api{i:02d}"))
        repo.write("app.yaml", app_yaml("app"))
        process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "sync", str(repo.root), "--concurrency", "2"],
            cwd=REPO_ROOT,
            env={**os.environ, **token_env(emulator.base_url)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while emulator.stats()["requests"].get(PUTS, 0) < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        created_before = emulator.stats()["requests"].get(PUTS, 0)
        assert 6 <= created_before < 30, "the kill did not land in the middle of the sync"

        code, report = run_json(capsys, "sync", str(repo.root))
        assert code == 0, report
        kinds = list(actions(report).values())
        assert kinds.count("create") + kinds.count("unchanged") == 31
        assert kinds.count("create") >= 31 - created_before

        with httpx.Client(
            base_url=emulator.base_url, headers={"Authorization": "Bearer emulator-token"}
        ) as http:
            listed = http.post(
                "/management/v2/organizations/DEFAULT/environments/DEFAULT/apis/_search",
                params={"perPage": 100},
                json={},
            ).json()
        names = sorted(item["name"] for item in listed["data"])
        assert names == [f"api{i:02d}" for i in range(30)]
        code, report = run_json(capsys, "diff", str(repo.root), "--exit-code")
        assert code == 0, report

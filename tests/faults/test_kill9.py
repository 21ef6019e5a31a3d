"""SIGKILL at 20 random points of a large sync; each time a clean sync converges with no duplicate."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from reconciler.cli import main
from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator
from tests.apply.helpers import Repo, api_yaml, app_yaml, set_token_env, token_env

REPO_ROOT = Path(__file__).resolve().parents[2]
APIS = 60


def writes(emulator: RunningEmulator) -> int:
    return sum(
        count for key, count in emulator.stats()["requests"].items() if key.startswith(("PUT", "DELETE"))
    )


def test_kill_9_at_twenty_random_points(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(20261123)
    with start_emulator(EmulatorConfig(latency_ms=20)) as emulator:
        set_token_env(monkeypatch, emulator.base_url)
        repo = Repo(tmp_path / "repo", emulator.base_url)
        interrupted = 0  # rounds where the killed process had written some, but not all
        for round_ in range(20):
            # each round changes a random third of the APIs and replaces a few: real work to interrupt
            changed = 0
            for i in range(APIS):
                if round_ == 0 or rng.random() < 0.33:
                    repo.write(f"api{i:03d}.yaml", api_yaml(f"api{i:03d}", description=f"round {round_}"))
                    changed += 1
            repo.write("app.yaml", app_yaml(f"app{round_ % 3}"))
            emulator.reset_stats()
            process = subprocess.Popen(
                [sys.executable, "-m", "reconciler", "sync", str(repo.root), "--concurrency", "4"],
                cwd=REPO_ROOT,
                env={**os.environ, **token_env(emulator.base_url)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            kill_after = rng.randint(1, max(1, changed - 1))  # a random point among this round's writes
            deadline = time.monotonic() + 30
            while writes(emulator) < kill_after and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            written_before_kill = sum(
                count
                for key, count in emulator.stats()["requests"].items()
                if key.startswith(("PUT", "DELETE"))
            )

            code = main(["sync", str(repo.root), "--output", "json"])
            report = json.loads(capsys.readouterr().out)
            interrupted += written_before_kill > 0 and report["summary"]["hasChanges"]
            assert code == 0, (
                round_,
                report["failures"],
                [a for a in report["actions"] if a.get("outcome", {}).get("ok") is False],
            )
            with httpx.Client(
                base_url=emulator.base_url, headers={"Authorization": "Bearer emulator-token"}
            ) as http:
                listed = http.post(
                    "/management/v2/organizations/DEFAULT/environments/DEFAULT/apis/_search",
                    params={"perPage": 1000},
                    json={},
                ).json()["data"]
                apps = http.get(
                    "/management/organizations/DEFAULT/environments/DEFAULT/applications/_paged",
                    params={"size": 100},
                ).json()["data"]
            assert sorted(item["name"] for item in listed) == [f"api{i:03d}" for i in range(APIS)]
            assert [a["name"] for a in apps] == [f"app{round_ % 3}"]
            assert main(["diff", str(repo.root), "--exit-code"]) == 0
            capsys.readouterr()
        assert interrupted >= 15, f"only {interrupted} kills landed in the middle of a sync"

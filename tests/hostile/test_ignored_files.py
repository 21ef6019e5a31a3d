"""A manifest kept out by `.sourceignore` is never a silent deletion: the report names what was not
read, and the prune guards stand between it and APIM."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator
from tests.apply.helpers import Repo, actions, api_yaml, run_json, set_token_env


@pytest.fixture
def apim(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningEmulator]:
    with start_emulator(EmulatorConfig()) as emulator:
        set_token_env(monkeypatch, emulator.base_url)
        yield emulator


def _synced(apim: RunningEmulator, root: Path, names: list[str], capsys: pytest.CaptureFixture[str]) -> Repo:
    repo = Repo(root, apim.base_url)
    for name in names:
        repo.write(f"{name}.yaml", api_yaml(name))
    code, _ = run_json(capsys, "sync", str(root))
    assert code == 0
    return repo


def test_an_ignored_manifest_is_reported_and_its_mass_deletion_blocked(
    apim: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _synced(apim, tmp_path / "repo", ["kept", "hidden"], capsys)
    before = json.dumps(apim.dump_state(), sort_keys=True)
    repo.write(".sourceignore", "hidden.yaml\n")

    code, report = run_json(capsys, "sync", str(repo.root))

    assert code == 1  # one of two APIs: over the 25% threshold, refused
    assert actions(report)["hidden"] == "blocked"
    (warning,) = [p for p in report["problems"] if p["severity"] == "warning"]
    assert warning["message"].startswith(
        f"1 path not read (.sourceignore or Flux's default exclusions): {repo.root}/hidden.yaml;"
    )
    assert json.dumps(apim.dump_state(), sort_keys=True) == before, "APIM changed"


def test_an_ignored_manifest_within_the_guards_is_deleted_as_the_report_says(
    apim: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = ["a", "b", "c", "d", "e"]
    repo = _synced(apim, tmp_path / "repo", names, capsys)
    repo.write(".sourceignore", "/e.yaml\n")

    code, report = run_json(capsys, "diff", str(repo.root))

    assert code == 0
    assert actions(report)["e"] == "delete"
    assert [p["message"][:17] for p in report["problems"]] == ["1 path not read ("]
    code, report = run_json(capsys, "sync", str(repo.root))
    assert code == 0 and actions(report)["e"] == "delete"
    code, report = run_json(capsys, "diff", str(repo.root), "--exit-code")
    assert code == 0 and "e" not in actions(report)

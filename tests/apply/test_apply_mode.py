"""``--mode apply`` (decK's gateway apply): creates and updates, never deletes, and says so in a way
distinct from ``--no-prune``; the CLI against the emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.emulator import RunningEmulator
from reconciler.sync.deletions import KEPT_REASON
from tests.apply.helpers import Repo, actions, api_yaml, run_json, set_token_env
from tests.apply.test_sync_e2e import api_names


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator) -> None:
    set_token_env(monkeypatch, emulator.base_url)


@pytest.fixture
def repo(tmp_path: Path, emulator: RunningEmulator) -> Repo:
    repo = Repo(tmp_path / "repo", emulator.base_url)
    for name in ("alpha", "beta"):
        repo.write(f"{name}.yaml", api_yaml(name))
    return repo


def test_apply_mode_creates_and_updates_and_keeps_what_left_the_repository(
    capsys: pytest.CaptureFixture[str], repo: Repo, emulator: RunningEmulator
) -> None:
    assert run_json(capsys, "sync", str(repo.root))[0] == 0
    # every owned API leaves the repository: the prune guard would block it all, and hold the
    # creation of gamma back with it; apply mode deletes nothing, so nothing needs guarding
    repo.remove("alpha.yaml")
    repo.remove("beta.yaml")
    repo.write("gamma.yaml", api_yaml("gamma"))

    code, guarded = run_json(capsys, "diff", str(repo.root))
    assert actions(guarded) == {"alpha": "blocked", "beta": "blocked", "gamma": "blocked"}

    code, no_prune = run_json(capsys, "diff", str(repo.root), "--no-prune")
    assert actions(no_prune) == {"alpha": "skipped", "beta": "skipped", "gamma": "create"}
    assert no_prune["deletions"]["policy"] == "prune-disabled" and no_prune["deletions"]["kept"] == 2
    assert no_prune["deletions"]["text"].startswith("Prune disabled (--no-prune")

    code, applied = run_json(capsys, "sync", str(repo.root), "--mode", "apply")
    assert code == 0 and applied["ok"]
    assert actions(applied) == {"alpha": "skipped", "beta": "skipped", "gamma": "create"}
    kept = [a for a in applied["actions"] if a["action"] == "skipped"]
    assert all(a["reason"].endswith(KEPT_REASON) and "prune is disabled" not in a["reason"] for a in kept)
    assert applied["deletions"] == {
        "policy": "never",
        "kept": 2,
        "text": "Apply mode (--mode apply): creates and updates only, never deletes; 2 object(s) no longer "
        "in the repository kept in APIM, moved resources' old copies included.",
    }
    assert applied["requests"].get("DELETE", 0) == 0
    assert api_names(emulator) == ["alpha", "beta", "gamma"]

    # the same run in the other formats says the same
    for output, marker in (("text", "Apply mode (--mode apply)"), ("markdown", "_Apply mode (--mode apply)")):
        assert main(["diff", str(repo.root), "--mode", "apply", "--output", output]) == 0
        assert marker in capsys.readouterr().out
    assert main(["diff", str(repo.root), "--output", "text"]) == 1  # reconcile mode: still blocked
    assert "Apply mode" not in capsys.readouterr().out


def test_apply_mode_refuses_force_prune(capsys: pytest.CaptureFixture[str], repo: Repo) -> None:
    assert main(["sync", str(repo.root), "--mode", "apply", "--force-prune"]) == 64
    assert "--force-prune has nothing to force with --mode apply" in capsys.readouterr().err

"""Unreadable and vanishing files: a problem at the file, loading goes on with the others, nothing applied.

Permission bits do not stop root, and these tests often run as root (containers, CI). Then the CLI
runs in a child process without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (`setpriv`), the two
capabilities that let root read what its mode forbids: the process is otherwise the real CLI, against
the real emulator.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator
from reconciler.manifests.files import discover, read_text
from reconciler.manifests.model import Problem
from tests.apply.helpers import TOKEN_ENV, Repo, api_yaml
from tests.hostile.runner import sync_baseline


@pytest.fixture(scope="module")
def apim() -> Iterator[RunningEmulator]:
    with start_emulator(EmulatorConfig()) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def baseline(apim: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> str:
    return sync_baseline(apim, tmp_path_factory.mktemp("baseline") / "repo")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process that permission bits do stop, even when we are root."""
    command = [sys.executable, "-m", "reconciler", *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: permission bits cannot be tested")
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", *command]
    env = {**os.environ, TOKEN_ENV: "emulator-token"}
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, check=False)


def sync_json(repo: Path) -> tuple[int, dict[str, Any], str]:
    result = run_cli("sync", str(repo), "--output", "json")
    return result.returncode, json.loads(result.stdout), result.stderr


def repository(root: Path, base_url: str) -> Repo:
    repo = Repo(root, base_url)
    repo.write("valid.yaml", api_yaml("valid"))
    return repo


@pytest.mark.parametrize("what", ["file", "folder"])
def test_unreadable_file_or_folder_is_an_error_there_and_nothing_is_applied(
    what: str, apim: RunningEmulator, baseline: str, tmp_path: Path
) -> None:
    apim.load_state(json.loads(baseline))
    repo = repository(tmp_path / "repo", apim.base_url)
    repo.write("fresh.yaml", api_yaml("fresh"))  # would be created if the error were ignored
    repo.write("typo.yaml", api_yaml("typo").replace("listeners:", "listners:"))  # read after the lock
    if what == "file":
        locked = repo.root / "locked.yaml"
        locked.write_text(api_yaml("locked", path="/locked"))
        locked.chmod(0)
    else:
        locked = repo.root / "locked"
        locked.mkdir()
        (locked / "api.yaml").write_text(api_yaml("locked", path="/locked"))
        locked.chmod(0)
    try:
        code, report, stderr = sync_json(repo.root)
    finally:
        locked.chmod(0o755)

    assert code == 1, stderr
    assert "Traceback" not in stderr
    errors = [(p["file"], p["line"], p["message"]) for p in report["problems"] if p["severity"] == "error"]
    reason = "cannot read: Permission denied" if what == "file" else "cannot read folder: Permission denied"
    assert [(f, line) for f, line, m in errors if m.startswith(reason)] == [(str(locked), 1)], errors
    # the files after it were still read (one more problem found), and nothing was applied or deleted
    assert any(f == str(repo.root / "typo.yaml") and "unknown field 'listners'" in m for f, _, m in errors)
    assert json.dumps(apim.dump_state(), sort_keys=True) == baseline


def test_a_file_that_vanishes_between_listing_and_reading(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(api_yaml("a"))
    (tmp_path / "b.yaml").write_text(api_yaml("b"))
    sources, problems = discover([tmp_path])
    assert not problems and [s.path.name for s in sources] == ["a.yaml", "b.yaml"]
    (tmp_path / "a.yaml").unlink()  # as a `git checkout` or an editor would, between the two steps
    gone, kept = (read_text(s) for s in sources)
    assert isinstance(gone, Problem) and gone.message == "file disappeared while it was being read"
    assert gone.position is not None and gone.position.file == str(tmp_path / "a.yaml")
    assert not isinstance(kept, Problem) and "name: b" in kept.text

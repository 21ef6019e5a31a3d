"""The hostile corpus: a clear error with file and line, exit 1, and the emulator's state unchanged."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.emulator import EmulatorConfig, RunningEmulator, start_emulator
from tests.apply.helpers import Repo, api_yaml, set_token_env
from tests.hostile.corpus import CASES, Case


@pytest.fixture(scope="module")
def apim() -> Iterator[RunningEmulator]:
    with start_emulator(EmulatorConfig()) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def baseline(apim: RunningEmulator, tmp_path_factory: pytest.TempPathFactory) -> str:
    """APIM after a sync of two APIs, `valid` and `doomed`; every case starts from it."""
    with pytest.MonkeyPatch.context() as patch:
        set_token_env(patch, apim.base_url)
        repo = Repo(tmp_path_factory.mktemp("baseline") / "repo", apim.base_url)
        repo.write("valid.yaml", api_yaml("valid"))
        repo.write("doomed.yaml", api_yaml("doomed"))
        assert main(["sync", str(repo.root)]) == 0
    return json.dumps(apim.dump_state(), sort_keys=True)


def build(case: Case, root: Path, base_url: str) -> Path:
    if case.keep_valid:
        repo = Repo(root, base_url)
        repo.write("valid.yaml", api_yaml("valid"))
    else:
        root.mkdir(parents=True)
    for name, content in case.files.items():
        path = root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    if case.setup is not None:
        case.setup(root)
    return root


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_repository(
    case: Case,
    apim: RunningEmulator,
    baseline: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    set_token_env(monkeypatch, apim.base_url)
    apim.load_state(json.loads(baseline))
    repo = build(case, tmp_path / "repo", apim.base_url)

    code = main(["sync", str(repo), "--output", "json", *case.flags])
    report = json.loads(capsys.readouterr().out)

    assert code == 1
    errors = [p for p in report["problems"] if p["severity"] == "error"] + [
        {"message": f["message"], "file": None, "line": None} for f in report["failures"]
    ]
    assert errors, report
    if case.expect:
        assert any(case.expect in e["message"] for e in errors), errors
    if case.file is not None:
        located = [e for e in errors if e["file"] and e["file"].endswith(case.file)]
        assert located, f"no error names {case.file}: {errors}"
        if case.line is not None:
            assert any(e["line"] == case.line for e in located), located
    if not case.keep_valid:
        for name in case.files:
            assert any(e["file"] and e["file"].endswith(name) for e in errors), f"{name} not reported"
    assert report["actions"] == [] or not any(a.get("outcome") for a in report["actions"])
    assert json.dumps(apim.dump_state(), sort_keys=True) == baseline, "APIM changed"


def test_the_corpus_is_large_and_distinct() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert all(re.fullmatch(r"[a-z0-9-]+", c.id) for c in CASES)

"""Running a hostile repository through `sync` and checking that it was refused and changed nothing.

Shared by the hostile corpus (tests/hostile) and the security suites (tests/security).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.emulator import RunningEmulator
from tests.apply.helpers import Repo, api_yaml, set_token_env
from tests.hostile.corpus import Case


def sync_baseline(apim: RunningEmulator, root: Path) -> str:
    """APIM after a sync of two APIs, `valid` and `doomed`; every case starts from it."""
    with pytest.MonkeyPatch.context() as patch:
        set_token_env(patch, apim.base_url)
        repo = Repo(root, apim.base_url)
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
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    if case.setup is not None:
        case.setup(root)
    return root


def assert_refused(
    case: Case, apim: RunningEmulator, baseline: str, root: Path, capsys: pytest.CaptureFixture[str]
) -> list[dict[str, object]]:
    """`sync` of the case's repository: exit 1, an error naming the file (and line), APIM unchanged
    (the valid API not rewritten, `doomed` not deleted). The errors, for further checks."""
    apim.load_state(json.loads(baseline))
    repo = build(case, root, apim.base_url)

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
    return errors

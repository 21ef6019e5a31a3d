"""A secret removed from git, or replaced by a plain value, is still in APIM until the sync: the
plan that removes it must not print what APIM holds (issue 14, critical 2). End to end, every format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.emulator import RunningEmulator
from tests.apply.helpers import Repo, api_yaml, set_token_env

CANARY = "canary-live-header-5e4d3c2b1a"
HEADER = '            headers:\n              - name: X-Api-Key\n                value: "[[ secret `backend/header` ]]"\n'
TARGET = "            target: https://orders.example.com\n"


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator) -> None:
    set_token_env(monkeypatch, emulator.base_url)


@pytest.mark.parametrize(
    "replacement",
    ["", "            headers:\n              - name: X-Api-Key\n                value: plain\n"],
)
def test_the_value_apim_holds_is_masked_when_git_drops_the_secret(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, emulator: RunningEmulator, replacement: str
) -> None:
    secrets = tmp_path / "secrets" / "backend"
    secrets.mkdir(parents=True)
    (secrets / "header").write_text(CANARY)
    flags = ["--secrets-dir", str(tmp_path / "secrets")]
    repo = Repo(tmp_path / "repo", emulator.base_url)
    repo.write("orders.yaml", api_yaml("orders").replace(TARGET, TARGET + HEADER))
    assert main(["sync", str(repo.root), *flags]) == 0
    capsys.readouterr()
    repo.write("orders.yaml", api_yaml("orders").replace(TARGET, TARGET + replacement))
    (secrets / "header").unlink()  # gone from the secrets too: only the record can tell
    outputs = []
    for output in ("text", "json", "markdown"):
        assert main(["diff", str(repo.root), *flags, "--output", output, "--verbose"]) == 0
        captured = capsys.readouterr()
        outputs.append(captured.out + captured.err)
    assert all(CANARY not in text and CANARY[:12] not in text for text in outputs)
    report = json.loads(outputs[1])
    (change,) = [c for a in report["actions"] for c in a["changes"]]
    assert change["sensitive"] is True and "(sensitive)" in json.dumps(change["old"])
    assert "(sensitive)" in outputs[0] and "(sensitive)" in outputs[2]

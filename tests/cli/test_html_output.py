"""`diff`/`sync --output html` and `--html-report FILE`, run as a user runs them against the emulator."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from reconciler.emulator import RunningEmulator
from tests.apply.helpers import Repo, api_yaml, token_env
from tests.daemon.support import run_cli
from tests.report.htmlcheck import assert_only_our_markup, parse

pytestmark = pytest.mark.timeout(120)


def _env(emulator: RunningEmulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RECONCILER_", "APIM_"))}
    return env | token_env(emulator.base_url)


def test_the_html_report_goes_to_a_file_beside_any_output(tmp_path: Path, emulator: RunningEmulator) -> None:
    repo = Repo(tmp_path / "repo", emulator.base_url)
    repo.write("alpha.yaml", api_yaml("alpha"))
    report = tmp_path / "out" / "plan.html"
    report.parent.mkdir()
    diff = run_cli("diff", repo.root, "--output", "json", "--html-report", report, env=_env(emulator))
    assert diff.returncode == 0, diff.stderr
    data = json.loads(diff.stdout)  # stdout holds only the JSON document
    page = parse(report.read_text(encoding="utf-8"))
    assert data["summary"]["text"] == "Plan: 1 to create, 0 to update, 0 to delete"
    assert data["summary"]["text"] in page.all_text and "apim-reconciler diff" in page.all_text
    assert "ApiV4Definition/default/alpha" in page.all_text
    assert_only_our_markup(page, scripts=0)
    assert [p.name for p in report.parent.iterdir()] == ["plan.html"]  # no temporary file left

    sync = run_cli("sync", repo.root, "--output", "html", env=_env(emulator))
    assert sync.returncode == 0, sync.stderr
    shown = parse(sync.stdout).all_text
    assert "apim-reconciler sync" in shown and "Applied: 1 succeeded, 0 failed" in shown

    again = run_cli(
        "run", repo.root, "--once", "--html-report", report, "--cache-dir", tmp_path / "c", env=_env(emulator)
    )
    assert again.returncode == 0, again.stderr
    assert "No changes. APIM matches the repository." in parse(report.read_text()).all_text
    assert "No changes. APIM matches the repository." in again.stdout  # the text report, as without the flag


def test_a_report_that_cannot_be_written_fails_the_run_after_the_report(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    repo = Repo(tmp_path / "repo", emulator.base_url)
    repo.write("alpha.yaml", api_yaml("alpha"))
    missing = tmp_path / "no-such-folder" / "plan.html"
    result = run_cli("diff", repo.root, "--html-report", missing, env=_env(emulator))
    assert result.returncode == 1
    assert "Plan: 1 to create" in result.stdout  # the report was printed first
    assert f"cannot write --html-report {missing}: No such file or directory" in result.stderr
    assert not missing.parent.exists()


def test_the_daemon_takes_no_report_file(tmp_path: Path) -> None:
    result = run_cli("run", tmp_path, "--html-report", tmp_path / "x.html", "--listen", "")
    assert result.returncode == 64
    assert "--html-report writes the report of one sync: with --once only" in result.stderr

"""Migrating from GKO, with GKO's own examples: everything GKO wrote into APIM (v4 and v2 APIs,
applications) is exported, then adopted without a single field change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.emulator import RunningEmulator
from tests.apply.helpers import actions, gko_examples_repo, run_json
from tests.export.helpers import differences, load_yaml, mount_exported_secrets, strip_ownership, v2_contents


def test_gko_examples_export_and_adopt_without_a_diff(
    tmp_path: Path, emulator: RunningEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, flags = gko_examples_repo(tmp_path, emulator.base_url)
    context = repo / "management_context" / "dev-ctx.yml"
    code, report = run_json(capsys, "sync", str(repo), *flags)
    assert code == 0, report["failures"]
    assert strip_ownership(emulator) >= 40  # now they look like GKO's, not ours

    out = tmp_path / "export"
    code = main(["export", "--context", "dev-ctx", "--out", str(out), str(repo)])
    stdout = capsys.readouterr().out
    assert code == 0, stdout
    exported = sorted(out.rglob("*.yaml"))
    v4_apis = [p for p in exported if load_yaml(p)["kind"] == "ApiV4Definition"]
    v2_apis = [p for p in exported if load_yaml(p)["kind"] == "ApiDefinition"]
    apps = [p for p in exported if load_yaml(p)["kind"] == "Application"]
    assert len(v4_apis) >= 15 and len(v2_apis) >= 10 and len(apps) >= 3, stdout
    assert "; 0 skipped." in stdout

    # The values that the export replaced by templates, mounted as the user would after reading stdout.
    secrets = tmp_path / "export-secrets"
    mount_exported_secrets(emulator, out, secrets)
    shutil.copy(context, out / "dev-ctx.yaml")
    flags = ["--secrets-dir", str(secrets)]

    before = v2_contents(emulator)
    code, report = run_json(capsys, "diff", str(out), *flags)
    assert code == 1 and set(actions(report).values()) == {"conflict"}, actions(report)
    code, report = run_json(capsys, "sync", str(out), "--adopt", *flags)
    assert code == 0, (report["problems"], report["failures"])
    assert set(actions(report).values()) == {"update"}
    assert len(report["actions"]) == len(v4_apis) + len(v2_apis) + len(apps)
    changed = {a["resource"]["name"]: a["changes"] for a in report["actions"] if a["changes"]}
    assert changed == {}, changed
    # No read shows a v2 API's fields in a plan: APIM's own export does, the same but for our record.
    assert differences(before, v2_contents(emulator)) == []

    code, report = run_json(capsys, "diff", str(out), *flags, "--exit-code", "--full-read")
    assert code == 0 and set(actions(report).values()) == {"unchanged"}, actions(report)

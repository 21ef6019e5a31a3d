"""Every GKO example manifest survives a round trip through APIM with no diff (LESSONS: false diffs).

The examples are synced into the emulator (their ManagementContext pointed at it; the Secrets and
ConfigMaps they ship written into mounted-secret folders, as a cluster would mount them), then
planned again: every resource must be unchanged, including with a full read of each one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.emulator import RunningEmulator
from tests.apply.helpers import actions, gko_examples_repo, run_json


def test_every_example_round_trips_without_a_diff(
    tmp_path: Path, emulator: RunningEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, flags = gko_examples_repo(tmp_path, emulator.base_url)

    code, report = run_json(capsys, "sync", str(repo), *flags)
    failed = [
        (a["resource"]["name"], a["outcome"])
        for a in report["actions"]
        if not a.get("outcome", {"ok": True})["ok"]
    ]
    assert code == 0, (failed, report["problems"], report["failures"])
    created = actions(report)
    assert len(created) >= 40 and set(created.values()) == {"create"}

    for extra in ([], ["--full-read"]):
        code, report = run_json(capsys, "diff", str(repo), *flags, "--exit-code", *extra)
        changed = {
            a["resource"]["name"]: a["changes"] for a in report["actions"] if a["action"] != "unchanged"
        }
        assert code == 0 and not changed, changed
